// Runs a job graph inside this process (Flink users know this as the
// MiniCluster): a task per subtask of every vertex, each in its own thread,
// connected by bounded local channels. TaskManagers run the same tasks and
// channels for their share of a job.
#ifndef SLUICE_ENGINE_LOCAL_JOB_H_
#define SLUICE_ENGINE_LOCAL_JOB_H_

#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/task.h"
#include "sluice/internal/graph.h"

namespace sluice::engine {

enum class JobState { kRunning, kFinished, kFailed, kCanceled };
const char* JobStateName(JobState state);

struct JobResult {
  JobState state = JobState::kRunning;
  std::string error;  // the first failure: operator, subtask and message
  absl::Duration duration;
};

// Where the subtasks of a job run, seen from this process. Channels are
// numbered the same way everywhere (edge by edge, consumer by consumer,
// producer by producer), so both ends of a remote channel agree on its id.
class Placement {
 public:
  virtual ~Placement() = default;
  virtual bool IsLocal(int vertex, int subtask) const = 0;
  // A sink for `channel`, whose consumer (vertex, subtask) runs elsewhere.
  virtual ChannelSink* RemoteOutput(int channel, int vertex, int subtask) = 0;
  // `channel` comes from (vertex, subtask) elsewhere into `gate_channel` of `gate`.
  virtual void RemoteInput(int channel, int vertex, int subtask, InputGate* gate, int gate_channel,
                           ChannelSink* sink) = 0;
  // The job is being cancelled or failed: remote sends must stop waiting.
  virtual void Cancel() {}
};

struct LocalJobOptions {
  absl::Duration buffer_timeout = absl::Milliseconds(100);  // execution.buffer-timeout
  absl::Duration auto_watermark_interval =
      absl::Milliseconds(200);  // pipeline.auto-watermark-interval
  int buffers_per_channel = 2;
  size_t segment_size = 32 << 10;  // taskmanager.memory.segment-size
  std::ostream* print_out = &std::cout;
  // Null: every subtask runs here.
  Placement* placement = nullptr;
  // Each local subtask's end: state FINISHED, FAILED or CANCELED, and the error.
  std::function<void(int vertex, int subtask, JobState state, const std::string& error)>
      on_task_end;
  // Start() only prepares; Run() starts the threads.
  bool paused = false;
  // Each in-band event a local task passes on or consumes (JobContext::on_event).
  std::function<void(int vertex, int subtask, const ChannelEvent& event)> on_event;
  // Each local task's checkpoint snapshot (JobContext::on_snapshot).
  std::function<void(int vertex, int subtask, int64_t id,
                     absl::StatusOr<v1::TaskSnapshotProto> snapshot)>
      on_snapshot;
  // State the tasks start from (a checkpoint's); null: none.
  std::shared_ptr<const RestoredState> restore;
};

class LocalJob {
 public:
  // The graph must come from a build function run in this process (it holds
  // the operator factories) and be finalized.
  static absl::StatusOr<std::unique_ptr<LocalJob>> Start(JobGraph graph, LocalJobOptions options);
  ~LocalJob();  // cancels and joins

  // Starts the threads of a job started paused.
  void Run();
  void Cancel();
  // Every local source sends `event` downstream, behind its records so far
  // (an `unaligned` barrier: ahead of what is queued downstream).
  void InjectAtSources(const ChannelEvent& event,
                       Task::AfterEvent after = Task::AfterEvent::kContinue,
                       bool unaligned = false);
  // Task::SwitchToUnaligned on every local task.
  void SwitchToUnaligned(const ChannelEvent& barrier);
  JobResult Wait();
  // The result if the job ended within `timeout`.
  std::optional<JobResult> WaitFor(absl::Duration timeout);
  const JobGraph& graph() const { return graph_; }
  // The tasks may run until `until` (JobContext::lease_until_ns).
  void ExtendLease(absl::Time until);
  // Checkpoint `id` is complete: every task here may commit.
  void NotifyCheckpointComplete(int64_t id);
  // The subtasks running in this process.
  std::vector<const Task*> tasks() const;

 private:
  LocalJob(JobGraph graph, LocalJobOptions options);
  void Connect(Placement* placement);
  void OnFailure(const std::string& message);
  // Wakes every task (and remote sends) so they notice the cancellation.
  void StopTasks();
  void OnTaskDone(const Task& task, bool failed);

  JobGraph graph_;
  JobContext context_;
  LocalJobOptions options_;
  std::vector<std::vector<std::unique_ptr<Task>>> tasks_;  // per vertex, per subtask (null: remote)
  std::vector<std::thread> threads_;
  absl::Time started_;
  mutable absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool cancel_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool started_threads_ ABSL_GUARDED_BY(mu_) = false;
  std::string error_ ABSL_GUARDED_BY(mu_);
  std::optional<JobResult> result_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_LOCAL_JOB_H_
