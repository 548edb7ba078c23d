// User functions with state and timers. A KeyedProcessFunction sees one record
// at a time, with keyed state and processing-time and event-time timers for
// its key; one instance exists per subtask and is never called concurrently.
//
//   class CountPerKey : public sluice::KeyedProcessFunction<std::string, Event, Count> {
//     void Open(sluice::KeyedContext<std::string>& ctx) override {
//       count_ = &ctx.GetState(sluice::ValueStateDescriptor<int64_t>("count"));
//     }
//     void ProcessElement(const Event& e, sluice::KeyedContext<std::string>& ctx,
//                         sluice::Collector<Count>& out) override {
//       count_->update(count_->value().value_or(0) + 1);
//       ctx.RegisterProcessingTimeTimer(ctx.CurrentProcessingTime() + 1000);
//     }
//     void OnTimer(int64_t when, sluice::KeyedContext<std::string>& ctx,
//                  sluice::Collector<Count>& out) override { ... }
//     sluice::ValueState<int64_t>* count_ = nullptr;
//   };
#ifndef SLUICE_FUNCTIONS_H_
#define SLUICE_FUNCTIONS_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "sluice/collector.h"
#include "sluice/internal/abi.h"
#include "sluice/runtime.h"
#include "sluice/side_output.h"
#include "sluice/state.h"

namespace sluice {

// Which clock a timer belongs to (Flink's TimeDomain).
enum class TimeDomain { kEventTime, kProcessingTime };

// What every process function sees of the record being processed: its
// event time, the clocks, and side outputs.
class ProcessContext {
 public:
  // The watermark is read from `keyed` (a keyed operator's) if given, else
  // from `watermark`, which the operator keeps.
  ProcessContext(TaskRuntime* runtime, const int64_t* timestamp, const int64_t* watermark,
                 const internal::KeyedRuntime* keyed, internal::SideOutputs* side_outputs)
      : runtime_(runtime),
        timestamp_(timestamp),
        watermark_(watermark),
        keyed_watermark_(keyed),
        side_(side_outputs) {}

  // The event time of the record being processed (in OnTimer: of the timer,
  // for an event-time one), or nullopt without a timestamp assigner upstream.
  std::optional<int64_t> timestamp() const {
    if (*timestamp_ == internal::kNoTimestamp) return std::nullopt;
    return *timestamp_;
  }
  // The operator's watermark: no record older than it is expected any more.
  // internal::kNoWatermark (the smallest int64) before the first one.
  int64_t CurrentWatermark() const {
    if (keyed_watermark_ != nullptr) return keyed_watermark_->current_watermark();
    return watermark_ != nullptr ? *watermark_ : internal::kNoWatermark;
  }
  int64_t CurrentProcessingTime() const { return runtime_->NowMs(); }
  int subtask() const { return runtime_->subtask(); }
  TaskRuntime& runtime() { return *runtime_; }
  // Emits `value` to side output `tag` (read with GetSideOutput(tag)), with
  // the current record's event time.
  template <typename T>
  void Output(const OutputTag<T>& tag, const T& value) {
    if (side_ != nullptr) side_->Emit(tag, value);
  }

 private:
  TaskRuntime* runtime_;
  const int64_t* timestamp_;
  const int64_t* watermark_;
  const internal::KeyedRuntime* keyed_watermark_;
  internal::SideOutputs* side_;
};

template <typename K>
class KeyedContext : public ProcessContext {
 public:
  KeyedContext(TaskRuntime* runtime, internal::KeyedRuntime* keyed, const K* const* key,
               const int64_t* timestamp, internal::SideOutputs* side_outputs)
      : ProcessContext(runtime, timestamp, nullptr, keyed, side_outputs),
        keyed_(keyed),
        key_(key) {}

  // The key of the record or timer being processed.
  const K& current_key() const { return **key_; }
  // In OnTimer: which kind of timer fired.
  TimeDomain time_domain() const { return domain_; }

  // The handle of a named keyed state (call in Open; the handle stays valid).
  template <typename Descriptor>
  typename Descriptor::Handle& GetState(const Descriptor& descriptor) {
    using Stored = typename Descriptor::Stored;
    internal::StateTable* table = keyed_->State(
        std::string(Descriptor::kKind) + ":" + descriptor.name, internal::StateTypeOf<Stored>());
    auto handle = std::make_shared<typename Descriptor::Handle>(descriptor.Make(table));
    handles_.push_back(handle);
    return *handle;
  }

  // Calls OnTimer for the current key once processing time reaches `when_ms`.
  // Registering the same (key, time) twice fires once. Timers still pending
  // when a bounded input ends fire then, in time order.
  void RegisterProcessingTimeTimer(int64_t when_ms) {
    keyed_->RegisterProcessingTimeTimer(when_ms);
  }
  void DeleteProcessingTimeTimer(int64_t when_ms) { keyed_->DeleteProcessingTimeTimer(when_ms); }
  // Calls OnTimer for the current key once the watermark reaches `when_ms`
  // (at the latest when a bounded input ends). One per (key, time).
  void RegisterEventTimeTimer(int64_t when_ms) { keyed_->RegisterEventTimeTimer(when_ms); }
  void DeleteEventTimeTimer(int64_t when_ms) { keyed_->DeleteEventTimeTimer(when_ms); }

  // For the operator: which timer is being fired.
  void set_time_domain(TimeDomain domain) { domain_ = domain; }

 private:
  internal::KeyedRuntime* keyed_;
  const K* const* key_;  // the operator's pointer to the current key
  TimeDomain domain_ = TimeDomain::kProcessingTime;
  std::deque<std::shared_ptr<void>> handles_;
};

template <typename K, typename In, typename Out>
class KeyedProcessFunction {
 public:
  using Key = K;
  using Input = In;
  using Output = Out;
  virtual ~KeyedProcessFunction() = default;
  // Obtain state handles here.
  virtual void Open(KeyedContext<K>& ctx) { (void)ctx; }
  virtual void ProcessElement(const In& value, KeyedContext<K>& ctx, Collector<Out>& out) = 0;
  virtual void OnTimer(int64_t timestamp_ms, KeyedContext<K>& ctx, Collector<Out>& out) {
    (void)timestamp_ms, (void)ctx, (void)out;
  }
  // A bounded input has ended and every pending timer has fired; the last
  // chance to emit. There is no current key here.
  virtual void OnEndOfInput(Collector<Out>& out) { (void)out; }
};

// A function over every record of a stream that is not keyed (Flink's
// ProcessFunction): no keyed state or timers, but side outputs and the
// record's event time.
template <typename In, typename Out>
class ProcessFunction {
 public:
  using Input = In;
  using Output = Out;
  virtual ~ProcessFunction() = default;
  virtual void Open(ProcessContext& ctx) { (void)ctx; }
  virtual void ProcessElement(const In& value, ProcessContext& ctx, Collector<Out>& out) = 0;
  // A bounded input has ended; the last chance to emit.
  virtual void OnEndOfInput(Collector<Out>& out) { (void)out; }
};

}  // namespace sluice

#endif  // SLUICE_FUNCTIONS_H_
