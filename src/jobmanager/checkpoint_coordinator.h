// The checkpoint coordinator of one job (Flink's CheckpointCoordinator):
// triggers a checkpoint every interval at the sources, collects each task
// attempt's acknowledgement (with its state handle), completes a checkpoint
// once every task acknowledged it (metadata written last, by the owner),
// subsumes older ones beyond num-retained, and notifies the tasks. A
// checkpoint that does not complete within the timeout expires; one a task
// declines fails. More consecutive failures than tolerated fail the job over.
// min-pause and max-concurrent-checkpoints hold back triggers. With
// unaligned checkpoints on, a checkpoint starts unaligned (aligned timeout
// 0) or goes unaligned once it took the aligned timeout; a savepoint is
// always aligned, as in Flink.
//
// Pure and single-threaded: it runs on its owner's thread (the JobMaster's
// mailbox), time comes from an injected clock, timers from an injected
// scheduler, and everything it sends goes through Hooks, so tests drive it
// with a fake clock and fakes.
#ifndef SLUICE_JOBMANAGER_CHECKPOINT_COORDINATOR_H_
#define SLUICE_JOBMANAGER_CHECKPOINT_COORDINATOR_H_

#include <algorithm>
#include <compare>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/config/config.h"

namespace sluice {

struct CheckpointingOptions {
  absl::Duration interval = absl::ZeroDuration();  // > 0: checkpointing is on
  bool exactly_once = true;
  absl::Duration timeout = absl::Minutes(10);
  absl::Duration min_pause = absl::ZeroDuration();
  int max_concurrent = 1;
  int tolerable_failures = 0;
  int num_retained = 1;
  bool unaligned = false;
  absl::Duration aligned_timeout = absl::ZeroDuration();
  std::string dir;  // execution.checkpointing.dir
  // execution.checkpointing.externalized-checkpoint-retention, as in Flink:
  // kept when the job ends never, only when it failed, or always.
  enum class Retention { kNoExternalized, kDeleteOnCancellation, kRetainOnCancellation };
  Retention retention = Retention::kNoExternalized;
  bool enabled() const { return interval > absl::ZeroDuration(); }
  // Whether a job that ended (FINISHED, CANCELED or FAILED) keeps its checkpoints.
  bool Retains(bool failed) const {
    return retention == Retention::kRetainOnCancellation ||
           (retention == Retention::kDeleteOnCancellation && failed);
  }
};
// From execution.checkpointing.*: off (interval zero) unless an interval is
// set; INVALID_ARGUMENT naming the key when it is on without a directory.
absl::StatusOr<CheckpointingOptions> CheckpointingOptionsFromConfig(const Config& config);

// An acknowledging task: one attempt of one subtask.
struct TaskAttemptId {
  int vertex = 0;
  int subtask = 0;
  int attempt = 0;
  auto operator<=>(const TaskAttemptId&) const = default;
};

// Where a task's state of one checkpoint is: a file written by the task, or
// the bytes themselves when small.
struct TaskStateHandle {
  std::string path;
  std::string inline_bytes;
  int64_t size_bytes = 0;
  std::vector<std::string> operator_ids;  // whose state it holds
};

// A savepoint a user asked for (sluice savepoint / stop, REST): written to
// a directory of its own, never subsumed or discarded, and with `stop` the
// sources stop right after its barrier (with `drain` they end their input,
// so the job finishes; without, they pause until the job is stopped).
struct SavepointTrigger {
  std::string directory;
  bool stop = false;
  bool drain = false;
  std::string origin;  // who asked, from where: for the log
};

struct CompletedCheckpoint {
  int64_t id = 0;
  std::optional<SavepointTrigger> savepoint;  // unset: a checkpoint
  absl::Time triggered;
  absl::Time completed;
  std::map<TaskAttemptId, TaskStateHandle> states;
  int64_t size_bytes() const;
};

// One line of the checkpoint history (Flink's REST /jobs/<id>/checkpoints).
struct CheckpointRecord {
  enum class Status { kInProgress, kCompleted, kFailed };
  int64_t id = 0;
  Status status = Status::kInProgress;
  absl::Time triggered;
  absl::Time ended;  // completed or failed
  int tasks = 0;     // that must acknowledge
  int acknowledged = 0;
  int64_t size_bytes = 0;
  std::string failure;
  bool savepoint = false;
  std::string external_path;  // a savepoint's directory
};

struct CheckpointStats {
  int64_t triggered = 0;
  int64_t completed = 0;
  int64_t failed = 0;
  int in_progress = 0;
  std::optional<CheckpointRecord> latest_completed;
  std::optional<CheckpointRecord> latest_failed;
  std::optional<CheckpointRecord> latest_savepoint;
  // What the job last started from (set by the JobMaster; Flink's
  // latest.restored) and how often it did.
  struct Restore {
    int64_t id = 0;
    absl::Time at;
    std::string path;
    bool savepoint = false;
  };
  std::optional<Restore> latest_restore;
  int64_t restored = 0;
  std::deque<CheckpointRecord> history;  // newest first, at most kHistory
  static constexpr int kHistory = 10;
};

class CheckpointCoordinator {
 public:
  // What it sends; implemented by the JobMaster (gateways to TaskManagers,
  // checkpoint storage).
  class Hooks {
   public:
    virtual ~Hooks() = default;
    // The source tasks inject barrier `id`; an error (its directory cannot be
    // created) fails the checkpoint.
    virtual absl::Status TriggerSources(int64_t id, absl::Time timestamp,
                                        const SavepointTrigger* savepoint) = 0;
    // Checkpoint `id` (unaligned allowed) is still aligning after
    // execution.checkpointing.aligned-checkpoint-timeout: the tasks that
    // have not passed its barrier go unaligned.
    virtual void SwitchToUnaligned(int64_t id, absl::Time timestamp) = 0;
    // Savepoint `id` is complete (its directory), or failed.
    virtual void SavepointDone(int64_t id, const absl::StatusOr<std::string>& directory) = 0;
    // Every task learns that checkpoint `id` is complete (sinks commit).
    virtual void NotifyComplete(int64_t id) = 0;
    // Every task drops what it holds of checkpoint `id`.
    virtual void NotifyAborted(int64_t id, const std::string& reason) = 0;
    // Writes the checkpoint's metadata, last and atomically, off the owner's
    // thread (an fsync can take a second on a busy disk, and the owner's
    // thread heartbeats); `written` runs on the owner's thread with the
    // outcome, or never if the owner is gone. An error fails the checkpoint.
    virtual void Finalize(const CompletedCheckpoint& checkpoint,
                          std::function<void(absl::Status)> written) = 0;
    // Deletes a subsumed checkpoint (or one failed while it was written).
    virtual void Discard(const CompletedCheckpoint& checkpoint) = 0;
    // Too many consecutive failures: the job must fail over.
    virtual void FailJob(const std::string& reason) = 0;
  };
  // Runs `task` on the owner's thread after `delay`.
  using Scheduler = std::function<void(absl::Duration delay, std::function<void()> task)>;
  enum class Ack { kRecorded, kDuplicate, kUnknown, kDiscarded };

  CheckpointCoordinator(CheckpointingOptions options, std::vector<TaskAttemptId> tasks,
                        const Clock* clock, Scheduler schedule, Hooks* hooks);
  ~CheckpointCoordinator();

  // Starts periodic checkpoints (the first after one interval).
  void Start();
  // Stops triggering and fails every pending checkpoint with `reason` (not
  // counted as a failure): the job is restarting, ending or suspended.
  void Stop(const std::string& reason);
  // The task attempts that acknowledge from now on (after a restart).
  void SetTasks(std::vector<TaskAttemptId> tasks);
  // The job resumed from checkpoint `id` (of another job, sluice run -s):
  // its own checkpoints are numbered after it, as in Flink.
  void ContinueAfter(int64_t id) { next_id_ = std::max(next_id_, id + 1); }
  // Triggers a checkpoint now unless held back; its id, or why not.
  absl::StatusOr<int64_t> TriggerNow();
  // Triggers a savepoint now (neither min-pause nor max-concurrent hold it
  // back, and it needs no periodic checkpointing): its id, or why not.
  absl::StatusOr<int64_t> TriggerSavepoint(SavepointTrigger savepoint);

  Ack Acknowledge(int64_t id, const TaskAttemptId& task, TaskStateHandle state);
  void Decline(int64_t id, const TaskAttemptId& task, const std::string& reason);

  const CheckpointStats& stats() const { return stats_; }
  // The latest completed checkpoint, to restore from.
  const CompletedCheckpoint* latest() const;

 private:
  struct Pending {
    int64_t id = 0;
    absl::Time triggered;
    std::set<TaskAttemptId> waiting;
    std::map<TaskAttemptId, TaskStateHandle> states;
    std::optional<SavepointTrigger> savepoint;
    // Every ack is in and its metadata is being written: it neither expires
    // nor goes unaligned any more.
    std::optional<CompletedCheckpoint> finalizing;
  };
  absl::StatusOr<int64_t> Trigger(std::optional<SavepointTrigger> savepoint);
  void SchedulePeriodic(absl::Duration delay);
  void OnPeriodic(uint64_t generation);
  void Complete(std::map<int64_t, Pending>::iterator it);
  void OnFinalized(int64_t id, const absl::Status& written);
  void CompleteSavepoint(const CompletedCheckpoint& savepoint);
  // Fails a pending checkpoint; `counts` says whether it counts towards
  // tolerable-failed-checkpoints.
  void Fail(int64_t id, const std::string& reason, bool counts);
  void Record(const CheckpointRecord& record);
  void Update(int64_t id, const std::function<void(CheckpointRecord&)>& change);

  const CheckpointingOptions options_;
  std::set<TaskAttemptId> tasks_;
  const Clock* const clock_;
  const Scheduler schedule_;
  Hooks* const hooks_;
  // Timers outlive nothing: each checks the token and the generation.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  uint64_t generation_ = 0;  // bumped by Stop()
  bool running_ = false;
  int64_t next_id_ = 1;
  std::map<int64_t, Pending> pending_;
  // Failed while their metadata was being written: deleted once written.
  std::map<int64_t, CompletedCheckpoint> abandoned_;
  std::deque<CompletedCheckpoint> completed_;  // oldest first
  std::optional<absl::Time> last_completion_;
  int consecutive_failures_ = 0;
  CheckpointStats stats_;
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_CHECKPOINT_COORDINATOR_H_
