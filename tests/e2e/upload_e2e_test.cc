// Job uploads that go wrong leave nothing behind on the JobManager: one that
// stalls is cancelled after jobmanager.upload.timeout with its partial file
// removed, and the library of a refused job is removed too.
#include "absl/strings/str_join.h"
#include "tests/e2e/cluster_fixture.h"

namespace sluice::e2e {
namespace {

class UploadE2eTest : public JobE2eTest {
 protected:
  std::string ExtraConfig() override { return "jobmanager.upload.timeout: 1 s\n"; }
  // What the JobManager keeps in its library directory (its default work dir).
  std::vector<std::string> StoredLibraryFiles() {
    std::vector<std::string> names;
    const auto pids = Pids("jobmanager");
    if (pids.empty()) return names;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(
             absl::StrCat("/tmp/sluice-jobmanager-", pids.front(), "/libraries"), error)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }
};

TEST_F(UploadE2eTest, AStalledUploadIsCancelledAndItsPartialFileRemoved) {
  const std::string library = ReadFile(kTestJobs);
  v1::JobSubmission submission;
  submission.set_job_name("Failing");
  submission.set_library_sha256(Sha256::Of(library));
  submission.set_library_size(static_cast<int64_t>(library.size()));
  auto stub = v1::JobManager::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", jm_port_),
                                                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::JobStatus status;
  auto writer = stub->SubmitJob(&context, &status);
  v1::SubmitJobRequest first;
  *first.mutable_submission() = submission;
  ASSERT_TRUE(writer->Write(first));
  v1::SubmitJobRequest chunk;
  chunk.set_library_chunk(library.substr(0, 4096));
  ASSERT_TRUE(writer->Write(chunk));
  // The partial upload is on disk while it lasts...
  EXPECT_TRUE(WaitFor([&] {
    for (const auto& name : StoredLibraryFiles()) {
      if (name.rfind(".upload-", 0) == 0) return true;
    }
    return false;
  }));
  // ...then the client stalls: the JobManager ends the call long before the
  // client's own 30 s deadline.
  const absl::Time stalled = absl::Now();
  grpc::Status ended = writer->Finish();
  EXPECT_FALSE(ended.ok());
  EXPECT_NE(ended.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << "the client gave up first";
  EXPECT_LT(absl::Now() - stalled, absl::Seconds(25));
  EXPECT_TRUE(WaitFor([&] { return StoredLibraryFiles().empty(); }))
      << "left behind: " << absl::StrJoin(StoredLibraryFiles(), ", ");
  EXPECT_THAT(DaemonLog("jobmanager"), HasSubstr("did not complete within 1s"));
  // And the JobManager still takes jobs.
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-p 2 -c Failing ", kTestJobs));
  EXPECT_THAT(run.output, HasSubstr("record 5000 is cursed"));
}

TEST_F(UploadE2eTest, ARefusedJobsLibraryIsRemovedAndAnAcceptedOnesKept) {
  CommandResult refused = Sluice(
      absl::StrCat("run", Jm(), "-c MisbehavesInTheJobManager ", kTestJobs, " -- --how exit"));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_THAT(refused.output, HasSubstr("building its graph failed"));
  EXPECT_TRUE(WaitFor([&] { return StoredLibraryFiles().empty(); }))
      << "left behind: " << absl::StrJoin(StoredLibraryFiles(), ", ");
  CommandResult accepted = Sluice(absl::StrCat("run", Jm(), "-p 2 -c Failing ", kTestJobs));
  EXPECT_THAT(accepted.output, HasSubstr("record 5000 is cursed"));
  EXPECT_EQ(StoredLibraryFiles(),
            std::vector<std::string>{Sha256::Of(ReadFile(kTestJobs)) + ".so"});
  // A refused job with the library of an accepted one leaves it in place.
  refused = Sluice(
      absl::StrCat("run", Jm(), "-c MisbehavesInTheJobManager ", kTestJobs, " -- --how exit"));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_EQ(StoredLibraryFiles().size(), 1u);
}

}  // namespace
}  // namespace sluice::e2e
