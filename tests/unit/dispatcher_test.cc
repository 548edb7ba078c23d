// The Dispatcher checks submissions on its submit worker and keeps its job
// table on its main executor, here queues this thread runs; the user's build
// function runs in the graph builder (here the test answers for it), never on
// the caller's (in the daemon a gRPC) thread, and the table changes only on main.
#include "jobmanager/dispatcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "absl/synchronization/mutex.h"
#include "tests/testing/fake_gateways.h"
#include "tests/testing/queue_executor.h"
#include "tests/testing/test_job_deployment.h"

namespace sluice {
namespace {

using testing::FakeResourceManager;
using testing::FakeTaskManagers;
using ::testing::HasSubstr;
using testing::QueueExecutor;

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() {
    auto worker = std::make_unique<QueueExecutor>();
    worker_ = worker.get();
    auto main = std::make_unique<QueueExecutor>();
    main_ = main.get();
    dispatcher_ = std::make_unique<Dispatcher>(
        [this](std::string id, v1::JobSubmission submission, JobGraph graph,
               std::shared_ptr<Executor> executor) {
          JobMasterServices services;
          services.executor = std::move(executor);
          services.resource_manager = &rm_;  // from the job's mailbox thread only
          services.task_managers = tms_.gateways();
          return JobMaster::Create(std::move(id), std::move(submission), std::move(graph),
                                   std::move(services));
        },
        [this](GraphBuildRequest request, auto done) {
          builds_.push_back(Build{std::move(request), std::move(done)});
        },
        [] { return 0; }, JobHistoryLimits{}, std::move(worker), std::move(main));
  }

  static v1::JobSubmission Submission(const std::string& job_name) {
    auto deployment = testing::TestJobDeployment("Unbounded", "unused", "tm", {"alloc"});
    EXPECT_TRUE(deployment.ok()) << deployment.status();
    v1::JobSubmission submission;
    submission.set_job_name(job_name);
    submission.set_library_sha256(deployment->library_sha256());
    submission.set_parallelism(1);
    *submission.mutable_graph() = deployment->graph();
    return submission;
  }

  using Answer = std::optional<absl::StatusOr<v1::JobStatus>>;
  void Submit(const v1::JobSubmission& submission, Answer& answer) {
    dispatcher_->Submit(submission, testing::kTestJobsLibrary,
                        [&answer](absl::StatusOr<v1::JobStatus> status) { answer = status; });
  }

  // What the graph builder was asked; the test answers.
  struct Build {
    GraphBuildRequest request;
    std::function<void(absl::StatusOr<uint64_t>)> done;
  };
  std::vector<Build> builds_;
  FakeResourceManager rm_;
  FakeTaskManagers tms_;
  QueueExecutor* worker_ = nullptr;  // the Dispatcher's
  QueueExecutor* main_ = nullptr;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, ASubmissionIsCheckedAndStartedOnTheSubmitWorker) {
  Answer answer;
  const v1::JobSubmission submission = Submission("Unbounded");
  Submit(submission, answer);
  EXPECT_FALSE(answer.has_value());
  EXPECT_TRUE(builds_.empty()) << "nothing is checked or built on the caller's thread";
  EXPECT_EQ(worker_->RunUntilIdle(), 1);
  ASSERT_EQ(builds_.size(), 1u) << "the graph is built by the graph builder";
  EXPECT_EQ(builds_[0].request.library_path, testing::kTestJobsLibrary);
  EXPECT_EQ(builds_[0].request.job_name, "Unbounded");
  EXPECT_EQ(builds_[0].request.parallelism, 1);
  EXPECT_FALSE(answer.has_value());
  builds_[0].done(submission.graph().hash());
  EXPECT_FALSE(answer.has_value()) << "the builder's answer is handled on the submit worker";
  EXPECT_EQ(worker_->RunUntilIdle(), 1);
  EXPECT_FALSE(answer.has_value()) << "accepted on the main executor";
  EXPECT_TRUE(dispatcher_->List().empty());
  EXPECT_EQ(main_->RunUntilIdle(), 1);
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok()) << answer->status();
  EXPECT_EQ((*answer)->name(), "Unbounded");
  EXPECT_NE(dispatcher_->Find((*answer)->job_id()), nullptr);
  EXPECT_EQ(dispatcher_->List().size(), 1u);
}

TEST_F(DispatcherTest, CancelAnswersOnceTheJobMasterHandledItWithoutBlocking) {
  Answer submitted;
  Submit(Submission("Unbounded"), submitted);
  worker_->RunUntilIdle();
  ASSERT_EQ(builds_.size(), 1u);
  builds_[0].done(Submission("Unbounded").graph().hash());
  worker_->RunUntilIdle();
  main_->RunUntilIdle();
  ASSERT_TRUE(submitted.has_value() && submitted->ok());
  const std::string id = (*submitted)->job_id();

  absl::Mutex mu;
  std::optional<absl::StatusOr<v1::JobStatus>> cancelled;
  dispatcher_->Cancel(id, "the test", [&](absl::StatusOr<v1::JobStatus> status) {
    absl::MutexLock lock(&mu);
    cancelled = std::move(status);
  });
  // The JobMaster runs on a mailbox thread of its own: wait (bounded) for it.
  absl::MutexLock lock(&mu);
  auto answered = [&cancelled] { return cancelled.has_value(); };
  ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&answered), absl::Seconds(10)));
  ASSERT_TRUE(cancelled->ok()) << cancelled->status();
  EXPECT_EQ((*cancelled)->state(), "CANCELED");

  std::optional<absl::StatusOr<v1::JobStatus>> unknown;
  dispatcher_->Cancel("no-such-job", "the test",
                      [&](absl::StatusOr<v1::JobStatus> s) { unknown = s; });
  ASSERT_TRUE(unknown.has_value()) << "answered at once";
  EXPECT_EQ(unknown->status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DispatcherTest, ABuilderErrorIsTheAnswerFromTheSubmitWorker) {
  Answer answer;
  Submit(Submission("NoSuchJob"), answer);
  worker_->RunUntilIdle();
  ASSERT_EQ(builds_.size(), 1u);
  builds_[0].done(absl::InvalidArgumentError("'lib.so' has no job named 'NoSuchJob'"));
  EXPECT_FALSE(answer.has_value());
  worker_->RunUntilIdle();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status().message(), "'lib.so' has no job named 'NoSuchJob'");
  EXPECT_TRUE(dispatcher_->List().empty());
}

TEST_F(DispatcherTest, AGraphBuiltDifferentlyFromTheSubmittedOneIsRefused) {
  Answer answer;
  const v1::JobSubmission submission = Submission("Unbounded");
  Submit(submission, answer);
  worker_->RunUntilIdle();
  ASSERT_EQ(builds_.size(), 1u);
  builds_[0].done(submission.graph().hash() + 1);
  worker_->RunUntilIdle();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(answer->status().message(), HasSubstr("its build function is not deterministic"));
  EXPECT_TRUE(dispatcher_->List().empty());
}

TEST_F(DispatcherTest, ASubmissionThatFailsTheChecksIsNeverBuilt) {
  Answer answer;
  v1::JobSubmission broken = Submission("Unbounded");
  broken.mutable_graph()->set_hash(broken.graph().hash() + 1);
  Submit(broken, answer);
  worker_->RunUntilIdle();
  EXPECT_TRUE(builds_.empty());
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice
