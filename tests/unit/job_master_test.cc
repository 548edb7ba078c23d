// A JobMaster with fake TaskManagers and a fake ResourceManager, in one
// thread with a fake clock: every event is handled when the test runs the
// JobMaster's queue.
#include "jobmanager/job_master.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "engine/checkpoint_files.h"
#include "sluice/sluice.h"
#include "tests/testing/fake_gateways.h"
#include "tests/testing/queue_executor.h"

namespace sluice {
namespace {

using testing::FakeResourceManager;
using testing::FakeTaskManagers;
using testing::QueueExecutor;

class JobMasterTest : public ::testing::Test {
 protected:
  JobMasterTest() {
    // Two vertices at parallelism 2 (a rebalance between them): 4 tasks.
    StreamEnvironment env("job");
    env.SetParallelism(2);
    env.Sequence(0, 10).Rebalance().Map([](int64_t x) { return x; }).Discard();
    graph_ = env.Build();
  }

  std::shared_ptr<JobMaster> Start() {
    JobMasterServices services;
    services.executor = executor_;
    services.io_executor = io_;
    services.clock = &clock_;
    services.resource_manager = &rm_;
    services.task_managers = tms_.gateways();
    services.job_manager_address = "jm:6123";
    services.checkpointing = checkpointing_;
    services.restart_strategy = restart_strategy_;
    services.heartbeat_interval = heartbeat_interval_;
    services.schedule = [this](absl::Duration delay, std::function<void()> task) {
      timers_.emplace_back(clock_.Now() + delay, std::move(task));
    };
    auto master = JobMaster::Create("job-1", v1::JobSubmission{}, graph_, services);
    master->Start();
    executor_->RunUntilIdle();
    return master;
  }
  static OfferedSlot Slot(const std::string& allocation, const std::string& tm) {
    OfferedSlot slot;
    slot.allocation_id = allocation;
    slot.task_manager_id = tm;
    slot.task_manager_address = tm + ":6122";
    slot.data_address = tm + ":6121";
    return slot;
  }
  // Slots on TaskManagers a and b; both are asked to deploy.
  std::shared_ptr<JobMaster> Deploying() {
    auto master = Start();
    master->OnSlots({Slot("alloc-b", "b"), Slot("alloc-a", "a")});
    executor_->RunUntilIdle();
    return master;
  }
  std::shared_ptr<JobMaster> Running() {
    auto master = Deploying();
    tms_["a:6122"].AnswerDeploy(absl::OkStatus());
    tms_["b:6122"].AnswerDeploy(absl::OkStatus());
    executor_->RunUntilIdle();
    return master;
  }
  void Report(JobMaster& master, int vertex, int subtask, v1::ExecutionState state, int attempt = 0,
              const std::string& error = "") {
    v1::TaskStateUpdate update;
    update.set_job_id("job-1");
    update.set_vertex(vertex);
    update.set_subtask(subtask);
    update.set_attempt(attempt);
    update.set_state(state);
    update.set_error(error);
    master.OnTaskState(update);
    executor_->RunUntilIdle();
  }
  void ReportAll(JobMaster& master, v1::ExecutionState state) {
    for (int vertex = 0; vertex < 2; ++vertex) {
      for (int subtask = 0; subtask < 2; ++subtask) Report(master, vertex, subtask, state);
    }
  }
  static int TasksIn(const v1::JobStatus& status, v1::ExecutionState state) {
    int n = 0;
    for (const auto& task : status.tasks()) n += task.state() == state ? 1 : 0;
    return n;
  }

  // Runs the timers due by now (and those they schedule), in order.
  void RunDueTimers() {
    for (bool ran = true; ran;) {
      ran = false;
      std::sort(timers_.begin(), timers_.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      if (!timers_.empty() && timers_.front().first <= clock_.Now()) {
        auto task = std::move(timers_.front().second);
        timers_.erase(timers_.begin());
        task();
        ran = true;
      }
    }
    executor_->RunUntilIdle();
  }
  void Ack(JobMaster& master, int64_t checkpoint, int vertex, int subtask,
           const std::string& decline = "") {
    v1::CheckpointAcknowledgement ack;
    ack.set_job_id("job-1");
    ack.set_checkpoint_id(checkpoint);
    ack.set_vertex(vertex);
    ack.set_subtask(subtask);
    ack.mutable_state()->set_inline_bytes("state");
    ack.mutable_state()->set_size_bytes(5);
    ack.set_decline_reason(decline);
    master.OnCheckpointAck(ack);
    executor_->RunUntilIdle();
  }

  CheckpointingOptions checkpointing_;
  std::shared_ptr<RestartStrategy> restart_strategy_;
  absl::Duration heartbeat_interval_ = absl::ZeroDuration();
  std::vector<std::pair<absl::Time, std::function<void()>>> timers_;
  JobGraph graph_;
  std::shared_ptr<QueueExecutor> executor_ = std::make_shared<QueueExecutor>();
  std::shared_ptr<QueueExecutor> io_;  // null: file work runs on executor_
  FakeClock clock_;
  FakeResourceManager rm_;
  FakeTaskManagers tms_;
};

TEST_F(JobMasterTest, EachPipelinedRegionIsADeploymentOfItsOwn) {
  StreamEnvironment env("forward");
  env.SetParallelism(2);
  env.Sequence(0, 10).Map([](int64_t x) { return x; }).Discard();  // a region per subtask
  graph_ = env.Build();
  auto master = Deploying();
  const auto& a = tms_["a:6122"];
  const auto& b = tms_["b:6122"];
  ASSERT_EQ(a.deployed.size(), 1u);
  ASSERT_EQ(b.deployed.size(), 1u);
  // Slots sorted by allocation: subtask 0 in alloc-a on a, subtask 1 on b.
  EXPECT_EQ(a.deployed[0].deployment_id(), "r0-a0");
  EXPECT_EQ(b.deployed[0].deployment_id(), "r1-a0");
  ASSERT_EQ(a.deployed[0].assignments_size(), 1) << "only its region's attempts";
  EXPECT_EQ(a.deployed[0].assignments(0).subtask(), 0);
  EXPECT_EQ(b.deployed[0].assignments(0).subtask(), 1);
  tms_["a:6122"].AnswerDeploy(absl::OkStatus());
  executor_->RunUntilIdle();
  EXPECT_TRUE(a.started.empty()) << "all regions are wired before any starts";
  tms_["b:6122"].AnswerDeploy(absl::OkStatus());
  executor_->RunUntilIdle();
  EXPECT_EQ(a.started.size(), 1u);
  EXPECT_EQ(b.started.size(), 1u);
  EXPECT_EQ(master->Status().state(), "RUNNING");
}

TEST_F(JobMasterTest, ARunningJobIsCheckpointedAtEveryTaskManagerAndTheMetadataWrittenLast) {
  const std::string dir =
      ::testing::TempDir() + "/job_master_test-checkpoints-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  checkpointing_.interval = absl::Seconds(1);
  checkpointing_.dir = dir;
  io_ = std::make_shared<QueueExecutor>();
  auto master = Running();
  clock_.Advance(absl::Seconds(1));
  RunDueTimers();
  ASSERT_EQ(tms_["a:6122"].checkpoints_triggered.size(), 1u);
  ASSERT_EQ(tms_["b:6122"].checkpoints_triggered.size(), 1u);
  const auto& trigger = tms_["a:6122"].checkpoints_triggered[0];
  EXPECT_EQ(trigger.checkpoint_id(), 1);
  EXPECT_EQ(trigger.directory(), dir + "/job-1/chk-1");
  EXPECT_TRUE(std::filesystem::is_directory(trigger.directory()));

  for (int vertex = 0; vertex < 2; ++vertex) {
    for (int subtask = 0; subtask < 2; ++subtask) {
      EXPECT_FALSE(std::filesystem::exists(trigger.directory() + "/_metadata"))
          << "written once every task acknowledged";
      Ack(*master, 1, vertex, subtask);
    }
  }
  EXPECT_FALSE(std::filesystem::exists(trigger.directory() + "/_metadata"))
      << "written on the I/O executor, not the JobMaster's";
  EXPECT_TRUE(tms_["b:6122"].checkpoints_notified.empty()) << "complete once written";
  io_->RunUntilIdle();
  executor_->RunUntilIdle();
  auto meta = engine::ReadMetadata(trigger.directory());
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->states_size(), 4);
  EXPECT_EQ(meta->graph_hash(), graph_.Hash());
  ASSERT_EQ(tms_["b:6122"].checkpoints_notified.size(), 1u);
  EXPECT_TRUE(tms_["b:6122"].checkpoints_notified[0].completed());
  EXPECT_EQ(master->CheckpointStatistics().completed, 1);

  // The next one is declined by a task: aborted everywhere, and (with no
  // failures tolerated) the job fails.
  clock_.Advance(absl::Seconds(1));
  RunDueTimers();
  Ack(*master, 2, 1, 0, "disk full");
  ASSERT_EQ(tms_["a:6122"].checkpoints_notified.size(), 2u);
  EXPECT_FALSE(tms_["a:6122"].checkpoints_notified[1].completed());
  EXPECT_EQ(master->Status().state(), "FAILED");
  EXPECT_THAT(master->Status().error(), ::testing::HasSubstr("tolerable failure threshold"));
  io_->RunUntilIdle();
  EXPECT_FALSE(std::filesystem::exists(dir + "/job-1"))
      << "NO_EXTERNALIZED_CHECKPOINTS: an ended job keeps none";
  std::filesystem::remove_all(dir);
}

TEST_F(JobMasterTest, AFailedTaskRestartsTheJobFromItsLatestCheckpointWithNewAttempts) {
  const std::string dir =
      ::testing::TempDir() + "/job_master_test-restart-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  checkpointing_.interval = absl::Seconds(1);
  checkpointing_.dir = dir;
  checkpointing_.retention = CheckpointingOptions::Retention::kDeleteOnCancellation;
  restart_strategy_ = FixedDelayRestart(1, absl::Seconds(2));
  auto master = Running();
  clock_.Advance(absl::Seconds(1));
  RunDueTimers();
  for (int vertex = 0; vertex < 2; ++vertex) {
    for (int subtask = 0; subtask < 2; ++subtask) Ack(*master, 1, vertex, subtask);
  }
  ASSERT_EQ(master->CheckpointStatistics().completed, 1);

  Report(*master, 1, 1, v1::EXECUTION_STATE_FAILED, 0, "boom");
  EXPECT_EQ(master->Status().state(), "RESTARTING");
  EXPECT_EQ(tms_["a:6122"].cancelled.size(), 1u) << "the old attempts are stopped";
  // By id: a cancel that a slow TaskManager gets after the new attempts
  // must not stop those (r0-a1).
  EXPECT_EQ(tms_["a:6122"].cancelled_deployments, std::vector<std::string>{"r0-a0"});
  EXPECT_EQ(TasksIn(master->Status(), v1::EXECUTION_STATE_CREATED), 4) << "next attempts";
  Report(*master, 0, 0, v1::EXECUTION_STATE_CANCELED, 0);  // an old attempt's report
  EXPECT_EQ(master->Status().state(), "RESTARTING") << "stale reports are ignored";
  const size_t deployed = tms_["a:6122"].deployed.size();
  clock_.Advance(absl::Seconds(1));
  RunDueTimers();
  EXPECT_EQ(tms_["a:6122"].deployed.size(), deployed) << "restart-strategy delay: 2 s";
  clock_.Advance(absl::Seconds(1));
  RunDueTimers();
  ASSERT_EQ(tms_["a:6122"].deployed.size(), deployed + 1);
  const auto& again = tms_["a:6122"].deployed.back();
  EXPECT_EQ(again.deployment_id(), "r0-a1");
  EXPECT_EQ(again.assignments(0).attempt(), 1);
  EXPECT_EQ(again.restore_checkpoint(), dir + "/job-1/chk-1");
  tms_["a:6122"].AnswerDeploy(absl::OkStatus());
  tms_["b:6122"].AnswerDeploy(absl::OkStatus());
  executor_->RunUntilIdle();
  EXPECT_EQ(master->Status().state(), "RUNNING");

  // Checkpoints go on with the new attempts; one more failure is one too many.
  clock_.Advance(absl::Seconds(1));
  RunDueTimers();
  ASSERT_FALSE(tms_["a:6122"].checkpoints_triggered.empty());
  Report(*master, 0, 1, v1::EXECUTION_STATE_FAILED, 1, "boom again");
  EXPECT_EQ(master->Status().state(), "FAILED");
  EXPECT_THAT(master->Status().error(), ::testing::HasSubstr("boom again"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/job-1/chk-1/_metadata"))
      << "DELETE_ON_CANCELLATION keeps a failed job's checkpoint";
  std::filesystem::remove_all(dir);
}

TEST_F(JobMasterTest, DeclaresItsSlotsAndWaitsForThemWithoutPolling) {
  auto master = Start();
  ASSERT_EQ(rm_.declarations.size(), 1u);
  EXPECT_EQ(rm_.declarations[0].requirements(0).desired(), 2);
  EXPECT_EQ(master->Status().state(), "CREATED");
  EXPECT_EQ(TasksIn(master->Status(), v1::EXECUTION_STATE_CREATED), 4);
  master->OnSlots({Slot("alloc-a", "a")});  // one of two: not yet
  executor_->RunUntilIdle();
  EXPECT_TRUE(tms_["a:6122"].deployed.empty());
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(executor_->RunUntilIdle(), 0) << "nothing runs without an event";
  EXPECT_EQ(master->Status().duration_ms(), 5 * 60 * 1000) << "time is the injected clock's";
}

TEST_F(JobMasterTest, DeploysSubtaskIOfEveryVertexToSlotIAndStartsOnceAllAreWired) {
  auto master = Deploying();
  const auto& a = tms_["a:6122"];
  const auto& b = tms_["b:6122"];
  ASSERT_EQ(a.deployed.size(), 1u);
  ASSERT_EQ(b.deployed.size(), 1u);
  EXPECT_EQ(TasksIn(master->Status(), v1::EXECUTION_STATE_DEPLOYING), 4);
  // Slots sorted by allocation: subtask 0 in alloc-a on a, subtask 1 in alloc-b on b.
  for (const auto& assignment : a.deployed[0].assignments()) {
    EXPECT_EQ(assignment.allocation_id(), assignment.subtask() == 0 ? "alloc-a" : "alloc-b");
    EXPECT_EQ(assignment.task_manager_id(), assignment.subtask() == 0 ? "a" : "b");
    EXPECT_EQ(assignment.attempt(), 0);
  }
  EXPECT_EQ(a.deployed[0].job_manager_address(), "jm:6123");
  tms_["a:6122"].AnswerDeploy(absl::OkStatus());
  executor_->RunUntilIdle();
  EXPECT_TRUE(a.started.empty()) << "nothing starts before every TaskManager is wired";
  tms_["b:6122"].AnswerDeploy(absl::OkStatus());
  executor_->RunUntilIdle();
  EXPECT_EQ(a.started.size(), 1u);
  EXPECT_EQ(b.started.size(), 1u);
  EXPECT_EQ(master->Status().state(), "RUNNING");
}

TEST_F(JobMasterTest, TasksMoveThroughEveryStateAndTheJobFinishesWithTheLast) {
  auto master = Running();
  ReportAll(*master, v1::EXECUTION_STATE_INITIALIZING);
  EXPECT_EQ(TasksIn(master->Status(), v1::EXECUTION_STATE_INITIALIZING), 4);
  ReportAll(*master, v1::EXECUTION_STATE_RUNNING);
  EXPECT_EQ(TasksIn(master->Status(), v1::EXECUTION_STATE_RUNNING), 4);
  EXPECT_EQ(master->Status().running_tasks(), 4);
  for (int vertex = 0; vertex < 2; ++vertex) {
    for (int subtask = 0; subtask < 2; ++subtask) {
      EXPECT_EQ(master->Status().state(), "RUNNING");
      Report(*master, vertex, subtask, v1::EXECUTION_STATE_FINISHED);
    }
  }
  EXPECT_EQ(master->Status().state(), "FINISHED");
  EXPECT_EQ(rm_.released, std::vector<std::string>{"job-1"});
}

TEST_F(JobMasterTest, OneFailingSubtaskFailsTheJobWithItsCauseAndCancelsTheRest) {
  auto master = Running();
  ReportAll(*master, v1::EXECUTION_STATE_RUNNING);
  Report(*master, 1, 0, v1::EXECUTION_STATE_FAILED, 0, "operator 'Map' failed: boom");
  auto status = master->Status();
  EXPECT_EQ(status.state(), "FAILED");
  EXPECT_EQ(status.error(), "operator 'Map' failed: boom");
  EXPECT_EQ(TasksIn(status, v1::EXECUTION_STATE_FAILED), 4);
  EXPECT_EQ(tms_["a:6122"].cancelled.size(), 1u);
  EXPECT_EQ(tms_["b:6122"].cancelled.size(), 1u);
  EXPECT_EQ(rm_.released.size(), 1u);
  // The others' CANCELED reports arrive late: they change nothing.
  Report(*master, 0, 0, v1::EXECUTION_STATE_CANCELED);
  EXPECT_EQ(master->Status().error(), "operator 'Map' failed: boom");
}

TEST_F(JobMasterTest, AnEndedJobGivesItsSlotsBackOnlyOnceEveryTaskManagerCancelledItsTasks) {
  auto master = Running();
  ReportAll(*master, v1::EXECUTION_STATE_RUNNING);
  tms_["b:6122"].hold_cancels = true;  // a slow TaskManager
  master->Cancel();
  executor_->RunUntilIdle();
  EXPECT_EQ(master->Status().state(), "CANCELED");
  ASSERT_EQ(tms_["b:6122"].pending_cancels.size(), 1u);
  EXPECT_TRUE(rm_.released.empty())
      << "a slot freed first fails the task the cancel has not reached";
  tms_["b:6122"].pending_cancels.front()(absl::DeadlineExceededError("rpc.timeout"));
  executor_->RunUntilIdle();
  EXPECT_EQ(rm_.released, std::vector<std::string>{"job-1"}) << "an unanswered cancel ends too";
}

TEST_F(JobMasterTest, AJobMasterForgottenBeforeItsCancelsWereAnsweredStillFreesItsSlots) {
  auto master = Running();
  tms_["a:6122"].hold_cancels = true;
  master->Cancel();
  executor_->RunUntilIdle();
  EXPECT_TRUE(rm_.released.empty());
  master.reset();
  EXPECT_EQ(rm_.released, std::vector<std::string>{"job-1"});
  tms_["a:6122"].pending_cancels.front()(absl::OkStatus());
  executor_->RunUntilIdle();
  EXPECT_EQ(rm_.released.size(), 1u) << "released once";
}

TEST_F(JobMasterTest, FailuresGoIntoTheExceptionHistoryNamingTheTaskAndWhereItRan) {
  restart_strategy_ = FixedDelayRestart(1, absl::Seconds(10));
  auto master = Running();
  ReportAll(*master, v1::EXECUTION_STATE_RUNNING);
  Report(*master, 1, 0, v1::EXECUTION_STATE_FAILED, 0, "operator 'Map' failed: boom");
  auto status = master->Status();
  EXPECT_EQ(status.state(), "RESTARTING");
  ASSERT_EQ(status.exceptions_size(), 1);
  EXPECT_EQ(status.exceptions(0).message(), "operator 'Map' failed: boom");
  EXPECT_THAT(status.exceptions(0).task_name(), ::testing::HasSubstr("(1/2)"));
  EXPECT_FALSE(status.exceptions(0).location().empty());
  EXPECT_GT(status.exceptions(0).timestamp_ms(), 0);
}

TEST_F(JobMasterTest, HeartbeatAnswersBringEachSubtasksMetricsIntoTheStatus) {
  heartbeat_interval_ = absl::Seconds(1);
  auto master = Running();
  v1::SubtaskMetrics metrics;
  metrics.set_vertex(0);
  metrics.set_subtask(1);
  metrics.set_records_out(42);
  metrics.set_busy_ratio(0.25);
  *tms_["b:6122"].heartbeat_answer.add_subtasks() = metrics;
  clock_.Advance(absl::Seconds(1));
  RunDueTimers();
  bool found = false;
  const v1::JobStatus status = master->Status();
  for (const auto& task : status.tasks()) {
    if (task.vertex() != 0 || task.subtask() != 1) continue;
    found = true;
    EXPECT_EQ(task.metrics().records_out(), 42);
    EXPECT_DOUBLE_EQ(task.metrics().busy_ratio(), 0.25);
    EXPECT_GT(task.start_time_ms(), 0) << "its attempt's deployment time";
  }
  EXPECT_TRUE(found);
}

TEST_F(JobMasterTest, ACancelDuringDeploymentEndsTheJobAndStartsNothing) {
  auto master = Deploying();
  tms_["a:6122"].AnswerDeploy(absl::OkStatus());
  executor_->RunUntilIdle();
  master->Cancel();
  executor_->RunUntilIdle();
  EXPECT_EQ(master->Status().state(), "CANCELED");
  EXPECT_EQ(tms_["a:6122"].cancelled.size(), 1u) << "what was deployed is stopped";
  EXPECT_EQ(rm_.released.size(), 1u) << "the slots go back";
  tms_["b:6122"].AnswerDeploy(absl::OkStatus());  // too late
  executor_->RunUntilIdle();
  EXPECT_TRUE(tms_["a:6122"].started.empty());
  EXPECT_TRUE(tms_["b:6122"].started.empty());
  EXPECT_EQ(master->Status().state(), "CANCELED");
}

TEST_F(JobMasterTest, AFailedDeploymentFailsTheJobNamingTheTaskManager) {
  auto master = Deploying();
  tms_["b:6122"].AnswerDeploy(absl::UnavailableError("connection refused"));
  executor_->RunUntilIdle();
  EXPECT_EQ(master->Status().state(), "FAILED");
  EXPECT_EQ(master->Status().error(), "deploying to TaskManager b:6122 failed: connection refused");
  EXPECT_EQ(rm_.released.size(), 1u);
}

TEST_F(JobMasterTest, DuplicateLateAndStaleReportsAreIgnored) {
  auto master = Running();
  ReportAll(*master, v1::EXECUTION_STATE_RUNNING);
  ReportAll(*master, v1::EXECUTION_STATE_RUNNING);  // duplicates
  Report(*master, 0, 0, v1::EXECUTION_STATE_FAILED, /*attempt=*/7, "from another attempt");
  Report(*master, 0, 1, v1::EXECUTION_STATE_FAILED, 0, "");
  EXPECT_EQ(master->Status().state(), "FAILED") << "a current attempt's failure counts";
  Report(*master, 0, 0, v1::EXECUTION_STATE_RUNNING);  // late, after the end
  Report(*master, 9, 0, v1::EXECUTION_STATE_RUNNING);  // no such task
  EXPECT_EQ(master->Status().error(), "");
  EXPECT_EQ(TasksIn(master->Status(), v1::EXECUTION_STATE_RUNNING), 0);
}

TEST_F(JobMasterTest, AStaleAttemptCannotFailOrFinishTheJob) {
  auto master = Running();
  ReportAll(*master, v1::EXECUTION_STATE_RUNNING);
  Report(*master, 1, 1, v1::EXECUTION_STATE_FAILED, /*attempt=*/1, "a zombie");
  EXPECT_EQ(master->Status().state(), "RUNNING");
  Report(*master, 1, 1, v1::EXECUTION_STATE_RUNNING);  // illegal backwards moves neither
  Report(*master, 1, 1, v1::EXECUTION_STATE_INITIALIZING);
  EXPECT_EQ(TasksIn(master->Status(), v1::EXECUTION_STATE_RUNNING), 4);
}

TEST_F(JobMasterTest, LosingASlotFailsTheRunningJob) {
  auto master = Running();
  master->OnSlotLost("alloc-b", "lost its slot on TaskManager 'b': heartbeat timeout");
  executor_->RunUntilIdle();
  EXPECT_EQ(master->Status().state(), "FAILED");
  EXPECT_EQ(master->Status().error(), "lost its slot on TaskManager 'b': heartbeat timeout");
}

TEST_F(JobMasterTest, EventsAfterTheJobMasterIsGoneAreDropped) {
  auto master = Deploying();
  std::weak_ptr<JobMaster> weak = master;
  master.reset();
  tms_["a:6122"].AnswerDeploy(absl::OkStatus());  // a late gRPC answer
  EXPECT_EQ(executor_->RunUntilIdle(), 0);
  EXPECT_TRUE(weak.expired());
}

TEST_F(JobMasterTest, HeartbeatsConfirmTheJobAndASilentTaskManagerFailsItOver) {
  restart_strategy_ = FixedDelayRestart(1, absl::Seconds(10));
  heartbeat_interval_ = absl::Seconds(1);
  auto master = Running();
  clock_.Advance(absl::Seconds(1));
  RunDueTimers();
  ASSERT_EQ(tms_["a:6122"].heartbeats.size(), 1u);
  EXPECT_EQ(tms_["a:6122"].heartbeats[0].job_id(), "job-1");
  EXPECT_THAT(tms_["a:6122"].heartbeats[0].deployment_ids(), ::testing::ElementsAre("r0-a0"));
  ASSERT_EQ(tms_["b:6122"].heartbeats.size(), 1u);

  tms_["b:6122"].answering = false;  // paused, or cut off
  for (int s = 0; s < 5; ++s) {
    clock_.Advance(absl::Seconds(1));
    RunDueTimers();
  }
  EXPECT_EQ(master->Status().state(), "RUNNING") << "silent for 5 s: not past heartbeat.timeout";
  clock_.Advance(absl::Seconds(1));
  RunDueTimers();
  EXPECT_EQ(master->Status().state(), "RESTARTING");
  EXPECT_THAT(master->Status().error(),
              ::testing::HasSubstr("TaskManager b:6122 did not answer the JobMaster's heartbeats"));

  master->Cancel();
  executor_->RunUntilIdle();
  const size_t sent = tms_["a:6122"].heartbeats.size();
  clock_.Advance(absl::Seconds(3));
  RunDueTimers();
  EXPECT_EQ(tms_["a:6122"].heartbeats.size(), sent)
      << "an ended job is confirmed no more: its TaskManagers let its slots go";
}

TEST_F(JobMasterTest, AFailedTaskRestartsOnlyItsPipelinedRegionAndTheJobStaysRunning) {
  StreamEnvironment env("regions");
  env.SetParallelism(2);
  env.Sequence(0, 10).Map([](int64_t x) { return x; }).Discard();  // one chain, 2 regions
  graph_ = env.Build();
  restart_strategy_ = FixedDelayRestart(3, absl::Seconds(1));
  auto master = Running();
  for (int subtask = 0; subtask < 2; ++subtask) {
    Report(*master, 0, subtask, v1::EXECUTION_STATE_RUNNING);
  }
  const size_t deployed_a = tms_["a:6122"].deployed.size();
  const size_t deployed_b = tms_["b:6122"].deployed.size();
  Report(*master, 0, 1, v1::EXECUTION_STATE_FAILED, 0, "boom");
  EXPECT_EQ(master->Status().state(), "RUNNING") << "the other region runs on";
  EXPECT_TRUE(tms_["a:6122"].cancelled.empty() && tms_["b:6122"].cancelled.empty())
      << "the new attempt fences the old one; nothing else is cancelled";
  clock_.Advance(absl::Seconds(1));
  RunDueTimers();
  // Slot i hosts subtask i: subtask 1's region is on b ("alloc-b" sorts after "alloc-a").
  EXPECT_EQ(tms_["a:6122"].deployed.size(), deployed_a) << "region 0 is not redeployed";
  ASSERT_EQ(tms_["b:6122"].deployed.size(), deployed_b + 1);
  const auto& again = tms_["b:6122"].deployed.back();
  EXPECT_EQ(again.deployment_id(), "r1-a1");
  tms_["b:6122"].AnswerDeploy(absl::OkStatus());
  executor_->RunUntilIdle();
  EXPECT_EQ(master->Status().restarts(), 1);
  Report(*master, 0, 1, v1::EXECUTION_STATE_RUNNING, 1);
  Report(*master, 0, 0, v1::EXECUTION_STATE_FINISHED, 0);
  Report(*master, 0, 1, v1::EXECUTION_STATE_FINISHED, 0);  // the old attempt: stale
  EXPECT_EQ(master->Status().state(), "RUNNING");
  Report(*master, 0, 1, v1::EXECUTION_STATE_FINISHED, 1);
  EXPECT_EQ(master->Status().state(), "FINISHED");
}

}  // namespace
}  // namespace sluice
