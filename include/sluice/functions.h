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
#include "sluice/state.h"

namespace sluice {

// Which clock a timer belongs to (Flink's TimeDomain).
enum class TimeDomain { kEventTime, kProcessingTime };

template <typename K>
class KeyedContext {
 public:
  KeyedContext(TaskRuntime* runtime, internal::KeyedRuntime* keyed, const K* const* key,
               const int64_t* timestamp)
      : runtime_(runtime), keyed_(keyed), key_(key), timestamp_(timestamp) {}

  // The key of the record or timer being processed.
  const K& current_key() const { return **key_; }
  // The event time of the record being processed (in OnTimer: of the timer,
  // for an event-time one), or nullopt without a timestamp assigner upstream.
  std::optional<int64_t> timestamp() const {
    if (*timestamp_ == internal::kNoTimestamp) return std::nullopt;
    return *timestamp_;
  }
  // The operator's watermark: no record older than it is expected any more.
  // internal::kNoWatermark (the smallest int64) before the first one.
  int64_t CurrentWatermark() const { return keyed_->current_watermark(); }
  int64_t CurrentProcessingTime() const { return runtime_->NowMs(); }
  // In OnTimer: which kind of timer fired.
  TimeDomain time_domain() const { return domain_; }
  int subtask() const { return runtime_->subtask(); }
  TaskRuntime& runtime() { return *runtime_; }

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
  TaskRuntime* runtime_;
  internal::KeyedRuntime* keyed_;
  const K* const* key_;  // the operator's pointer to the current key
  const int64_t* timestamp_;
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

}  // namespace sluice

#endif  // SLUICE_FUNCTIONS_H_
