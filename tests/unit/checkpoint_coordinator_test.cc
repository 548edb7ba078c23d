// The checkpoint coordinator with a fake clock, a fake timer queue and
// recording hooks, in one thread: triggers, acknowledgements (late,
// duplicate, unknown), expiry, declines, subsumption, min-pause,
// max-concurrent and tolerable failures.
#include "jobmanager/checkpoint_coordinator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Ack = CheckpointCoordinator::Ack;

// Timers by due time, run as the test moves the fake clock.
class FakeTimers {
 public:
  explicit FakeTimers(FakeClock* clock) : clock_(clock) {}
  CheckpointCoordinator::Scheduler scheduler() {
    return [this](absl::Duration delay, std::function<void()> task) {
      due_.emplace(clock_->Now() + delay, std::move(task));
    };
  }
  // Moves time forward by `d`, running every timer due on the way, in order.
  void Advance(absl::Duration d) {
    const absl::Time end = clock_->Now() + d;
    while (!due_.empty() && due_.begin()->first <= end) {
      auto [when, task] = std::move(*due_.begin());
      due_.erase(due_.begin());
      clock_->Advance(when - clock_->Now());
      task();
    }
    clock_->Advance(end - clock_->Now());
  }

 private:
  FakeClock* clock_;
  std::multimap<absl::Time, std::function<void()>> due_;
};

class RecordingHooks final : public CheckpointCoordinator::Hooks {
 public:
  absl::Status TriggerSources(int64_t id, absl::Time, const SavepointTrigger* savepoint) override {
    triggered.push_back(id);
    if (savepoint != nullptr) savepoint_dirs.push_back(savepoint->directory);
    return trigger_error;
  }
  void SwitchToUnaligned(int64_t id, absl::Time) override { switched.push_back(id); }
  void SavepointDone(int64_t id, const absl::StatusOr<std::string>& directory) override {
    savepoints.emplace_back(
        id, directory.ok() ? *directory : "failed: " + std::string(directory.status().message()));
  }
  void NotifyComplete(int64_t id) override { complete.push_back(id); }
  void NotifyAborted(int64_t id, const std::string& reason) override {
    aborted.push_back(id);
    abort_reasons.push_back(reason);
  }
  void Finalize(const CompletedCheckpoint& checkpoint,
                std::function<void(absl::Status)> written) override {
    if (defer_writes) {
      writing.emplace(checkpoint.id, std::move(written));
      return;
    }
    if (finalize_error.ok()) finalized.push_back(checkpoint.id);
    written(finalize_error);
  }
  // Ends the deferred write of checkpoint `id` with `status`.
  void Written(int64_t id, absl::Status status = absl::OkStatus()) {
    auto written = std::move(writing.at(id));
    writing.erase(id);
    if (status.ok()) finalized.push_back(id);
    written(std::move(status));
  }
  void Discard(const CompletedCheckpoint& checkpoint) override {
    discarded.push_back(checkpoint.id);
  }
  void FailJob(const std::string& reason) override { job_failures.push_back(reason); }

  std::vector<int64_t> triggered, complete, aborted, finalized, discarded, switched;
  std::vector<std::string> abort_reasons, job_failures, savepoint_dirs;
  std::vector<std::pair<int64_t, std::string>> savepoints;
  absl::Status finalize_error;
  absl::Status trigger_error;
  // Writes wait for Written(), as on a slow disk.
  bool defer_writes = false;
  std::map<int64_t, std::function<void(absl::Status)>> writing;
};

const TaskAttemptId kSource{0, 0, 0};
const TaskAttemptId kSink{1, 0, 0};

class CheckpointCoordinatorTest : public ::testing::Test {
 protected:
  void Make(CheckpointingOptions options) {
    coordinator_ = std::make_unique<CheckpointCoordinator>(
        options, std::vector<TaskAttemptId>{kSource, kSink}, &clock_, timers_.scheduler(), &hooks_);
    coordinator_->Start();
  }
  static CheckpointingOptions Every(absl::Duration interval) {
    CheckpointingOptions o;
    o.interval = interval;
    o.timeout = absl::Minutes(1);
    return o;
  }
  static TaskStateHandle State(int64_t bytes) {
    TaskStateHandle h;
    h.inline_bytes = std::string(bytes, 'x');
    h.size_bytes = bytes;
    return h;
  }
  void AckAll(int64_t id) {
    EXPECT_EQ(coordinator_->Acknowledge(id, kSource, State(10)), Ack::kRecorded);
    EXPECT_EQ(coordinator_->Acknowledge(id, kSink, State(20)), Ack::kRecorded);
  }

  FakeClock clock_;
  FakeTimers timers_{&clock_};
  RecordingHooks hooks_;
  std::unique_ptr<CheckpointCoordinator> coordinator_;
};

TEST_F(CheckpointCoordinatorTest, TriggersEveryIntervalAndCompletesOnceEveryTaskAcknowledged) {
  Make(Every(absl::Seconds(10)));
  timers_.Advance(absl::Seconds(9));
  EXPECT_TRUE(hooks_.triggered.empty()) << "the first checkpoint comes after one interval";
  timers_.Advance(absl::Seconds(1));
  ASSERT_THAT(hooks_.triggered, ElementsAre(1));
  EXPECT_EQ(coordinator_->stats().in_progress, 1);

  EXPECT_EQ(coordinator_->Acknowledge(1, kSource, State(10)), Ack::kRecorded);
  EXPECT_TRUE(hooks_.complete.empty()) << "the sink has not acknowledged";
  EXPECT_EQ(coordinator_->Acknowledge(1, kSink, State(20)), Ack::kRecorded);
  EXPECT_THAT(hooks_.finalized, ElementsAre(1)) << "metadata written before the notification";
  EXPECT_THAT(hooks_.complete, ElementsAre(1));
  const auto& stats = coordinator_->stats();
  EXPECT_EQ(stats.completed, 1);
  EXPECT_EQ(stats.in_progress, 0);
  ASSERT_TRUE(stats.latest_completed.has_value());
  EXPECT_EQ(stats.latest_completed->size_bytes, 30);
  EXPECT_EQ(stats.latest_completed->acknowledged, 2);
  ASSERT_NE(coordinator_->latest(), nullptr);
  EXPECT_EQ(coordinator_->latest()->states.at(kSink).inline_bytes, std::string(20, 'x'));

  timers_.Advance(absl::Seconds(10));
  EXPECT_THAT(hooks_.triggered, ElementsAre(1, 2));
}

TEST_F(CheckpointCoordinatorTest, ACheckpointStillAligningAfterTheAlignedTimeoutGoesUnaligned) {
  CheckpointingOptions o = Every(absl::Seconds(10));
  o.unaligned = true;
  o.aligned_timeout = absl::Seconds(2);
  Make(o);
  timers_.Advance(absl::Seconds(10));  // checkpoint 1
  AckAll(1);
  timers_.Advance(absl::Seconds(2));
  EXPECT_TRUE(hooks_.switched.empty()) << "checkpoint 1 completed in time";
  timers_.Advance(absl::Seconds(8));  // checkpoint 2
  timers_.Advance(absl::Milliseconds(1999));
  EXPECT_TRUE(hooks_.switched.empty());
  timers_.Advance(absl::Milliseconds(1));
  EXPECT_THAT(hooks_.switched, ElementsAre(2));
  AckAll(2);
  ASSERT_TRUE(coordinator_->TriggerSavepoint({"/tmp/sp", false, false, "the test"}).ok());
  timers_.Advance(absl::Seconds(5));
  EXPECT_THAT(hooks_.switched, ElementsAre(2)) << "a savepoint stays aligned";
}

TEST_F(CheckpointCoordinatorTest, DuplicateLateAndUnknownAcknowledgementsAreToldApart) {
  Make(Every(absl::Seconds(10)));
  timers_.Advance(absl::Seconds(10));
  EXPECT_EQ(coordinator_->Acknowledge(1, kSource, State(1)), Ack::kRecorded);
  EXPECT_EQ(coordinator_->Acknowledge(1, kSource, State(1)), Ack::kDuplicate);
  EXPECT_EQ(coordinator_->Acknowledge(1, TaskAttemptId{0, 0, 7}, State(1)), Ack::kUnknown)
      << "a stale attempt";
  EXPECT_EQ(coordinator_->Acknowledge(99, kSource, State(1)), Ack::kUnknown) << "never triggered";
  EXPECT_EQ(coordinator_->Acknowledge(1, kSink, State(1)), Ack::kRecorded);
  EXPECT_EQ(coordinator_->Acknowledge(1, kSink, State(1)), Ack::kDiscarded)
      << "late: the checkpoint has completed";
  EXPECT_EQ(coordinator_->stats().completed, 1);
}

TEST_F(CheckpointCoordinatorTest, ACheckpointExpiresAfterTheTimeoutAndLateAcksAreDiscarded) {
  auto options = Every(absl::Seconds(10));
  options.timeout = absl::Seconds(5);
  options.tolerable_failures = 5;
  Make(options);
  timers_.Advance(absl::Seconds(10));
  EXPECT_EQ(coordinator_->Acknowledge(1, kSource, State(1)), Ack::kRecorded);
  timers_.Advance(absl::Seconds(5));
  EXPECT_THAT(hooks_.aborted, ElementsAre(1));
  EXPECT_THAT(hooks_.abort_reasons[0], HasSubstr("expired after 5 s"));
  EXPECT_EQ(coordinator_->Acknowledge(1, kSink, State(1)), Ack::kDiscarded);
  EXPECT_EQ(coordinator_->stats().failed, 1);
  ASSERT_TRUE(coordinator_->stats().latest_failed.has_value());
  EXPECT_THAT(coordinator_->stats().latest_failed->failure, HasSubstr("expired"));
  EXPECT_TRUE(hooks_.job_failures.empty()) << "within the tolerable failures";
}

TEST_F(CheckpointCoordinatorTest, MoreConsecutiveFailuresThanToleratedFailTheJob) {
  auto options = Every(absl::Seconds(10));
  options.tolerable_failures = 1;
  Make(options);
  timers_.Advance(absl::Seconds(10));
  coordinator_->Decline(1, kSink, "its state could not be written");
  EXPECT_THAT(hooks_.abort_reasons[0],
              HasSubstr("declined by subtask 0 of vertex 1 (attempt 0): its state could not"));
  EXPECT_TRUE(hooks_.job_failures.empty());
  timers_.Advance(absl::Seconds(10));
  AckAll(2);  // a success resets the count
  timers_.Advance(absl::Seconds(10));
  coordinator_->Decline(3, kSink, "disk full");
  EXPECT_TRUE(hooks_.job_failures.empty());
  timers_.Advance(absl::Seconds(10));
  coordinator_->Decline(4, kSource, "disk full");
  ASSERT_EQ(hooks_.job_failures.size(), 1u);
  EXPECT_THAT(hooks_.job_failures[0], HasSubstr("Exceeded checkpoint tolerable failure threshold"));
}

TEST_F(CheckpointCoordinatorTest, AMetadataWriteFailureFailsTheCheckpointAndCounts) {
  Make(Every(absl::Seconds(10)));
  hooks_.finalize_error = absl::ResourceExhaustedError("No space left on device");
  timers_.Advance(absl::Seconds(10));
  AckAll(1);
  EXPECT_TRUE(hooks_.complete.empty());
  EXPECT_THAT(hooks_.abort_reasons, ElementsAre(HasSubstr("No space left on device")));
  EXPECT_EQ(hooks_.job_failures.size(), 1u) << "tolerable-failed-checkpoints is 0";
  EXPECT_EQ(coordinator_->latest(), nullptr) << "nothing to restore from";
}

TEST_F(CheckpointCoordinatorTest, ACheckpointBeingWrittenNeitherExpiresNorTakesAcksTwice) {
  auto options = Every(absl::Seconds(10));
  options.timeout = absl::Seconds(5);
  Make(options);
  hooks_.defer_writes = true;
  timers_.Advance(absl::Seconds(10));
  AckAll(1);
  ASSERT_EQ(hooks_.writing.count(1), 1u);
  EXPECT_TRUE(hooks_.complete.empty()) << "not complete before its metadata is written";
  EXPECT_EQ(coordinator_->Acknowledge(1, kSink, State(20)), Ack::kDuplicate);
  timers_.Advance(absl::Seconds(6));
  EXPECT_TRUE(hooks_.aborted.empty()) << "a slow write is not an expiry";
  EXPECT_EQ(coordinator_->stats().in_progress, 1);
  clock_.Advance(absl::Seconds(1));
  hooks_.Written(1);
  EXPECT_THAT(hooks_.complete, ElementsAre(1));
  ASSERT_TRUE(coordinator_->stats().latest_completed.has_value());
  const CheckpointRecord& latest = *coordinator_->stats().latest_completed;
  EXPECT_EQ(latest.ended - latest.triggered, absl::Seconds(7)) << "its duration includes the write";
  EXPECT_EQ(coordinator_->Acknowledge(1, kSink, State(20)), Ack::kDiscarded);
}

TEST_F(CheckpointCoordinatorTest, ACheckpointFailedWhileWrittenIsDeletedOnceWritten) {
  Make(Every(absl::Seconds(10)));
  hooks_.defer_writes = true;
  timers_.Advance(absl::Seconds(10));
  AckAll(1);
  coordinator_->Stop("the job is cancelled");
  EXPECT_THAT(hooks_.aborted, ElementsAre(1));
  EXPECT_TRUE(hooks_.discarded.empty()) << "still being written";
  hooks_.Written(1);
  EXPECT_THAT(hooks_.discarded, ElementsAre(1)) << "its files are not left behind";
  EXPECT_TRUE(hooks_.complete.empty());
  EXPECT_EQ(coordinator_->latest(), nullptr);
}

TEST_F(CheckpointCoordinatorTest, ACheckpointThatCannotStartFailsAndCounts) {
  auto options = Every(absl::Seconds(10));
  options.tolerable_failures = 1;
  Make(options);
  hooks_.trigger_error = absl::UnavailableError("cannot create /chk/job-1/chk-1");
  timers_.Advance(absl::Seconds(10));
  EXPECT_THAT(hooks_.abort_reasons, ElementsAre(HasSubstr("could not be started: cannot create")));
  EXPECT_EQ(coordinator_->stats().in_progress, 0);
  hooks_.trigger_error = absl::OkStatus();
  timers_.Advance(absl::Seconds(10));
  AckAll(2);
  EXPECT_THAT(hooks_.complete, ElementsAre(2)) << "the next one goes ahead";
  EXPECT_TRUE(hooks_.job_failures.empty());
}

TEST_F(CheckpointCoordinatorTest, MaxConcurrentHoldsBackTriggersAndACompletionSubsumesOlderOnes) {
  auto options = Every(absl::Seconds(10));
  options.max_concurrent = 2;
  Make(options);
  timers_.Advance(absl::Seconds(30));
  EXPECT_THAT(hooks_.triggered, ElementsAre(1, 2)) << "the third is held back";
  auto held = coordinator_->TriggerNow();
  EXPECT_EQ(held.status().code(), absl::StatusCode::kResourceExhausted);
  AckAll(2);
  EXPECT_THAT(hooks_.complete, ElementsAre(2));
  EXPECT_THAT(hooks_.aborted, ElementsAre(1)) << "older than a completed one: subsumed";
  EXPECT_THAT(hooks_.abort_reasons[0], HasSubstr("subsumed by checkpoint 2"));
  EXPECT_TRUE(hooks_.job_failures.empty()) << "subsumption is no failure";
}

TEST_F(CheckpointCoordinatorTest, OnlyNumRetainedCheckpointsAreKept) {
  auto options = Every(absl::Seconds(10));
  options.num_retained = 2;
  Make(options);
  for (int64_t id = 1; id <= 4; ++id) {
    timers_.Advance(absl::Seconds(10));
    AckAll(id);
  }
  EXPECT_THAT(hooks_.discarded, ElementsAre(1, 2));
  EXPECT_EQ(coordinator_->latest()->id, 4);
}

TEST_F(CheckpointCoordinatorTest, MinPauseCountsFromTheLastCompletion) {
  auto options = Every(absl::Seconds(10));
  options.min_pause = absl::Seconds(25);
  Make(options);
  timers_.Advance(absl::Seconds(10));
  AckAll(1);  // completed at t = 10 s
  timers_.Advance(absl::Seconds(24));
  EXPECT_THAT(hooks_.triggered, ElementsAre(1)) << "t = 34 s: within the pause";
  EXPECT_THAT(std::string(coordinator_->TriggerNow().status().message()), HasSubstr("min-pause"));
  timers_.Advance(absl::Seconds(10));
  EXPECT_THAT(hooks_.triggered, ElementsAre(1, 2)) << "by t = 44 s, after the pause";
}

TEST_F(CheckpointCoordinatorTest, StopFailsWhatIsPendingWithoutCountingAndTriggersNoMore) {
  Make(Every(absl::Seconds(10)));
  timers_.Advance(absl::Seconds(10));
  coordinator_->Stop("the job is restarting");
  EXPECT_THAT(hooks_.abort_reasons, ElementsAre("the job is restarting"));
  EXPECT_TRUE(hooks_.job_failures.empty());
  timers_.Advance(absl::Minutes(5));
  EXPECT_THAT(hooks_.triggered, ElementsAre(1));

  // After a restart: new attempts acknowledge.
  const TaskAttemptId source{0, 0, 1}, sink{1, 0, 1};
  coordinator_->SetTasks({source, sink});
  coordinator_->Start();
  timers_.Advance(absl::Seconds(10));
  ASSERT_THAT(hooks_.triggered, ElementsAre(1, 2));
  EXPECT_EQ(coordinator_->Acknowledge(2, kSource, State(1)), Ack::kUnknown) << "the old attempt";
  EXPECT_EQ(coordinator_->Acknowledge(2, source, State(1)), Ack::kRecorded);
  EXPECT_EQ(coordinator_->Acknowledge(2, sink, State(1)), Ack::kRecorded);
  EXPECT_THAT(hooks_.complete, ElementsAre(2));
}

TEST_F(CheckpointCoordinatorTest, OptionsComeFromFlinksKeys) {
  auto off =
      Config::FromYaml("jobmanager.rpc.address: a\nresourcemanager.rpc.address: b\n", "t", {});
  ASSERT_TRUE(off.ok());
  auto options = CheckpointingOptionsFromConfig(*off);
  ASSERT_TRUE(options.ok());
  EXPECT_FALSE(options->enabled());

  auto no_dir = Config::FromYaml("jobmanager.rpc.address: a\nresourcemanager.rpc.address: b\n", "t",
                                 {"execution.checkpointing.interval=10 s"});
  ASSERT_TRUE(no_dir.ok());
  EXPECT_THAT(std::string(CheckpointingOptionsFromConfig(*no_dir).status().message()),
              HasSubstr("execution.checkpointing.dir"));

  auto on = Config::FromYaml(
      "jobmanager.rpc.address: a\nresourcemanager.rpc.address: b\n", "t",
      {"execution.checkpointing.interval=10 s", "state.checkpoints.dir=/tmp/chk",
       "execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION"});
  ASSERT_TRUE(on.ok()) << on.status();
  auto enabled = CheckpointingOptionsFromConfig(*on);
  ASSERT_TRUE(enabled.ok()) << enabled.status();
  EXPECT_TRUE(enabled->enabled());
  EXPECT_EQ(enabled->interval, absl::Seconds(10));
  EXPECT_EQ(enabled->dir, "/tmp/chk");
  EXPECT_EQ(enabled->retention, CheckpointingOptions::Retention::kRetainOnCancellation);
  EXPECT_TRUE(enabled->Retains(/*failed=*/false));
  CheckpointingOptions by_default;
  EXPECT_FALSE(by_default.Retains(/*failed=*/true)) << "NO_EXTERNALIZED_CHECKPOINTS";
  by_default.retention = CheckpointingOptions::Retention::kDeleteOnCancellation;
  EXPECT_TRUE(by_default.Retains(/*failed=*/true));
  EXPECT_FALSE(by_default.Retains(/*failed=*/false));
  EXPECT_TRUE(enabled->exactly_once);
}

TEST_F(CheckpointCoordinatorTest, ASavepointIsNeitherHeldBackNorSubsumedNorKeptForFailover) {
  CheckpointingOptions options = Every(absl::Seconds(10));
  options.max_concurrent = 1;
  Make(options);
  ASSERT_TRUE(coordinator_->TriggerNow().ok());  // checkpoint 1 in progress
  auto savepoint =
      coordinator_->TriggerSavepoint(SavepointTrigger{"/sp/savepoint-1", true, false, "the test"});
  ASSERT_TRUE(savepoint.ok()) << "max-concurrent does not hold a savepoint back";
  EXPECT_EQ(*savepoint, 2);
  EXPECT_THAT(hooks_.savepoint_dirs, ::testing::ElementsAre("/sp/savepoint-1"));
  EXPECT_EQ(coordinator_->TriggerNow().status().code(), absl::StatusCode::kResourceExhausted)
      << "a savepoint does not count toward max-concurrent either";

  // The savepoint completes first: checkpoint 1 goes on, nothing is discarded.
  coordinator_->Acknowledge(2, kSource, {});
  coordinator_->Acknowledge(2, kSink, {});
  EXPECT_THAT(hooks_.savepoints,
              ::testing::ElementsAre(std::pair<int64_t, std::string>(2, "/sp/savepoint-1")));
  EXPECT_THAT(hooks_.complete, ::testing::ElementsAre(2)) << "sinks commit at a savepoint too";
  EXPECT_EQ(coordinator_->latest(), nullptr) << "a savepoint is not restored on failover";
  EXPECT_TRUE(hooks_.aborted.empty());

  // A later checkpoint does not subsume a pending savepoint; a declined one
  // fails only itself.
  auto second =
      coordinator_->TriggerSavepoint(SavepointTrigger{"/sp/savepoint-2", false, false, "the test"});
  ASSERT_TRUE(second.ok());
  coordinator_->Acknowledge(1, kSource, {});
  coordinator_->Acknowledge(1, kSink, {});
  ASSERT_NE(coordinator_->latest(), nullptr);
  EXPECT_EQ(coordinator_->latest()->id, 1);
  EXPECT_EQ(coordinator_->stats().in_progress, 1) << "savepoint 3 still runs";
  coordinator_->Decline(*second, kSink, "disk full");
  ASSERT_EQ(hooks_.savepoints.size(), 2u);
  EXPECT_THAT(hooks_.savepoints[1].second, ::testing::HasSubstr("disk full"));
  EXPECT_TRUE(hooks_.job_failures.empty()) << "tolerable-failed-checkpoints 0 ignores savepoints";
}

}  // namespace
}  // namespace sluice
