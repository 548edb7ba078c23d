// One JobMaster per submitted job (Flink's JobMaster): it declares the slots
// the job needs (its largest parallelism: one subtask of each vertex shares a
// slot), schedules the execution graph onto them when they arrive, deploys to
// the TaskManagers (all wired before any starts), follows every task
// attempt's state, and ends the job: all FINISHED, a task FAILED or a slot
// lost (the root cause kept), or cancelled; then it cancels what still runs
// and gives the slots back.
//
// With checkpointing on, its CheckpointCoordinator triggers checkpoints once
// the job runs; tasks write their state into chk-<n> under the checkpoint
// directory and acknowledge; the JobMaster writes the metadata last.
//
// An actor: every event is posted to its executor and handled there, one at
// a time, so the bookkeeping has no locks; time comes from an injected clock;
// peers are reached through gateways. Nothing polls or blocks: slots,
// TaskManager answers and task reports arrive as events. Status() may be
// called from any thread (a snapshot).
#ifndef SLUICE_JOBMANAGER_JOB_MASTER_H_
#define SLUICE_JOBMANAGER_JOB_MASTER_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/executor.h"
#include "jobmanager/checkpoint_coordinator.h"
#include "jobmanager/execution_graph.h"
#include "jobmanager/gateways.h"
#include "jobmanager/restart_strategy.h"
#include "jobmanager/slot_pool.h"
#include "sluice/internal/graph.h"
#include "sluice/v1/jobmanager.pb.h"

namespace sluice {

enum class JobMasterState {
  kCreated,
  kRunning,
  kRestarting,  // a task failed: the job starts again from its latest checkpoint
  kFinished,
  kCanceling,
  kCanceled,
  kFailed
};
const char* JobMasterStateName(JobMasterState state);
// Slots a job needs: its largest parallelism (one subtask of each vertex
// shares a slot).
int SlotsNeeded(const JobGraph& graph);

struct JobMasterServices {
  std::shared_ptr<Executor> executor;  // the JobMaster's main thread
  // Where checkpoint metadata is written and old checkpoints deleted, so an
  // fsync never stalls the main thread's heartbeats (null: on the main one).
  std::shared_ptr<Executor> io_executor;
  const Clock* clock = SystemClock::Get();
  ResourceManagerGateway* resource_manager = nullptr;
  TaskManagerGateways task_managers;
  std::string job_manager_address;  // where TaskManagers report and fetch the library
  // Checkpoints of the job (off unless an interval is set) and the timers
  // the coordinator needs, run on the executor (required when it is on).
  CheckpointingOptions checkpointing;
  CheckpointCoordinator::Scheduler schedule;
  // Whether and when a failed job restarts (null: it does not); restarts
  // need `schedule`.
  std::shared_ptr<RestartStrategy> restart_strategy;
  // heartbeat.interval / .timeout: how often the JobMaster confirms its job
  // to the TaskManagers holding its slots, and how long one may stay silent
  // before its tasks count as lost (with `schedule`; zero: no heartbeats).
  absl::Duration heartbeat_interval = absl::ZeroDuration();
  absl::Duration heartbeat_timeout = absl::Seconds(5);
  // execution.checkpointing.savepoint-dir: where savepoints go unless the
  // request names a directory.
  std::string savepoint_dir;
};

class JobMaster : public std::enable_shared_from_this<JobMaster> {
 public:
  static std::shared_ptr<JobMaster> Create(std::string id, v1::JobSubmission submission,
                                           JobGraph graph, JobMasterServices services);
  ~JobMaster();

  // Events, from any thread; handled on the executor.
  void Start();
  // The job's slots now (offers accepted by the slot pool).
  void OnSlots(std::vector<OfferedSlot> slots);
  void OnSlotRequestFailed(std::string reason);
  void OnSlotLost(std::string allocation_id, std::string reason);
  void OnTaskState(v1::TaskStateUpdate update);
  // A task attempt's snapshot of a checkpoint (or its decline).
  void OnCheckpointAck(v1::CheckpointAcknowledgement ack);
  // `handled` runs on the executor once the cancellation took effect.
  void Cancel(std::function<void()> handled = nullptr);

  // A savepoint (sluice savepoint / stop, REST), Flink's asynchronous
  // operation: its trigger id at once; `done` gets the outcome on the
  // JobMaster's thread. In its own directory under `trigger.directory` (the
  // configured one if empty). With `stop`, the job ends FINISHED once it is
  // complete; with `drain` too, once its input ended after the barrier.
  struct SavepointOperation {
    enum class Status { kInProgress, kCompleted, kFailed };
    Status status = Status::kInProgress;
    std::string location;  // COMPLETED: the savepoint's directory
    std::string failure;   // FAILED: why
  };
  using SavepointDone = std::function<void(const SavepointOperation&)>;
  std::string TriggerSavepoint(SavepointTrigger trigger, SavepointDone done = nullptr);
  // Any thread: a savepoint by trigger id (the last kSavepointsKept are kept).
  std::optional<SavepointOperation> Savepoint(const std::string& trigger_id) const;
  static constexpr size_t kSavepointsKept = 100;

  v1::JobStatus Status() const;
  // The checkpoint counts and history (a snapshot; empty when checkpointing
  // is off); any thread.
  CheckpointStats CheckpointStatistics() const;
  const CheckpointingOptions& checkpointing() const { return services_.checkpointing; }
  const JobGraph& graph() const { return graph_; }
  const v1::JobSubmission& submission() const { return submission_; }
  const std::string& id() const { return id_; }

 private:
  JobMaster(std::string id, v1::JobSubmission submission, JobGraph graph,
            JobMasterServices services);
  // Runs `handler` on the executor while this JobMaster lives.
  template <typename F>
  void Post(F handler);
  void Deploy(const std::vector<OfferedSlot>& slots);
  // The deployment of pipelined region `region`.
  v1::DeployJobRequest DeployRequest(int region) const;
  void OnDeployed(const std::string& address, const absl::Status& status);
  void HandleTaskState(const v1::TaskStateUpdate& update);
  void End(JobMasterState state, const std::string& error);
  void ReleaseSlotsOnceCancelled();
  void OffThread(std::function<absl::Status()> io, std::function<void(absl::Status)> then);
  void ReleaseSlots();
  // A task failed or a slot was lost: restart if the strategy says so, from
  // the latest completed checkpoint, else fail the job.
  void Failover(const std::string& reason);
  // Redeploys a restarting job once its delay passed and it has its slots.
  void TryRedeploy();
  void FailoverRegion(int region, const std::string& reason);
  // After a failure: how long until the restart, or none (the job fails).
  std::optional<absl::Duration> RestartDelay();
  void DeployRegion(int region);
  bool ended() const;
  void Publish();
  // What deployments start from now: the latest checkpoint, else the one the
  // job was resumed from (sluice run -s), else nothing.
  std::optional<CheckpointStats::Restore> RestorePoint() const;
  std::string DescribeRestorePoint() const;  // "checkpoint 7", "the beginning"
  // The attempts being deployed start from RestorePoint(): noted.
  void RecordRestore();
  // Sends region `region`'s deployment to `addresses`; answers go to OnDeployed.
  void SendDeployment(int region, const std::set<std::string>& addresses);
  class CheckpointHooks;
  void StartCheckpoints();
  void HandleCheckpointAck(const v1::CheckpointAcknowledgement& ack);
  void ToTaskManagers(const std::function<void(TaskManagerGateway&)>& call);
  // Heartbeats to every TaskManager with the job's slots or tasks, each
  // interval until the job ends; one silent past the timeout fails the job over.
  void ScheduleHeartbeats();
  void SendHeartbeats();
  void CheckTaskManagersHeard();
  // The attempts now DEPLOYING start now (their start-time).
  void NoteAttemptStarts();
  void OnHeartbeatAnswer(const std::string& address, const v1::JobMasterHeartbeatAnswer& answer);
  // A failure for the exception history (the last kExceptionsKept).
  void RecordException(const std::string& reason);
  static constexpr size_t kExceptionsKept = 16;
  struct PendingSavepoint {
    std::string trigger_id;
    bool stop = false;
    bool drain = false;
    SavepointDone done;
  };
  void StartSavepoint(const std::string& trigger_id, SavepointTrigger trigger, SavepointDone done);
  void OnSavepointDone(int64_t id, const absl::StatusOr<std::string>& directory);
  void FinishSavepoint(PendingSavepoint pending, const absl::StatusOr<std::string>& directory);
  // Every savepoint in progress fails with `reason` (the job restarts or ends).
  void FailSavepoints(const std::string& reason);
  // "r<region>-a<attempt>": what a TaskManager knows a region's attempt by.
  static std::string DeploymentId(int region, int attempt);
  std::vector<std::string> DeploymentIds() const;

  const std::string id_;
  const v1::JobSubmission submission_;
  const JobGraph graph_;
  const JobMasterServices services_;
  const int slots_needed_;
  const absl::Time started_;
  // On the executor only.
  JobMasterState state_ = JobMasterState::kCreated;
  ExecutionGraph executions_;
  std::string error_;
  absl::Time ended_;
  bool deploying_ = false;
  std::set<std::string> task_managers_;      // deployed (or being deployed) to
  std::vector<OfferedSlot> slots_;           // the job's slots now
  std::map<std::string, absl::Time> heard_;  // TaskManager address -> its last heartbeat answer
  // (vertex, subtask) -> what its TaskManager last reported.
  std::map<std::pair<int, int>, v1::SubtaskMetrics> subtask_metrics_;
  // (vertex, subtask) -> its current attempt and when it was deployed.
  std::map<std::pair<int, int>, std::pair<int, absl::Time>> attempt_started_;
  std::vector<v1::JobException> exceptions_;
  // The task whose failure is being handled: named in the exception history.
  std::string failing_task_, failing_location_;
  bool restart_due_ = false;     // a restart's delay has passed
  bool region_restart_ = false;  // one region restarts; the others run on
  int restarts_ = 0;
  std::optional<CheckpointStats::Restore> latest_restore_;
  int64_t restores_ = 0;
  int awaiting_deploy_ = 0;
  std::unique_ptr<CheckpointHooks> checkpoint_hooks_;
  std::unique_ptr<CheckpointCoordinator> checkpoints_;  // null: no scheduler (some tests)
  std::map<int64_t, PendingSavepoint> savepoints_;      // by checkpoint id
  bool slots_released_ = false;      // back to the ResourceManager, after the job ended
  bool stopping_ = false;            // a stop-with-savepoint is in progress
  bool draining_savepoint_ = false;  // ... with --drain: the last task's end waits for it
  // The snapshots Status() and CheckpointStatistics() return.
  mutable absl::Mutex status_mu_;
  v1::JobStatus status_ ABSL_GUARDED_BY(status_mu_);
  CheckpointStats checkpoint_stats_ ABSL_GUARDED_BY(status_mu_);
  std::map<std::string, SavepointOperation> savepoint_ops_ ABSL_GUARDED_BY(status_mu_);
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_JOB_MASTER_H_
