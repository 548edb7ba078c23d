// One subtask of a job vertex, running in its own thread: it builds its chain
// of operators from the graph's factories, then processes input buffers (or
// runs its source), fires timers and flushes output buffers, all from one
// loop, so user code is never called concurrently for one subtask.
#ifndef SLUICE_ENGINE_TASK_H_
#define SLUICE_ENGINE_TASK_H_

#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/barrier_aligner.h"
#include "engine/channel.h"
#include "engine/channel_state.h"
#include "engine/heap_keyed_state_backend.h"
#include "engine/input_gate.h"
#include "engine/record_writer.h"
#include "engine/task_snapshot.h"
#include "engine/watermark_valve.h"
#include "sluice/internal/graph.h"
#include "sluice/runtime.h"

namespace sluice::engine {

// What all tasks of one job share.
struct JobContext {
  std::atomic<bool> cancelled{false};
  absl::Duration buffer_timeout = absl::Milliseconds(100);
  absl::Duration auto_watermark_interval = absl::Milliseconds(200);
  int buffers_per_channel = 2;
  size_t segment_size = 32 << 10;  // taskmanager.memory.segment-size
  std::ostream* print_out = nullptr;
  std::mutex print_mu;
  // Called once per failing task with "operator (subtask i/n): message".
  std::function<void(const std::string&)> on_failure;
  // Called on a task's thread for each in-band event it passes on (or, at a
  // sink, consumes): an aligned barrier, a cancel marker, a new watermark.
  std::function<void(int vertex, int subtask, const ChannelEvent& event)> on_event;
  // Called on a task's thread once it has passed checkpoint barrier `id` on
  // (a source: injected it): its snapshot, or why it could not take one.
  std::function<void(int vertex, int subtask, int64_t id,
                     absl::StatusOr<v1::TaskSnapshotProto> snapshot)>
      on_snapshot;
  // State the tasks start from; null: none.
  std::shared_ptr<const RestoredState> restore;
  // Until when the tasks may run (absl::GetCurrentTimeNanos()): a TaskManager
  // extends it with each heartbeat of the job's JobMaster, so that tasks of a
  // paused TaskManager, resumed after the job moved on without them, stop by
  // themselves before they write anything more.
  std::atomic<int64_t> lease_until_ns{std::numeric_limits<int64_t>::max()};
  bool LeaseExpired() const {
    return absl::GetCurrentTimeNanos() > lease_until_ns.load(std::memory_order_relaxed);
  }
};

// What a task did, for metrics; updated by the task thread, read by anyone.
struct TaskStats {
  std::atomic<uint64_t> records_in{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  // When the task started running (absl::GetCurrentTimeNanos(); 0: not
  // yet): its busy time is the rest of the time since then.
  std::atomic<int64_t> running_since_ns{0};
  std::atomic<int64_t> idle_ns{0};           // waiting for input (a source: for its next record)
  std::atomic<int64_t> backpressured_ns{0};  // waiting for room downstream
  // Of the latest checkpoint barrier passed on (Flink's checkpointStartDelay
  // and checkpointAlignmentTime): from its trigger to its first arrival here,
  // and from that to the last input's (0 for one input).
  std::atomic<int64_t> checkpoint_start_delay_ns{0};
  std::atomic<int64_t> checkpoint_alignment_ns{0};
  // Event time (Flink's currentInputWatermark / currentOutputWatermark):
  // the watermark at the chain's head and the one it sent downstream.
  std::atomic<int64_t> input_watermark{internal::kNoWatermark};
  std::atomic<int64_t> output_watermark{internal::kNoWatermark};
  std::atomic<uint64_t> late_records_dropped{0};  // by the chain's windows
};

class Task;
// The task whose thread calls this (null on other threads): a crash handler
// names it as the cause.
const Task* CurrentTask();

class Task final : public TaskRuntime {
 public:
  Task(const JobGraph& graph, const JobVertex& vertex, int subtask, JobContext* job);
  ~Task() override;

  // Wiring, before Run(): where this task's output goes, per outgoing edge.
  InputGate& gate() { return gate_; }
  // Runs `action` on the task's thread between two steps (thread-safe).
  void Post(std::function<void()> action);
  // What a source does once it passed an event on (stop-with-savepoint).
  enum class AfterEvent { kContinue, kPause, kEnd };
  // A source sends `event` downstream on its thread, behind the records it
  // emitted so far (a checkpoint barrier, a watermark); other tasks ignore
  // it. Then it goes on, pauses (emits nothing more until cancelled) or
  // ends its input (the job drains and finishes).
  // An `unaligned` barrier overtakes the buffers queued downstream.
  void InjectEvent(const ChannelEvent& event, AfterEvent after = AfterEvent::kContinue,
                   bool unaligned = false);
  // Checkpoint `barrier.id` took longer than its aligned timeout: if this
  // task has not passed its barrier yet, it snapshots now and its barrier
  // overtakes the queued buffers (thread-safe).
  void SwitchToUnaligned(const ChannelEvent& barrier);
  void AddOutput(const JobEdge& edge, std::vector<ChannelSink*> channels);
  // Records the reader for input channels [first, first + count) of one edge.
  void AddInput(const JobEdge& edge, int first_channel, int count);

  // The thread body. Failures are reported through JobContext::on_failure.
  void Run();
  // After Run(): how it ended.
  bool failed() const { return !error_.empty(); }
  bool was_cancelled() const { return cancelled_; }
  const std::string& error() const { return error_; }
  int vertex() const { return vertex_.id; }
  const std::string& vertex_name() const { return vertex_.name; }
  const TaskStats& stats() const { return stats_; }
  // Checkpoint `id` is complete: the chain's operators may commit (on the
  // task's thread; thread-safe).
  void NotifyCheckpointComplete(int64_t id);
  // Per operator of the chain, head first: (name, records in, records out).
  struct OperatorCounts {
    int node_id = 0;  // unique in the job graph (names may repeat)
    std::string name;
    uint64_t records_in = 0;
    uint64_t records_out = 0;
    int64_t input_watermark = internal::kNoWatermark;  // currentInputWatermark
  };
  std::vector<OperatorCounts> operator_counts() const;
  // Share of the output channels' buffers in use (queued downstream or in flight).
  double output_pool_usage() const;
  uint64_t records_out() const;
  // Input buffers queued / buffers the input channels may hold.
  double input_pool_usage() const;

  // TaskRuntime.
  int subtask() const override { return subtask_; }
  int parallelism() const override { return vertex_.parallelism; }
  int max_parallelism() const override { return graph_.max_parallelism; }
  const std::string& task_name() const override { return name_; }
  int64_t NowMs() const override;
  bool cancelled() const override { return job_->cancelled.load() || job_->LeaseExpired(); }
  std::ostream& out() override { return *out_; }

 private:
  class LineBuffer;
  void BuildChain();
  // Keeps an operator of the chain; one with state of its own takes part in checkpoints.
  AnyCollector* Adopt(const StreamNode& node, std::unique_ptr<AnyCollector> op);
  void InitializeOperatorState();
  AnyCollector* BuildTail(OperatorContext& ctx);
  // A writer into one outgoing edge, for records of `typed`'s type.
  AnyCollector* EdgeOutput(const JobEdge& edge, const std::vector<ChannelSink*>& channels,
                           const StreamNode& typed);
  // The writers of every side output read downstream, made before the chain
  // so that their readers get an end of partition even if nothing is emitted.
  void BuildSideOutputs();
  AnyCollector* SideOutput(const StreamNode& node, const std::string& tag, const std::string& type);
  internal::KeyedRuntime* CreateKeyedRuntime(const StreamNode& node, internal::TimerTarget* target);
  // Backpressured (a write had to wait): an output without room, if any,
  // and waiting for it between records, where the task can take posted work
  // (a checkpoint trigger) and unaligned barriers (Flink's output
  // availability check before each record).
  ChannelSink* FullOutput() const;
  // Whether to check: a write waited within the last second.
  bool CheckingRoom();
  void AwaitOutputRoom();
  void RunSource();
  // Records the source emitted so far (into the chain, or out if alone).
  uint64_t SourceEmitted() const;
  void RunInputs();
  // Feeds one buffer's elements to the chain; false once it blocked its channel.
  void Consume(int channel, std::string buffer);
  void OnEvent(int channel, const ChannelEvent& event);
  void OnEndOfPartition(int channel);
  void Apply(int channel, const BarrierAligner::Decision& decision);
  void Emit(const ChannelEvent& event);
  // An unaligned barrier, ahead of what is queued downstream.
  void EmitPriorityBarrier(const ChannelEvent& barrier);
  // A barrier passed: the snapshot goes to JobContext::on_snapshot.
  void Snapshot(int64_t checkpoint_id);
  absl::StatusOr<v1::TaskSnapshotProto> TakeSnapshot(int64_t checkpoint_id);
  // Unaligned checkpoints (see channel_state.h).
  void OnPriorityBarrier(int channel, const ChannelEvent& barrier, uint64_t cut);
  // Snapshots now and sends `barrier` ahead of the queued output.
  void StartUnaligned(const ChannelEvent& barrier);
  // Takes what is queued before an in-band barrier of the checkpoint.
  void RecordQueuedBarriers();
  void FinishChannelState(int channel);
  // Every channel's in-flight data is in: the snapshot goes out.
  void AckIfComplete();
  void AbandonUnaligned();
  // After a restore from an unaligned checkpoint: its in-flight data first.
  void ReplayChannelState();
  void RecordBarrierTimes(const ChannelEvent& barrier, absl::Time first_arrival);
  void RunPosted();
  // Event time: the watermark reached chain stage `from` (and those after
  // it, up to a watermark generator); then the task's outputs.
  void AdvanceWatermark(size_t from, int64_t watermark);
  void EmitWatermark(int64_t watermark);
  void EmitWatermarkStatus(bool idle);
  // Every pipeline.auto-watermark-interval: the generators' new watermarks.
  void EmitPeriodicWatermarks();
  // A generator's punctuated watermark, emitted while it processed a record.
  void OnGeneratedWatermark(const StreamNode& node, int64_t watermark);
  void OnWatermarkStatus(int channel, bool idle);
  void FireTimers();
  absl::Time NextWakeUp() const;
  void FlushIfDue();
  // False once the job is cancelled or an output failed.
  bool Healthy() const;
  void Finish();
  // After the loop: a cancelled or failed output decides how the task ended.
  void ReportOutputs();

  const JobGraph& graph_;
  const JobVertex& vertex_;
  const int subtask_;
  JobContext* const job_;
  const std::string name_;
  InputGate gate_;
  std::vector<std::pair<const JobEdge*, std::vector<ChannelSink*>>> outputs_;
  std::vector<std::pair<const JobEdge*, std::pair<int, int>>> inputs_;
  std::vector<std::unique_ptr<AnyCollector>> collectors_;  // tail first
  AnyCollector* head_ = nullptr;  // first operator after the source, or the chain's head
  std::vector<std::unique_ptr<RecordWriter>> writers_;
  struct SideOutputWriter {
    const StreamNode* reader;  // one of the nodes reading it: its type
    AnyCollector* collector;   // into every edge to its readers
  };
  // By (emitting node id, tag).
  std::map<std::pair<int, std::string>, SideOutputWriter> side_outputs_;
  std::vector<std::unique_ptr<HeapKeyedStateBackend>> keyed_;
  std::vector<std::string> keyed_ids_;  // OperatorStateId of each keyed_ backend
  struct Checkpointed {
    const StreamNode* node;
    internal::CheckpointedOperator* op;
  };
  std::vector<Checkpointed> checkpointed_;
  // The chain's operators that take part in event time, head first.
  struct EventTimeStage {
    const StreamNode* node = nullptr;
    internal::WatermarkOperator* op = nullptr;
    internal::WatermarkGeneratorOperator* generator = nullptr;
    HeapKeyedStateBackend* keyed = nullptr;  // fires its event-time timers
    size_t position = 0;                     // in the chain
    int64_t generated = internal::kNoWatermark;
  };
  std::vector<EventTimeStage> event_time_;
  int64_t timestamp_ = internal::kNoTimestamp;  // of the record being processed
  int64_t output_watermark_ = internal::kNoWatermark;
  bool output_idle_ = false;
  bool generates_watermarks_ = false;
  absl::Time next_periodic_watermark_ = absl::InfinitePast();
  bool warned_unreplayable_ = false;
  AfterEvent source_after_ = AfterEvent::kContinue;
  std::unique_ptr<SourceRunner> source_;
  std::vector<std::function<void(std::string_view)>> readers_;  // per input channel
  std::unique_ptr<BarrierAligner> aligner_;
  std::unique_ptr<ChannelStateRecorder> channel_state_;
  absl::StatusOr<v1::TaskSnapshotProto> unaligned_snapshot_;
  // The newest checkpoint asked to go unaligned (set from other threads).
  std::atomic<int64_t> switched_to_unaligned_{0};
  std::unique_ptr<WatermarkValve> watermarks_;
  bool channel_blocked_ = false;  // Consume() stopped at a barrier
  int64_t aligning_id_ = 0;       // the barrier whose first arrival is below
  absl::Time first_barrier_;
  int open_channels_ = 0;
  absl::Mutex posted_mu_;
  std::vector<std::function<void()>> posted_ ABSL_GUARDED_BY(posted_mu_);
  std::atomic<bool> has_posted_{false};
  // When the output buffers were last flushed or seen empty, and the records
  // written by then: a buffer waits at most buffer-timeout from its first record.
  absl::Time last_flush_;
  uint64_t records_at_flush_ = 0;
  std::unique_ptr<LineBuffer> line_buffer_;
  std::unique_ptr<std::ostream> out_;
  // The operator being called, for failure messages.
  std::string current_operator_;
  std::string error_;
  bool cancelled_ = false;
  TaskStats stats_;
  std::vector<std::unique_ptr<ChannelSink>> metered_outputs_;
  bool output_waited_ = false;  // a write waited for room since the last check
  bool checking_room_ = false;
  absl::Time last_output_wait_;
  // Records passed from chain position k to k + 1 (fixed size: read by metrics).
  std::unique_ptr<std::atomic<uint64_t>[]> chained_;
  // The watermark at each chain position's input (read by metrics).
  std::unique_ptr<std::atomic<int64_t>[]> operator_watermarks_;
  void SetOperatorWatermarks(size_t from, size_t to, int64_t watermark);
};

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_TASK_H_
