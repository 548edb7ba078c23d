// User functions with state and timers. A KeyedProcessFunction sees one record
// at a time, with keyed state and processing-time timers for its key; one
// instance exists per subtask and is never called concurrently.
#ifndef SLUICE_FUNCTIONS_H_
#define SLUICE_FUNCTIONS_H_

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "sluice/collector.h"
#include "sluice/runtime.h"
#include "sluice/state.h"

namespace sluice {

template <typename K>
class KeyedContext {
 public:
  KeyedContext(TaskRuntime* runtime, KeyScope<K>* scope) : runtime_(runtime), scope_(scope) {}

  const K& current_key() const { return scope_->current(); }
  int64_t CurrentProcessingTime() const { return runtime_->NowMs(); }
  int subtask() const { return runtime_->subtask(); }
  TaskRuntime& runtime() { return *runtime_; }

  template <typename V>
  ValueState<K, V>& GetValueState() {
    return Own(std::make_unique<ValueState<K, V>>(scope_));
  }
  template <typename V>
  ListState<K, V>& GetListState() {
    return Own(std::make_unique<ListState<K, V>>(scope_));
  }
  template <typename MK, typename MV>
  MapState<K, MK, MV>& GetMapState() {
    return Own(std::make_unique<MapState<K, MK, MV>>(scope_));
  }

  // Calls OnTimer for the current key once processing time reaches `when_ms`.
  // Registering the same (key, time) twice fires once.
  void RegisterProcessingTimeTimer(int64_t when_ms);
  void DeleteProcessingTimeTimer(int64_t when_ms) { timers_.erase({when_ms, current_key()}); }

  // Set by the operator: what to run when a timer fires.
  std::function<void(int64_t, const K&)> on_timer;

 private:
  template <typename S>
  S& Own(std::unique_ptr<S> state) {
    S& ref = *state;
    states_.push_back(
        std::shared_ptr<void>(state.release(), [](void* p) { delete static_cast<S*>(p); }));
    return ref;
  }

  TaskRuntime* runtime_;
  KeyScope<K>* scope_;
  std::vector<std::shared_ptr<void>> states_;
  std::set<std::pair<int64_t, K>> timers_;
};

template <typename K>
void KeyedContext<K>::RegisterProcessingTimeTimer(int64_t when_ms) {
  auto entry = std::make_pair(when_ms, current_key());
  if (!timers_.insert(entry).second) return;
  runtime_->RegisterTimer(when_ms, [this, entry] {
    if (timers_.erase(entry) == 0) return;  // deleted meanwhile
    on_timer(entry.first, entry.second);
  });
}

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
};

}  // namespace sluice

#endif  // SLUICE_FUNCTIONS_H_
