// JobDeployments driven step by step: the owner (the TaskManager's mailbox)
// and the deploy worker are queues this thread runs, so each test sees which
// side did what. The library is in the TaskManager's cache (no download);
// subtasks run on real threads, and their reports are recorded.
#include "taskmanager/job_deployments.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "tests/testing/queue_executor.h"
#include "tests/testing/test_job_deployment.h"

namespace sluice {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::QueueExecutor;

constexpr char kTaskManager[] = "tm-1";

class JobDeploymentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/job_deployments_test-", getpid(), "-",
                        ::testing::UnitTest::GetInstance()->random_seed(), "-", ++instances_);
    std::filesystem::create_directories(dir_);
    // Cached by digest, as if fetched before: nothing is downloaded.
    const std::string bytes = testing::ReadFile(testing::kTestJobsLibrary);
    ASSERT_FALSE(bytes.empty()) << testing::kTestJobsLibrary;
    std::ofstream(absl::StrCat(dir_, "/", Sha256::Of(bytes), ".so"), std::ios::binary) << bytes;

    DataExchangeOptions data;
    data.bind_host = "127.0.0.1";
    auto exchange = DataExchange::Start(data);
    ASSERT_TRUE(exchange.ok()) << exchange.status();
    exchange_ = *std::move(exchange);
    exchange_->SetId(kTaskManager);

    std::vector<SlotState> slots(2);
    slots[1].index = 1;
    table_ = std::make_unique<TaskSlotTable>(&clock_, slots, absl::Seconds(10));
    DeploymentOptions options;
    options.task_manager_id = kTaskManager;
    options.library_dir = dir_;
    deployments_ = std::make_unique<JobDeployments>(
        options, exchange_.get(), table_.get(),
        [this](const std::string&, v1::TaskStateUpdate update) {
          absl::MutexLock lock(&mu_);
          reports_.push_back(std::move(update));
        },
        &owner_, &worker_);
  }

  void TearDown() override {
    bool cancelled = false;
    deployments_->CancelAll([&cancelled] { cancelled = true; });
    RunAll();
    EXPECT_TRUE(cancelled);
    deployments_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs both queues until neither has work.
  void RunAll() {
    while (owner_.RunUntilIdle() + worker_.RunUntilIdle() > 0) {
    }
  }

  v1::DeployJobRequest Request(const std::string& job_id, const std::string& allocation,
                               int attempt = 0) {
    auto request =
        testing::TestJobDeployment("Unbounded", job_id, kTaskManager, {allocation}, attempt);
    EXPECT_TRUE(request.ok()) << request.status();
    return *std::move(request);
  }

  // Deploys; the answer lands in the returned slot whenever it comes.
  std::shared_ptr<std::optional<absl::StatusOr<int>>> Deploy(const v1::DeployJobRequest& request) {
    auto answer = std::make_shared<std::optional<absl::StatusOr<int>>>();
    deployments_->Deploy(request, [answer](absl::StatusOr<int> tasks) { *answer = tasks; });
    return answer;
  }

  // Deploys `job_id` into a held slot and runs it; returns its local subtasks.
  int DeployAndStart(const std::string& job_id, int slot, const std::string& allocation,
                     int attempt = 0) {
    EXPECT_TRUE(table_->Request(slot, allocation, job_id, "jm:1").accepted);
    auto answer = Deploy(Request(job_id, allocation, attempt));
    RunAll();
    EXPECT_TRUE(answer->has_value() && (*answer)->ok());
    EXPECT_TRUE(deployments_->Start(job_id).ok());
    return answer->has_value() && (*answer)->ok() ? ***answer : 0;
  }

  std::vector<v1::TaskStateUpdate> Reports(v1::ExecutionState state) {
    absl::MutexLock lock(&mu_);
    std::vector<v1::TaskStateUpdate> out;
    for (const auto& r : reports_) {
      if (r.state() == state) out.push_back(r);
    }
    return out;
  }

  static inline int instances_ = 0;
  std::string dir_;
  FakeClock clock_;
  std::unique_ptr<TaskSlotTable> table_;
  QueueExecutor owner_;
  QueueExecutor worker_;
  std::unique_ptr<DataExchange> exchange_;
  absl::Mutex mu_;
  std::vector<v1::TaskStateUpdate> reports_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<JobDeployments> deployments_;
};

TEST_F(JobDeploymentsTest, ADeploymentIntoASlotNotHeldForTheJobIsRefusedNamingTheAllocation) {
  auto unknown = Deploy(Request("job-1", "alloc-9"));
  ASSERT_TRUE(unknown->has_value()) << "refused at once, on the owner";
  EXPECT_EQ((*unknown)->status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT((*unknown)->status().message(), AllOf(HasSubstr("alloc-9"), HasSubstr(kTaskManager)));

  ASSERT_TRUE(table_->Request(0, "alloc-1", "job-other", "jm:1").accepted);
  auto other_job = Deploy(Request("job-1", "alloc-1"));
  ASSERT_TRUE(other_job->has_value());
  EXPECT_EQ((*other_job)->status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT((*other_job)->status().message(), HasSubstr("alloc-1"));
  EXPECT_EQ(worker_.RunUntilIdle(), 0) << "nothing was built";
}

TEST_F(JobDeploymentsTest, TheWorkerBuildsTheJobAndTheOwnerAnswers) {
  ASSERT_TRUE(table_->Request(0, "alloc-1", "job-1", "jm:1").accepted);
  auto answer = Deploy(Request("job-1", "alloc-1"));
  EXPECT_FALSE(answer->has_value());
  EXPECT_EQ(table_->Find("alloc-1")->use, TaskSlotTable::Use::kActive)
      << "the JobMaster deploys only into slots it accepted";
  EXPECT_EQ(owner_.RunUntilIdle(), 0);
  EXPECT_EQ(worker_.RunUntilIdle(), 1) << "library, build function and subtasks: on the worker";
  EXPECT_FALSE(answer->has_value());
  EXPECT_EQ(owner_.RunUntilIdle(), 1);
  ASSERT_TRUE(answer->has_value());
  ASSERT_TRUE((*answer)->ok()) << (*answer)->status();
  EXPECT_GT(***answer, 0);

  auto again = Deploy(Request("job-1", "alloc-1"));
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(JobDeploymentsTest, CancelAnswersOnceTheSubtasksAreJoined) {
  const int tasks = DeployAndStart("job-1", 0, "alloc-1", /*attempt=*/3);
  ASSERT_GT(tasks, 0);
  auto running = Reports(v1::EXECUTION_STATE_RUNNING);
  ASSERT_EQ(static_cast<int>(running.size()), tasks);
  EXPECT_EQ(running[0].attempt(), 3) << "reports name the attempt deployed";

  std::optional<absl::Status> cancelled;
  deployments_->Cancel("job-1", "", [&cancelled](absl::Status status) { cancelled = status; });
  EXPECT_FALSE(cancelled.has_value()) << "the join is the worker's";
  EXPECT_EQ(worker_.RunUntilIdle(), 2) << "the join, then the answer";
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_TRUE(cancelled->ok());
  EXPECT_EQ(static_cast<int>(Reports(v1::EXECUTION_STATE_CANCELED).size()), tasks)
      << "joined: every subtask has reported its end";
  EXPECT_EQ(deployments_->Start("job-1").code(), absl::StatusCode::kNotFound);
}

TEST_F(JobDeploymentsTest, FreeingASlotStopsItsSubtasksAndTheyFailWithTheReason) {
  const int tasks = DeployAndStart("job-1", 0, "alloc-1");
  ASSERT_GT(tasks, 0);
  ASSERT_TRUE(table_->Free("alloc-1"));
  deployments_->OnAllocationFreed("alloc-1", "the ResourceManager freed it");
  EXPECT_EQ(worker_.RunUntilIdle(), 1) << "joined on the worker";
  auto failed = Reports(v1::EXECUTION_STATE_FAILED);
  ASSERT_EQ(static_cast<int>(failed.size()), tasks);
  for (const auto& report : failed) {
    EXPECT_THAT(report.error(),
                AllOf(HasSubstr("alloc-1"), HasSubstr("the ResourceManager freed it"),
                      HasSubstr(kTaskManager)));
  }
  EXPECT_EQ(deployments_->Start("job-1").code(), absl::StatusCode::kNotFound);
  auto redeploy = Deploy(Request("job-1", "alloc-1"));
  ASSERT_TRUE(redeploy->has_value());
  EXPECT_EQ((*redeploy)->status().code(), absl::StatusCode::kFailedPrecondition)
      << "the slot is not held any more";
}

TEST_F(JobDeploymentsTest, FreeingAnotherSlotLeavesTheJobRunning) {
  ASSERT_GT(DeployAndStart("job-1", 0, "alloc-1"), 0);
  ASSERT_TRUE(table_->Request(1, "alloc-2", "job-2", "jm:1").accepted);
  ASSERT_TRUE(table_->Free("alloc-2"));
  deployments_->OnAllocationFreed("alloc-2", "its offer expired");
  EXPECT_EQ(worker_.RunUntilIdle(), 0);
  EXPECT_TRUE(Reports(v1::EXECUTION_STATE_FAILED).empty());
  EXPECT_TRUE(deployments_->Start("job-1").ok()) << "still deployed (and started already)";
}

TEST_F(JobDeploymentsTest, AJobCancelledWhileItIsBuiltIsNotKept) {
  ASSERT_TRUE(table_->Request(0, "alloc-1", "job-1", "jm:1").accepted);
  auto answer = Deploy(Request("job-1", "alloc-1"));
  std::optional<absl::Status> cancelled;
  deployments_->Cancel("job-1", "", [&cancelled](absl::Status status) { cancelled = status; });
  ASSERT_TRUE(cancelled.has_value()) << "nothing runs yet: answered at once";
  EXPECT_TRUE(cancelled->ok());
  RunAll();
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(deployments_->Start("job-1").code(), absl::StatusCode::kNotFound);
  absl::MutexLock lock(&mu_);
  EXPECT_TRUE(reports_.empty()) << "its subtasks never ran";
}

TEST_F(JobDeploymentsTest, ASlotFreedWhileTheJobIsBuiltRefusesTheDeployment) {
  ASSERT_TRUE(table_->Request(0, "alloc-1", "job-1", "jm:1").accepted);
  auto answer = Deploy(Request("job-1", "alloc-1"));
  ASSERT_TRUE(table_->Free("alloc-1"));
  deployments_->OnAllocationFreed("alloc-1", "the ResourceManager freed it");
  RunAll();
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT((*answer)->status().message(),
              AllOf(HasSubstr("alloc-1"), HasSubstr("the ResourceManager freed it")));
  EXPECT_EQ(deployments_->Start("job-1").code(), absl::StatusCode::kNotFound);
}

TEST_F(JobDeploymentsTest, AfterCloseDeploymentsAreAnsweredUnavailable) {
  ASSERT_TRUE(table_->Request(0, "alloc-1", "job-1", "jm:1").accepted);
  auto queued = Deploy(Request("job-1", "alloc-1"));
  deployments_->Close();
  RunAll();
  ASSERT_TRUE(queued->has_value());
  EXPECT_EQ((*queued)->status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(table_->Request(1, "alloc-2", "job-2", "jm:1").accepted);
  auto later = Deploy(Request("job-2", "alloc-2"));
  ASSERT_TRUE(later->has_value());
  EXPECT_EQ((*later)->status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(JobDeploymentsTest, CancelAllAnswersOnceEveryJobIsJoinedIncludingOnesBeingBuilt) {
  const int tasks = DeployAndStart("job-1", 0, "alloc-1");
  ASSERT_TRUE(table_->Request(1, "alloc-2", "job-2", "jm:1").accepted);
  auto building = Deploy(Request("job-2", "alloc-2"));
  bool all_cancelled = false;
  deployments_->CancelAll([&all_cancelled] { all_cancelled = true; });
  EXPECT_FALSE(all_cancelled);
  RunAll();
  EXPECT_TRUE(all_cancelled);
  EXPECT_EQ(static_cast<int>(Reports(v1::EXECUTION_STATE_CANCELED).size()), tasks);
  ASSERT_TRUE(building->has_value());
  EXPECT_EQ((*building)->status().code(), absl::StatusCode::kUnavailable);
}

// Subtask `subtask` of the UnboundedForward job (parallelism 2, a region per
// subtask) alone, as deployment `deployment_id` with `attempt`.
v1::DeployJobRequest RegionOfForwardJob(int subtask, const std::string& deployment_id,
                                        int attempt = 0) {
  auto full = testing::TestJobDeployment("UnboundedForward", "job-1", kTaskManager,
                                         {"alloc-1", "alloc-2"}, attempt);
  EXPECT_TRUE(full.ok()) << full.status();
  v1::DeployJobRequest region = *full;
  region.clear_assignments();
  for (const auto& a : full->assignments()) {
    if (a.subtask() == subtask) *region.add_assignments() = a;
  }
  region.set_deployment_id(deployment_id);
  return region;
}

TEST_F(JobDeploymentsTest, DeploymentsOfOneJobStartAndStopApart) {
  ASSERT_TRUE(table_->Request(0, "alloc-1", "job-1", "jm:1").accepted);
  ASSERT_TRUE(table_->Request(1, "alloc-2", "job-1", "jm:1").accepted);
  auto first = Deploy(RegionOfForwardJob(0, "r0-a0"));
  auto second = Deploy(RegionOfForwardJob(1, "r1-a0"));
  RunAll();
  ASSERT_TRUE(first->has_value() && (*first)->ok());
  ASSERT_TRUE(second->has_value() && (*second)->ok());
  EXPECT_EQ(***first, 1);
  EXPECT_EQ(***second, 1);
  ASSERT_TRUE(deployments_->Start("job-1", "r0-a0").ok());
  EXPECT_EQ(Reports(v1::EXECUTION_STATE_RUNNING).size(), 1u) << "only the one started";
  ASSERT_TRUE(deployments_->Start("job-1").ok()) << "every deployment of the job";
  ASSERT_EQ(Reports(v1::EXECUTION_STATE_RUNNING).size(), 2u);

  std::optional<absl::Status> cancelled;
  deployments_->Cancel("job-1", "r1-a0", [&cancelled](absl::Status status) { cancelled = status; });
  RunAll();
  ASSERT_TRUE(cancelled.has_value() && cancelled->ok());
  auto ended = Reports(v1::EXECUTION_STATE_CANCELED);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].subtask(), 1);
  EXPECT_EQ(deployments_->Start("job-1", "r1-a0").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(deployments_->Start("job-1", "r0-a0").ok()) << "the other region runs on";
  int running = 0;
  deployments_->ForEachTask([&running](const std::string& job, const engine::Task& task) {
    EXPECT_EQ(job, "job-1");
    EXPECT_EQ(task.subtask(), 0);
    ++running;
  });
  EXPECT_EQ(running, 1);
}

TEST_F(JobDeploymentsTest, ANewerAttemptFencesTheOlderOneAndAnOlderOneIsRefused) {
  ASSERT_TRUE(table_->Request(0, "alloc-1", "job-1", "jm:1").accepted);
  auto old = Deploy(RegionOfForwardJob(0, "r0-a0", /*attempt=*/0));
  RunAll();
  ASSERT_TRUE(old->has_value() && (*old)->ok());
  ASSERT_TRUE(deployments_->Start("job-1").ok());

  auto same = Deploy(RegionOfForwardJob(0, "r0-again", /*attempt=*/0));
  ASSERT_TRUE(same->has_value()) << "refused at once";
  EXPECT_EQ((*same)->status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT((*same)->status().message(),
              AllOf(HasSubstr("attempt 0 of subtask 0"), HasSubstr("r0-a0")));

  auto newer = Deploy(RegionOfForwardJob(0, "r0-a1", /*attempt=*/1));
  RunAll();
  ASSERT_TRUE(newer->has_value() && (*newer)->ok()) << (*newer)->status();
  auto fenced = Reports(v1::EXECUTION_STATE_CANCELED);
  ASSERT_EQ(fenced.size(), 1u) << "the old attempt was stopped";
  EXPECT_EQ(fenced[0].attempt(), 0);
  EXPECT_EQ(deployments_->Start("job-1", "r0-a0").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(deployments_->Start("job-1", "r0-a1").ok());
  auto running = Reports(v1::EXECUTION_STATE_RUNNING);
  ASSERT_EQ(running.size(), 2u);
  EXPECT_EQ(running[1].attempt(), 1);
}

TEST_F(JobDeploymentsTest, AHeartbeatNamingANewerAttemptOfTheRegionStopsTheStaleOne) {
  ASSERT_TRUE(table_->Request(0, "alloc-1", "job-1", "jm:1").accepted);
  auto old = Deploy(RegionOfForwardJob(0, "r0-a0", /*attempt=*/0));
  RunAll();
  ASSERT_TRUE(old->has_value() && (*old)->ok());
  ASSERT_TRUE(deployments_->Start("job-1").ok());

  v1::JobMasterHeartbeat heartbeat;
  heartbeat.set_job_id("job-1");
  heartbeat.add_deployment_ids("r0-a0");
  heartbeat.add_deployment_ids("r1-a3");  // another region: no concern of this one
  deployments_->Confirm(heartbeat);
  RunAll();
  EXPECT_TRUE(Reports(v1::EXECUTION_STATE_CANCELED).empty()) << "current: it runs on";

  // The region restarted elsewhere while this TaskManager was cut off.
  heartbeat.set_deployment_ids(0, "r0-a1");
  deployments_->Confirm(heartbeat);
  RunAll();
  auto stopped = Reports(v1::EXECUTION_STATE_CANCELED);
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_EQ(stopped[0].attempt(), 0);
  EXPECT_EQ(deployments_->Start("job-1", "r0-a0").code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice
