// The operator behind KeyedStream::Window (Flink's WindowOperator and
// EvictingWindowOperator). Per key, one keyed state value holds every open
// window of the key: its contents (an accumulator, or all records with an
// evictor), its record count and its trigger's state. Timers are the key's
// (event time or processing time); when one fires, the trigger is asked
// about each of the key's windows, and windows whose cleanup time (end +
// allowed lateness) has come are dropped. Merging assigners (sessions) merge
// a record's window with every window of the key it touches.
#ifndef SLUICE_INTERNAL_WINDOW_OPERATOR_H_
#define SLUICE_INTERNAL_WINDOW_OPERATOR_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "sluice/collector.h"
#include "sluice/internal/abi.h"
#include "sluice/internal/graph.h"
#include "sluice/internal/operators.h"
#include "sluice/serialization.h"
#include "sluice/state.h"
#include "sluice/windows.h"

namespace sluice {
namespace internal {

template <typename Contents>
struct WindowEntry {
  Contents contents{};
  int64_t count = 0;          // records in the contents
  int64_t trigger_state = 0;  // TriggerContext::state()
};
}  // namespace internal

template <typename C>
struct Serializer<internal::WindowEntry<C>> {
  static void Write(const internal::WindowEntry<C>& e, Writer& w) {
    Serializer<C>::Write(e.contents, w);
    Serializer<int64_t>::Write(e.count, w);
    Serializer<int64_t>::Write(e.trigger_state, w);
  }
  static internal::WindowEntry<C> Read(Reader& r) {
    internal::WindowEntry<C> e;
    e.contents = Serializer<C>::Read(r);
    e.count = Serializer<int64_t>::Read(r);
    e.trigger_state = Serializer<int64_t>::Read(r);
    return e;
  }
};

template <typename T>
struct Serializer<TimestampedValue<T>> {
  static void Write(const TimestampedValue<T>& v, Writer& w) {
    Serializer<int64_t>::Write(v.timestamp, w);
    Serializer<T>::Write(v.value, w);
  }
  static TimestampedValue<T> Read(Reader& r) {
    TimestampedValue<T> v;
    v.timestamp = Serializer<int64_t>::Read(r);
    v.value = Serializer<T>::Read(r);
    return v;
  }
};

namespace internal {

// How a window's records become its result.
template <typename T, typename F>
struct ReduceWindowFunction {
  using Acc = std::optional<T>;
  F f;
  Acc Create() const { return std::nullopt; }
  void Add(Acc& acc, const T& v) {
    if (acc) {
      acc = f(*acc, v);
    } else {
      acc = v;
    }
  }
  void Merge(Acc& into, Acc&& from) {
    if (from) Add(into, *from);
  }
  const T& Get(const Acc& acc) const { return *acc; }
};

// A user AggregateFunction: CreateAccumulator(), Add(const T&, Acc) -> Acc,
// GetResult(const Acc&) -> R, and, for session windows, Merge(Acc, Acc) -> Acc.
template <typename T, typename A>
struct AggregateWindowFunction {
  using Acc = std::decay_t<decltype(std::declval<A&>().CreateAccumulator())>;
  A agg;
  Acc Create() { return agg.CreateAccumulator(); }
  void Add(Acc& acc, const T& v) { acc = agg.Add(v, std::move(acc)); }
  void Merge(Acc& into, Acc&& from) {
    if constexpr (requires { agg.Merge(std::move(into), std::move(from)); }) {
      into = agg.Merge(std::move(into), std::move(from));
    } else {
      throw std::logic_error("merging windows need the AggregateFunction's Merge(Acc, Acc)");
    }
  }
  decltype(auto) Get(const Acc& acc) { return agg.GetResult(acc); }
};

template <typename T>
struct ListWindowFunction {
  using Acc = std::vector<T>;
  Acc Create() const { return {}; }
  void Add(Acc& acc, const T& v) { acc.push_back(v); }
  void Merge(Acc& into, Acc&& from) {
    into.insert(into.end(), std::make_move_iterator(from.begin()),
                std::make_move_iterator(from.end()));
  }
  const Acc& Get(const Acc& acc) const { return acc; }
};

// The result goes downstream as it is, or through the user's window function.
struct EmitResult {
  template <typename K, typename R, typename Out>
  void operator()(const K&, const TimeWindow&, R&& result, Collector<Out>& out) const {
    out.Collect(std::forward<R>(result));
  }
};

// What WindowedStream hands the operator.
template <typename T, typename Assigner>
struct WindowSpec {
  Assigner assigner;
  TriggerPtr trigger;
  EvictorPtr<T> evictor;
  int64_t allowed_lateness = 0;
  std::string late_tag;  // the side output for late records; empty: dropped
};

template <typename K, typename T, typename Out, typename KeyF, typename Assigner, typename Fn,
          typename Final>
class WindowOperator final : public Collector<T>,
                             public TimerTarget,
                             public EventTimeTimerTarget,
                             private TriggerContext {
  using Buffered = std::vector<TimestampedValue<T>>;

 public:
  WindowOperator(const OperatorContext& ctx, KeyF key, WindowSpec<T, Assigner> spec, Fn fn,
                 Final final, Collector<Out>* out)
      : name_(ctx.name),
        key_(std::move(key)),
        spec_(std::move(spec)),
        fn_(std::move(fn)),
        final_(std::move(final)),
        out_(out),
        runtime_(ctx.runtime),
        keyed_(ctx.keyed_runtime(this)),
        timestamp_(ctx.timestamp),
        late_(ctx.late_records_dropped),
        late_output_(LateOutput(ctx, spec_.late_tag)),
        incremental_(spec_.evictor ? nullptr
                                   : keyed_->State("window:contents",
                                                   StateTypeOf<Windows<typename Fn::Acc>>())),
        buffered_(spec_.evictor ? keyed_->State("window:buffered", StateTypeOf<Windows<Buffered>>())
                                : nullptr) {
    if (Assigner::kMerging && !spec_.trigger->CanMerge()) {
      throw UserCodeError(name_, "the trigger cannot be used with merging (session) windows");
    }
  }
  using Collector<T>::Collect;
  void Collect(T&& record) override { Collect(static_cast<const T&>(record)); }
  void Collect(const T& record) override {
    key_.Set(name_, record, &key_value_, keyed_);
    if (spec_.evictor) {
      OnRecord<Buffered>(record, buffered_);
    } else {
      OnRecord<typename Fn::Acc>(record, incremental_);
    }
  }
  void EndOfInput() override { out_->EndOfInput(); }

  void OnEventTimeTimer(int64_t time, std::string_view key) override {
    OnKeyTimer(time, key, true);
  }
  void OnTimer(int64_t time, std::string_view key) override { OnKeyTimer(time, key, false); }

 private:
  template <typename C>
  using Windows = std::map<TimeWindow, WindowEntry<C>>;

  static Collector<T>* LateOutput(const OperatorContext& ctx, const std::string& tag) {
    if (tag.empty() || !ctx.side_output) return nullptr;
    return static_cast<Collector<T>*>(ctx.side_output(tag, typeid(T).name()));
  }

  template <typename C>
  void OnRecord(const T& record, StateTable* table) {
    int64_t time = *timestamp_;
    if constexpr (Assigner::kEventTime) {
      if (time == kNoTimestamp) {
        throw UserCodeError(name_,
                            "an event-time window got a record without a timestamp: assign "
                            "timestamps and watermarks upstream (AssignTimestampsAndWatermarks)");
      }
    } else {
      time = runtime_->NowMs();
    }
    auto* windows = static_cast<Windows<C>*>(table->GetOrCreate());
    bool added = false;
    spec_.assigner.Assign(time, [&](TimeWindow window) {
      if constexpr (Assigner::kMerging) {
        std::optional<TimeWindow> merged = MergeWindows(*windows, window);
        if (!merged) return;
        window = *merged;
      }
      if (IsLate(window)) return;
      added = true;
      auto [it, inserted] = windows->try_emplace(window);
      WindowEntry<C>& entry = it->second;
      if (inserted) {
        entry.contents = CreateContents<C>();
        RegisterCleanup(window);
      }
      AddTo(entry, record, time);
      Select(&entry.trigger_state);
      Act(CallUser(name_, [&] { return spec_.trigger->OnElement(time, window, *this); }), window,
          entry);
    });
    if (!added) {
      if (late_output_ != nullptr) {
        late_output_->Collect(record);
      } else {
        late_->fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (windows->empty()) table->Remove();
  }

  // Merges `window` with the key's windows it touches; nullopt if the
  // result is late already.
  template <typename C>
  std::optional<TimeWindow> MergeWindows(Windows<C>& windows, const TimeWindow& window) {
    TimeWindow cover = window;
    std::vector<TimeWindow> touched;
    for (const auto& [w, entry] : windows) {
      if (w.Intersects(window)) {
        cover = cover.Cover(w);
        touched.push_back(w);
      }
    }
    if (IsLate(cover)) return std::nullopt;
    if (touched.empty() || (touched.size() == 1 && touched.front() == cover)) return cover;
    WindowEntry<C> merged;
    merged.contents = CreateContents<C>();
    std::vector<int64_t> states;
    for (const TimeWindow& w : touched) {
      WindowEntry<C>& old = windows.at(w);
      Select(&old.trigger_state);
      spec_.trigger->Clear(w, *this);
      DeleteCleanup(w);
      states.push_back(old.trigger_state);
      MergeContents(merged, std::move(old));
      windows.erase(w);
    }
    WindowEntry<C>& entry = windows[cover] = std::move(merged);
    Select(&entry.trigger_state);
    spec_.trigger->OnMerge(cover, states, *this);
    RegisterCleanup(cover);
    return cover;
  }

  void OnKeyTimer(int64_t time, std::string_view key, bool event_time) {
    Reader r(key.data(), key.size());
    key_value_ = Serializer<K>::Read(r);
    if (spec_.evictor) {
      FireWindows<Buffered>(time, event_time, buffered_);
    } else {
      FireWindows<typename Fn::Acc>(time, event_time, incremental_);
    }
  }

  template <typename C>
  void FireWindows(int64_t time, bool event_time, StateTable* table) {
    auto* windows = static_cast<Windows<C>*>(table->Get());
    if (windows == nullptr) return;
    for (auto it = windows->begin(); it != windows->end();) {
      const TimeWindow window = it->first;
      WindowEntry<C>& entry = it->second;
      Select(&entry.trigger_state);
      TriggerResult result = CallUser(name_, [&] {
        return event_time ? spec_.trigger->OnEventTime(time, window, *this)
                          : spec_.trigger->OnProcessingTime(time, window, *this);
      });
      Act(result, window, entry);
      if (event_time == Assigner::kEventTime && CleanupTime(window) <= time) {
        spec_.trigger->Clear(window, *this);
        it = windows->erase(it);
      } else {
        ++it;
      }
    }
    if (windows->empty()) table->Remove();
  }

  template <typename C>
  void Act(TriggerResult result, const TimeWindow& window, WindowEntry<C>& entry) {
    if (result == TriggerResult::kFire || result == TriggerResult::kFireAndPurge) {
      Emit(window, entry);
    }
    if (result == TriggerResult::kPurge || result == TriggerResult::kFireAndPurge) {
      entry.contents = CreateContents<C>();
      entry.count = 0;
    }
  }

  template <typename C>
  void Emit(const TimeWindow& window, WindowEntry<C>& entry) {
    if (entry.count == 0) return;
    *timestamp_ = window.max_timestamp();
    if constexpr (std::is_same_v<C, Buffered>) {
      const int64_t watermark = keyed_->current_watermark();
      CallUser(name_, [&] { spec_.evictor->EvictBefore(entry.contents, window, watermark); });
      entry.count = static_cast<int64_t>(entry.contents.size());
      if (entry.contents.empty()) return;
      typename Fn::Acc acc = fn_.Create();
      for (const auto& e : entry.contents) fn_.Add(acc, e.value);
      CallUser(name_, [&] { final_(key_value_, window, fn_.Get(acc), *out_); });
      CallUser(name_, [&] { spec_.evictor->EvictAfter(entry.contents, window, watermark); });
      entry.count = static_cast<int64_t>(entry.contents.size());
    } else {
      CallUser(name_, [&] { final_(key_value_, window, fn_.Get(entry.contents), *out_); });
    }
  }

  template <typename C>
  C CreateContents() {
    if constexpr (std::is_same_v<C, Buffered>) {
      return {};
    } else {
      return fn_.Create();
    }
  }
  template <typename C>
  void AddTo(WindowEntry<C>& entry, const T& record, int64_t time) {
    if constexpr (std::is_same_v<C, Buffered>) {
      entry.contents.push_back({time, record});
    } else {
      CallUser(name_, [&] { fn_.Add(entry.contents, record); });
    }
    ++entry.count;
  }
  template <typename C>
  void MergeContents(WindowEntry<C>& into, WindowEntry<C>&& from) {
    if constexpr (std::is_same_v<C, Buffered>) {
      into.contents.insert(into.contents.end(), from.contents.begin(), from.contents.end());
    } else {
      CallUser(name_, [&] { fn_.Merge(into.contents, std::move(from.contents)); });
    }
    into.count += from.count;
  }

  // Event time: a window is gone once the watermark passed its end plus the
  // allowed lateness. Processing time: at its end.
  int64_t CleanupTime(const TimeWindow& window) const {
    if constexpr (!Assigner::kEventTime) return window.max_timestamp();
    const int64_t end = window.max_timestamp();
    return end > std::numeric_limits<int64_t>::max() - spec_.allowed_lateness
               ? std::numeric_limits<int64_t>::max()
               : end + spec_.allowed_lateness;
  }
  bool IsLate(const TimeWindow& window) const {
    return Assigner::kEventTime && CleanupTime(window) <= keyed_->current_watermark();
  }
  void RegisterCleanup(const TimeWindow& window) {
    if (window.end == std::numeric_limits<int64_t>::max()) return;  // a global window
    if (Assigner::kEventTime) {
      keyed_->RegisterEventTimeTimer(CleanupTime(window));
    } else {
      keyed_->RegisterProcessingTimeTimer(CleanupTime(window));
    }
  }
  void DeleteCleanup(const TimeWindow& window) {
    if (Assigner::kEventTime) {
      keyed_->DeleteEventTimeTimer(CleanupTime(window));
    } else {
      keyed_->DeleteProcessingTimeTimer(CleanupTime(window));
    }
  }

  // TriggerContext, for the window selected.
  void Select(int64_t* state) { trigger_state_ = state; }
  int64_t CurrentWatermark() const override { return keyed_->current_watermark(); }
  int64_t CurrentProcessingTime() const override { return runtime_->NowMs(); }
  void RegisterEventTimeTimer(int64_t time) override { keyed_->RegisterEventTimeTimer(time); }
  void DeleteEventTimeTimer(int64_t time) override { keyed_->DeleteEventTimeTimer(time); }
  void RegisterProcessingTimeTimer(int64_t time) override {
    keyed_->RegisterProcessingTimeTimer(time);
  }
  void DeleteProcessingTimeTimer(int64_t time) override { keyed_->DeleteProcessingTimeTimer(time); }
  int64_t& state() override { return *trigger_state_; }

  std::string name_;
  KeyOf<K, T, KeyF> key_;
  WindowSpec<T, Assigner> spec_;
  Fn fn_;
  Final final_;
  Collector<Out>* out_;
  TaskRuntime* runtime_;
  KeyedRuntime* keyed_;
  int64_t* timestamp_;
  std::atomic<uint64_t>* late_;
  Collector<T>* late_output_;
  StateTable* incremental_;  // without an evictor
  StateTable* buffered_;     // with an evictor
  K key_value_{};
  int64_t* trigger_state_ = nullptr;
};

}  // namespace internal

}  // namespace sluice

#endif  // SLUICE_INTERNAL_WINDOW_OPERATOR_H_
