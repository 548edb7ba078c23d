// The JobManager's graph builder: a real sluice-graph-builder process runs
// the test jobs' build functions. Whatever they do (crash, exit, hang, eat
// memory) comes back as this submission's error, naming how the helper
// ended, and the calling process carries on.
#include "jobmanager/graph_builder_process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "engine/job_library.h"
#include "tests/testing/test_job_deployment.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

class GraphBuilderProcessTest : public ::testing::Test {
 protected:
  absl::StatusOr<uint64_t> Build(const std::string& job, std::vector<std::string> args = {},
                                 const std::string& library = testing::kTestJobsLibrary) {
    std::promise<absl::StatusOr<uint64_t>> answer;
    builder_->Build(GraphBuildRequest{library, job, std::move(args), 2, 0},
                    [&answer](absl::StatusOr<uint64_t> hash) { answer.set_value(hash); });
    auto future = answer.get_future();
    // Bounded: the builder's own deadline is 3 s.
    if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      ADD_FAILURE() << "no answer";
      return absl::DeadlineExceededError("test");
    }
    return future.get();
  }

  std::unique_ptr<GraphBuilderProcess> builder_ = std::make_unique<GraphBuilderProcess>(
      DefaultGraphBuilderPath(), GraphBuildLimits{absl::Seconds(3), int64_t{512} << 20});
};

TEST_F(GraphBuilderProcessTest, BuildsTheSameGraphAsLoadingTheLibraryHere) {
  auto here =
      engine::JobLibrary::Load(testing::kTestJobsLibrary).value()->Build("Unbounded", {}, 2);
  ASSERT_TRUE(here.ok()) << here.status();
  auto built = Build("Unbounded");
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(*built, here->Hash());
}

TEST_F(GraphBuilderProcessTest, ItsOwnErrorsComeBackAsTheyAre) {
  EXPECT_THAT(std::string(Build("NoSuchJob").status().message()),
              HasSubstr("has no job named 'NoSuchJob'"));
  const auto dir = std::filesystem::temp_directory_path() /
                   ("sluice-graph-builder-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(testing::kTestJobsLibrary, dir / "truncated.so");
  std::filesystem::resize_file(dir / "truncated.so", 4096);
  auto truncated = Build("Unbounded", {}, (dir / "truncated.so").string());
  std::filesystem::remove_all(dir);
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(truncated.status().message()), HasSubstr("the file is truncated"));
}

TEST_F(GraphBuilderProcessTest, ACrashInTheBuildFunctionIsNamedWithItsSignal) {
  auto segfault = Build("MisbehavesInTheJobManager", {"--how", "segfault"});
  EXPECT_EQ(segfault.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(segfault.status().message()),
              HasSubstr("job 'MisbehavesInTheJobManager': building its graph failed: the graph "
                        "builder was killed by signal 11 (Segmentation fault)"));
  EXPECT_THAT(
      std::string(Build("MisbehavesInTheJobManager", {"--how", "abort"}).status().message()),
      HasSubstr("killed by signal 6 (Aborted)"));
}

TEST_F(GraphBuilderProcessTest, AnExitInTheBuildFunctionIsNamedWithItsStatus) {
  auto exited = Build("MisbehavesInTheJobManager", {"--how", "exit"});
  EXPECT_EQ(exited.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(exited.status().message()),
              HasSubstr("the graph builder exited with status 0 in the job's code, before it "
                        "built the graph"));
}

TEST_F(GraphBuilderProcessTest, AHangingBuildFunctionIsKilledAtTheDeadline) {
  auto hung = Build("MisbehavesInTheJobManager", {"--how", "hang"});
  EXPECT_EQ(hung.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(hung.status().message()),
              HasSubstr("its build function did not finish within 3 s "
                        "(jobmanager.graph-builder.timeout); it was killed"));
}

TEST_F(GraphBuilderProcessTest, MemoryIsLimited) {
  auto hoarded = Build("MisbehavesInTheJobManager", {"--how", "allocate"});
  EXPECT_EQ(hoarded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(hoarded.status().message()), HasSubstr("std::bad_alloc"));
}

TEST_F(GraphBuilderProcessTest, SlowBuildsDoNotHoldUpOthers) {
  std::promise<absl::StatusOr<uint64_t>> slow;
  builder_->Build(
      GraphBuildRequest{
          testing::kTestJobsLibrary, "MisbehavesInTheJobManager", {"--how", "hang"}, 1, 0},
      [&slow](absl::StatusOr<uint64_t> hash) { slow.set_value(hash); });
  auto quick = Build("Unbounded");
  EXPECT_TRUE(quick.ok()) << quick.status();
  auto slow_answer = slow.get_future();
  EXPECT_NE(slow_answer.wait_for(std::chrono::milliseconds(0)), std::future_status::ready)
      << "the quick build was answered while the slow one still ran";
  builder_.reset();  // kills it: answered CANCELLED
  ASSERT_EQ(slow_answer.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(slow_answer.get().status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace sluice
