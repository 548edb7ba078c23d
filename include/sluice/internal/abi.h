// The interface between a job library and the runtime that runs it. A job
// library holds only what must be compiled with the user's types (operator
// templates, serializers, key selectors); everything at a chain's edges —
// buffers and their format, channels, in-band events, key groups and
// routing, state storage, timers, metrics — belongs to the runtime and is
// reached through the classes here. When this interface changes,
// kAbiVersion changes with it, and the runtime refuses a library built for
// another version (naming both) instead of crashing in it.
#ifndef SLUICE_INTERNAL_ABI_H_
#define SLUICE_INTERNAL_ABI_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::internal {

// Version 1: the runtime compiled into the library (framing, buffer size,
// routing and heap state in headers). Version 2: the runtime owns them.
// Version 3: Collector::Collect(const T&) is virtual (records only read are
// not copied) and sources report and restore their position (checkpoints).
// Version 4: side outputs (OperatorContext::side_output, StreamNode's
// side_output_tag) and inputs partitioned differently (input_partitionings),
// for two-input operators, broadcast state and joins.
// Additions a library built before them need not know of (a new interface
// that the runtime looks for, like CheckpointedOperator) keep the version.
inline constexpr int kAbiVersion = 4;

// Event time, in milliseconds since the epoch. A record without one (no
// timestamp assigner upstream) has kNoTimestamp; a task's watermark is
// kNoWatermark until its inputs have one, and kMaxWatermark once they ended.
inline constexpr int64_t kNoTimestamp = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kNoWatermark = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kMaxWatermark = std::numeric_limits<int64_t>::max();

// One outgoing edge of a task. For each record the library names its key
// (serialized; empty unless the edge is hash-partitioned); the runtime picks
// the channel (key group → subtask) and hands out the buffer to serialize the
// record into, then frames and sends it at EndRecord. Neither call throws or
// blocks forever: once the job is cancelled or a channel failed, records are
// dropped and the task ends after its current step.
class RecordOutput {
 public:
  virtual ~RecordOutput() = default;
  // Where to append the record's bytes (and nothing else) until EndRecord.
  virtual std::string* BeginRecord(std::string_view key) = 0;
  virtual void EndRecord() = 0;
};

// Keyed state of one operator instance, stored by the runtime's keyed state
// backend. Keys and values are handled by the library's serializers; the
// backend keeps values as objects of the library's types (heap backend),
// which it creates, copies, destroys and (for snapshots) serializes only
// through the StateType hooks.
struct StateType {
  void* (*create)();  // a default-constructed value
  void (*destroy)(void* value);
  void (*write)(const void* value, std::string* out);
  void* (*read)(std::string_view bytes);  // null if the bytes are malformed
};

// One named state of the current operator, for the key set by SetCurrentKey.
class StateTable {
 public:
  virtual ~StateTable() = default;
  // The current key's value, or null.
  virtual void* Get() = 0;
  // The current key's value, created default-constructed if absent.
  virtual void* GetOrCreate() = 0;
  virtual void Remove() = 0;
};

// What a keyed operator reaches of the runtime: the current key, its
// state tables and its timers.
class KeyedRuntime {
 public:
  virtual ~KeyedRuntime() = default;
  // Sets the key (serialized) that state access and timers refer to.
  virtual void SetCurrentKey(std::string_view key) = 0;
  virtual std::string_view current_key() const = 0;
  // The table of state `name` ("<kind>:<name>"), created on first use.
  virtual StateTable* State(const std::string& name, const StateType& type) = 0;
  // Timers for the current key; one per (key, timestamp).
  virtual void RegisterProcessingTimeTimer(int64_t timestamp_ms) = 0;
  virtual void DeleteProcessingTimeTimer(int64_t timestamp_ms) = 0;
  // At the end of a bounded input: fires every pending timer, in time order
  // (those registered meanwhile are dropped).
  virtual void FireAllTimers() = 0;
  // Event-time timers for the current key: they fire (EventTimeTimerTarget)
  // once the operator's watermark reaches them, in time order. One per (key,
  // timestamp); kept apart from processing-time timers.
  virtual void RegisterEventTimeTimer(int64_t timestamp_ms) = 0;
  virtual void DeleteEventTimeTimer(int64_t timestamp_ms) = 0;
  // The operator's watermark: event-time timers up to it have fired.
  virtual int64_t current_watermark() const = 0;
};

// What the library's keyed operator offers the runtime: a timer for `key`
// fired (processing time reached it, or the input ended — see
// KeyedProcessFunction::OnTimer).
class TimerTarget {
 public:
  virtual ~TimerTarget() = default;
  virtual void OnTimer(int64_t timestamp_ms, std::string_view key) = 0;
};

// A keyed operator with event-time timers: the runtime finds this interface
// on the TimerTarget it was given (dynamic_cast).
class EventTimeTimerTarget {
 public:
  virtual ~EventTimeTimerTarget() = default;
  virtual void OnEventTimeTimer(int64_t timestamp_ms, std::string_view key) = 0;
};

// An operator that acts on event time (a window, an event-time process
// function). The runtime calls it from the task's thread whenever the
// watermark at its input advances, after the operator's event-time timers up
// to `watermark` have fired, and before the operators after it in the chain
// and the task's outputs see the watermark; what it emits meanwhile goes
// downstream ahead of the watermark.
class WatermarkOperator {
 public:
  virtual ~WatermarkOperator() = default;
  virtual void ProcessWatermark(int64_t watermark) = 0;
};

// An operator that assigns timestamps and generates watermarks (Flink's
// TimestampsAndWatermarksOperator): the watermark after it in the chain is
// the one it generates; the one before it is ignored, except its end
// (kMaxWatermark). The runtime asks it every pipeline.auto-watermark-interval.
class WatermarkGeneratorOperator {
 public:
  virtual ~WatermarkGeneratorOperator() = default;
  // The watermark so far (kNoWatermark: none yet); it never goes back.
  virtual int64_t OnPeriodicEmit(int64_t now_ms) = 0;
  // True while its input has been idle longer than the strategy's idleness
  // timeout: then it holds no downstream watermark back.
  virtual bool idle(int64_t now_ms) const = 0;
};

// An operator with state of its own (not keyed) that takes part in
// checkpoints, like Flink's CheckpointedFunction with CheckpointListener: a
// two-phase-commit sink prepares at the barrier and commits once the
// checkpoint is complete. The runtime finds it among a chain's operators
// (dynamic_cast) and calls it only from the task's thread.
class CheckpointedOperator {
 public:
  virtual ~CheckpointedOperator() = default;
  // Before the first record. `states`: what every subtask of this operator
  // saved in checkpoint `checkpoint_id`, which the job restores (at any
  // parallelism: each subtask sees all of them, as Flink's union list
  // state); empty, with id 0, for a fresh start.
  virtual void InitializeState(int64_t checkpoint_id, const std::vector<std::string>& states) = 0;
  // At barrier `checkpoint_id`, between two records: what to save.
  virtual std::string SnapshotState(int64_t checkpoint_id) = 0;
  // Checkpoint `checkpoint_id` is complete (every earlier one is subsumed).
  virtual void NotifyCheckpointComplete(int64_t checkpoint_id) = 0;
};

}  // namespace sluice::internal

#endif  // SLUICE_INTERNAL_ABI_H_
