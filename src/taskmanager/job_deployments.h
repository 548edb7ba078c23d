// The task attempts a TaskManager runs: deployment into the slots it offered
// (library fetched from the JobManager and cached by digest, graph rebuilt
// from it and its hash checked against the JobMaster's, channels wired),
// start, cancel, and a report to the JobMaster when each attempt ends.
//
// The unit is a deployment: this TaskManager's attempts of one pipelined
// region of a job (engine/pipelined_regions.h), named by the JobMaster and
// the same on every TaskManager the region spans. Attempts of one region
// share channels, so they run and stop together; a job's other deployments
// here are left alone. Every local attempt names its allocation, which the
// slot table must hold for the job; freeing a slot stops the deployments
// with attempts in it (those in the freed slot report FAILED with the
// reason). A deployment with a newer attempt of a subtask fences the older
// one: the deployment holding it is cancelled first.
//
// Threads: the bookkeeping belongs to the owner executor (the TaskManager's
// mailbox, which also owns the slot table): every method but Close() is
// called there, and Deploy and Start answer there. What blocks runs on the
// worker executor (the "tm-deploy" mailbox), one thing at a time: fetching
// the library, loading it, running the user's build function, creating the
// subtasks and connecting their channels, and joining the threads of stopped
// jobs (Cancel answers from there, once they are joined). Subtasks run on
// threads of their own and report their end from there.
#ifndef SLUICE_TASKMANAGER_JOB_DEPLOYMENTS_H_
#define SLUICE_TASKMANAGER_JOB_DEPLOYMENTS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/executor.h"
#include "common/mailbox.h"
#include "engine/job_library.h"
#include "engine/local_job.h"
#include "sluice/v1/jobmanager.grpc.pb.h"
#include "sluice/v1/taskmanager.pb.h"
#include "taskmanager/data_exchange.h"
#include "taskmanager/task_slot_table.h"

namespace sluice {

// Task state up to this size travels in the acknowledgement and is kept in
// the checkpoint's metadata (Flink's execution.checkpointing.data-inline-threshold).
inline constexpr size_t kInlineStateBytes = 20 << 10;

struct DeploymentOptions {
  std::string task_manager_id;
  std::string library_dir;
  absl::Duration rpc_timeout = absl::Seconds(10);
  absl::Duration buffer_timeout = absl::Milliseconds(100);
  absl::Duration auto_watermark_interval = absl::Milliseconds(200);
  int buffers_per_channel = 2;
  size_t segment_size = 32 << 10;  // taskmanager.memory.segment-size
  // heartbeat.timeout: how long a job's tasks run on without a heartbeat of
  // its JobMaster (zero: for ever).
  absl::Duration lease = absl::ZeroDuration();
};

class JobDeployments {
 public:
  // Sends a task state report to the JobMaster at `job_manager_address`
  // without blocking (JobMasterClient::UpdateTaskState in the daemon); called
  // on the owner and on task threads.
  using TaskStateSink =
      std::function<void(const std::string& job_manager_address, v1::TaskStateUpdate update)>;
  // Sends a checkpoint acknowledgement (or decline) to the JobMaster without
  // blocking; called on task threads.
  using CheckpointSink = std::function<void(const std::string& job_manager_address,
                                            v1::CheckpointAcknowledgement ack)>;
  using DeployDone = std::function<void(absl::StatusOr<int> local_tasks)>;
  using Done = std::function<void(absl::Status)>;
  using TaskVisitor = std::function<void(const std::string& job_id, const engine::Task&)>;

  // `slots`, `owner` and `worker` must outlive this; so must `exchange`.
  // Without `slots` (in a job process) the TaskManager checked the slots.
  JobDeployments(DeploymentOptions options, DataExchange* exchange, TaskSlotTable* slots,
                 TaskStateSink report, Executor* owner, Executor* worker,
                 CheckpointSink checkpoint_report = nullptr);
  ~JobDeployments();  // cancels and joins what is still here

  // Refuses at once (FAILED_PRECONDITION naming it) a deployment with a
  // local attempt in an allocation the slot table does not hold for the job,
  // a deployment here already, and one with an attempt of a subtask that is
  // not newer than the one here (ALREADY_EXISTS); else cancels deployments
  // holding older attempts of its subtasks, activates its slots and builds
  // its attempts on the worker. `done` gets the number of local attempts, or
  // why the deployment was not kept: it was cancelled (CANCELLED) or one of
  // its slots freed (FAILED_PRECONDITION) meanwhile.
  void Deploy(const v1::DeployJobRequest& request, DeployDone done);
  // Starts a deployment's attempts (reporting them RUNNING first); an empty
  // `deployment_id` starts every deployment of the job here.
  absl::Status Start(const std::string& job_id, const std::string& deployment_id = "");
  // Cancels a deployment's attempts at once (an empty `deployment_id`: every
  // deployment of the job); `done` runs on the worker once they are joined.
  // One still being built is not kept. Unknown ones: OK.
  void Cancel(const std::string& job_id, const std::string& deployment_id, Done done);
  // A slot was freed (the ResourceManager freed it, its offer expired or was
  // rejected): the deployments with attempts in it are cancelled, and those
  // attempts report FAILED with `reason`.
  void OnAllocationFreed(const std::string& allocation_id, const std::string& reason);
  // Any thread. The TaskManager is stopping: Deploy and Start fail with
  // UNAVAILABLE from now on, and library downloads in progress are aborted,
  // so that every deployment under way is answered soon (its job not kept).
  // Jobs already here run on.
  void Close();
  // Cancels every deployment; `done` runs on the worker once each is
  // joined, including ones that were still being built.
  void CancelAll(std::function<void()> done);
  // The job's sources here inject the checkpoint's barrier; every task
  // writes its snapshot into the request's directory (small ones go inline)
  // and acknowledges it, or declines. NOT_FOUND if none of the job runs here.
  absl::Status TriggerCheckpoint(const v1::TriggerCheckpointRequest& request);
  // A checkpoint completed or was aborted: its directory is forgotten.
  absl::Status NotifyCheckpoint(const v1::NotifyCheckpointRequest& request);
  // The JobMaster of `heartbeat.job_id()` is there: its deployments here
  // run on for another lease, except those with an older attempt of a
  // region than the heartbeat names, which are stale and stopped.
  void Confirm(const v1::JobMasterHeartbeat& heartbeat);
  // Calls `visit` for every task attempt running here.
  void ForEachTask(const TaskVisitor& visit) const;

 private:
  struct LocalTask {
    int attempt = 0;
    std::string allocation_id;
  };
  // What the end reports of a deployment's local attempts need; shared
  // with their threads.
  class Subtasks {
   public:
    Subtasks(std::string job_id, std::string job_manager_address,
             std::map<std::pair<int, int>, LocalTask> tasks, const v1::JobGraph& graph);
    // Flink's name of a subtask for logs: "<vertex name> (<subtask + 1>/<parallelism>)".
    std::string TaskName(int vertex, int subtask) const;
    void SetFreed(const std::string& allocation_id, const std::string& reason);
    // Where the tasks write their state of checkpoint `id` (empty: unknown).
    void SetCheckpointDirectory(int64_t id, std::string directory);
    std::string CheckpointDirectory(int64_t id) const;
    void ForgetCheckpoint(int64_t id);
    // Why `allocation_id` was freed, if it was.
    std::optional<std::string> FreedReason(const std::string& allocation_id) const;

    const std::string job_id;
    const std::string job_manager_address;
    const std::map<std::pair<int, int>, LocalTask> tasks;  // by (vertex, subtask)
    // (name, parallelism) by vertex id.
    const std::map<int, std::pair<std::string, int>> vertices;

   private:
    mutable absl::Mutex mu_;
    std::map<std::string, std::string> freed_ ABSL_GUARDED_BY(mu_);  // allocation -> reason
    std::map<int64_t, std::string> checkpoint_dirs_ ABSL_GUARDED_BY(mu_);
  };
  // What the worker built for a deployment.
  struct Built {
    std::unique_ptr<engine::Placement> placement;
    std::unique_ptr<engine::LocalJob> job;
  };
  struct Deployed {
    std::shared_ptr<Subtasks> subtasks;
    std::set<std::string> allocations;
    // Set while it is being built: why the job will not be kept.
    absl::Status abandoned;
    bool started = false;
    // Null while it is being built; the job goes before its placement.
    std::unique_ptr<engine::Placement> placement;
    std::unique_ptr<engine::LocalJob> job;
  };

  using Key = std::pair<std::string, std::string>;  // (job id, deployment id)
  using Jobs = std::map<Key, std::unique_ptr<Deployed>>;
  static v1::ExecutionState ToExecutionState(engine::JobState state);
  // The DataExchange's name for a deployment's channels.
  static std::string ChannelScope(const Key& key);
  static std::string Describe(const Key& key);
  // ALREADY_EXISTS if a deployment of the job here holds an attempt of one
  // of `tasks` that is not older; else stops those holding older ones.
  absl::Status FenceOlderAttempts(const Key& key,
                                  const std::map<std::pair<int, int>, LocalTask>& tasks);
  absl::Status CheckAllocations(const v1::DeployJobRequest& request,
                                const std::map<std::pair<int, int>, LocalTask>& tasks) const;
  // Worker: the blocking part of a deployment.
  absl::StatusOr<Built> Build(const v1::DeployJobRequest& request,
                              std::shared_ptr<const Subtasks> subtasks);
  absl::StatusOr<std::string> FetchLibrary(const std::string& job_manager_address,
                                           const std::string& sha256);
  absl::StatusOr<const engine::JobLibrary*> Library(const std::string& job_manager_address,
                                                    const std::string& sha256);
  // Owner: the worker built (or failed to build) a job.
  void OnBuilt(const Key& key, absl::StatusOr<Built> built, DeployDone done);
  // Takes the deployment at `it` out of jobs_ and stops it (or, while it is
  // built, marks it not to be kept, for `why`); returns the next one.
  Jobs::iterator StopAndForget(Jobs::iterator it, const absl::Status& why);
  // Stops a deployment no longer in jobs_: cancels it here, joins it on the
  // worker, then calls `done` there.
  void Stop(const Key& key, std::unique_ptr<Deployed> deployed, Done done);
  // Runs the pending CancelAll() answer once no job is left.
  void AnswerCancelAllIfIdle();
  void ReportEnd(const Subtasks& subtasks, int vertex, int subtask, engine::JobState state,
                 const std::string& error);
  // A task's snapshot of a checkpoint: stored, then acknowledged (or declined).
  void OnSnapshot(const Subtasks& subtasks, int vertex, int subtask, int64_t id,
                  absl::StatusOr<v1::TaskSnapshotProto> snapshot);
  void Report(const Subtasks& subtasks, int vertex, int subtask, int attempt,
              v1::ExecutionState state, const std::string& error);

  const DeploymentOptions options_;
  DataExchange* const exchange_;
  TaskSlotTable* const slots_;  // owner only
  const TaskStateSink report_;
  const CheckpointSink checkpoint_report_;
  Executor* const owner_;
  Executor* const worker_;
  std::atomic<bool> closed_{false};
  // Owner only.
  Jobs jobs_;
  std::function<void()> on_all_cancelled_;
  // Worker only (and the destructor).
  std::map<std::string, std::unique_ptr<engine::JobLibrary>> libraries_;
  // Downloads in progress, for Close().
  absl::Mutex fetches_mu_;
  std::set<grpc::ClientContext*> fetches_ ABSL_GUARDED_BY(fetches_mu_);
  // Writes task state files too large to inline, so that a task thread
  // does not wait for the disk. Last: it stops (joined) before the rest goes.
  Mailbox state_writer_{"tm-state-io"};
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_JOB_DEPLOYMENTS_H_
