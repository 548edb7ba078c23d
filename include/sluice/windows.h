// Windows (Flink's windowing): a keyed stream is cut into windows by an
// assigner, a trigger says when a window's result is emitted, and a window
// function computes it — incrementally (Reduce, Aggregate), from all the
// window's records (Process), or both (Reduce / Aggregate with a function
// that also sees the window):
//
//   readings.KeyBy([](const Reading& r) { return r.sensor; })
//       .Window(sluice::TumblingEventTimeWindows::Of(std::chrono::minutes(1)))
//       .AllowedLateness(std::chrono::seconds(10))
//       .Aggregate(Average{}, [](const std::string& sensor, const sluice::TimeWindow& w,
//                                double avg, sluice::Collector<Report>& out) {...});
//
// Windows are [start, end): a result carries the event time end - 1. State
// (every window's contents, trigger state and timers) lives in the keyed
// state backend and is in every checkpoint.
#ifndef SLUICE_WINDOWS_H_
#define SLUICE_WINDOWS_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sluice/collector.h"
#include "sluice/internal/abi.h"
#include "sluice/internal/graph.h"
#include "sluice/serialization.h"
#include "sluice/state.h"

namespace sluice {

// [start, end) in event or processing time, ms since the epoch.
struct TimeWindow {
  int64_t start = 0;
  int64_t end = 0;
  int64_t max_timestamp() const { return end - 1; }
  // Overlapping or adjacent: session windows that merge (Flink's intersects).
  bool Intersects(const TimeWindow& o) const { return start <= o.end && end >= o.start; }
  TimeWindow Cover(const TimeWindow& o) const {
    return {std::min(start, o.start), std::max(end, o.end)};
  }
  auto operator<=>(const TimeWindow&) const = default;
};
SLUICE_SERIALIZABLE(TimeWindow, start, end);
inline std::ostream& operator<<(std::ostream& os, const TimeWindow& w) {
  return os << "[" << w.start << ", " << w.end << ")";
}

// The start of the window of `size` (aligned to the epoch plus `offset`) that
// holds `timestamp` (Flink's TimeWindow.getWindowStartWithOffset).
inline int64_t WindowStart(int64_t timestamp, int64_t offset, int64_t size) {
  const int64_t r = (timestamp - offset) % size;
  return r < 0 ? timestamp - (r + size) : timestamp - r;
}

// --- Window assigners ---------------------------------------------------------

namespace internal {
inline int64_t Millis(std::chrono::milliseconds d) { return d.count(); }
inline void CheckPositive(const char* what, int64_t ms) {
  if (ms <= 0) throw GraphError(std::string(what) + " must be positive");
}

template <bool kEventTimeV>
class TumblingWindows {
 public:
  static constexpr bool kEventTime = kEventTimeV;
  static constexpr bool kMerging = false;
  static TumblingWindows Of(std::chrono::milliseconds size,
                            std::chrono::milliseconds offset = std::chrono::milliseconds(0)) {
    CheckPositive("a tumbling window's size", Millis(size));
    return TumblingWindows(Millis(size), Millis(offset) % Millis(size));
  }
  template <typename Add>
  void Assign(int64_t timestamp, Add&& add) const {
    const int64_t start = WindowStart(timestamp, offset_, size_);
    add(TimeWindow{start, start + size_});
  }

 private:
  TumblingWindows(int64_t size, int64_t offset) : size_(size), offset_(offset) {}
  int64_t size_;
  int64_t offset_;
};

template <bool kEventTimeV>
class SlidingWindows {
 public:
  static constexpr bool kEventTime = kEventTimeV;
  static constexpr bool kMerging = false;
  static SlidingWindows Of(std::chrono::milliseconds size, std::chrono::milliseconds slide,
                           std::chrono::milliseconds offset = std::chrono::milliseconds(0)) {
    CheckPositive("a sliding window's size", Millis(size));
    CheckPositive("a sliding window's slide", Millis(slide));
    return SlidingWindows(Millis(size), Millis(slide), Millis(offset) % Millis(slide));
  }
  // Every window of the slide that holds `timestamp`, the latest first.
  template <typename Add>
  void Assign(int64_t timestamp, Add&& add) const {
    const int64_t last = WindowStart(timestamp, offset_, slide_);
    for (int64_t start = last; start > timestamp - size_; start -= slide_) {
      add(TimeWindow{start, start + size_});
    }
  }

 private:
  SlidingWindows(int64_t size, int64_t slide, int64_t offset)
      : size_(size), slide_(slide), offset_(offset) {}
  int64_t size_;
  int64_t slide_;
  int64_t offset_;
};

template <bool kEventTimeV>
class SessionWindows {
 public:
  static constexpr bool kEventTime = kEventTimeV;
  static constexpr bool kMerging = true;
  static SessionWindows WithGap(std::chrono::milliseconds gap) {
    CheckPositive("a session window's gap", Millis(gap));
    return SessionWindows(Millis(gap));
  }
  // Each record opens [t, t + gap); windows that touch or overlap merge.
  template <typename Add>
  void Assign(int64_t timestamp, Add&& add) const {
    add(TimeWindow{timestamp, timestamp + gap_});
  }

 private:
  explicit SessionWindows(int64_t gap) : gap_(gap) {}
  int64_t gap_;
};

// One window per key that never ends (count windows are made of it).
class GlobalWindowsAssigner {
 public:
  static constexpr bool kEventTime = false;
  static constexpr bool kMerging = false;
  template <typename Add>
  void Assign(int64_t, Add&& add) const {
    add(TimeWindow{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()});
  }
};
}  // namespace internal

using TumblingEventTimeWindows = internal::TumblingWindows<true>;
using TumblingProcessingTimeWindows = internal::TumblingWindows<false>;
using SlidingEventTimeWindows = internal::SlidingWindows<true>;
using SlidingProcessingTimeWindows = internal::SlidingWindows<false>;
using EventTimeSessionWindows = internal::SessionWindows<true>;
using ProcessingTimeSessionWindows = internal::SessionWindows<false>;
struct GlobalWindows {
  static internal::GlobalWindowsAssigner Create() { return {}; }
};

// --- Triggers -------------------------------------------------------------------

enum class TriggerResult { kContinue, kFire, kPurge, kFireAndPurge };

// What a trigger reaches for the window it is asked about. Timers are the
// key's: when one fires, the trigger is asked about each of the key's windows.
class TriggerContext {
 public:
  virtual ~TriggerContext() = default;
  virtual int64_t CurrentWatermark() const = 0;
  virtual int64_t CurrentProcessingTime() const = 0;
  virtual void RegisterEventTimeTimer(int64_t time) = 0;
  virtual void DeleteEventTimeTimer(int64_t time) = 0;
  virtual void RegisterProcessingTimeTimer(int64_t time) = 0;
  virtual void DeleteProcessingTimeTimer(int64_t time) = 0;
  // The trigger's state for this window (a count, a next firing time): 0 at
  // first, checkpointed with the window.
  virtual int64_t& state() = 0;
};

// When a window emits its result (Flink's Trigger). A trigger keeps what it
// needs per window in ctx.state(), never in members: one instance serves
// every window and every subtask.
class Trigger {
 public:
  virtual ~Trigger() = default;
  virtual TriggerResult OnElement(int64_t timestamp, const TimeWindow& window,
                                  TriggerContext& ctx) const = 0;
  virtual TriggerResult OnEventTime(int64_t time, const TimeWindow& window,
                                    TriggerContext& ctx) const = 0;
  virtual TriggerResult OnProcessingTime(int64_t time, const TimeWindow& window,
                                         TriggerContext& ctx) const = 0;
  // Session windows: whether it works on merging windows, and the merged
  // window's state from the states of the windows merged into it.
  virtual bool CanMerge() const { return false; }
  virtual void OnMerge(const TimeWindow& window, const std::vector<int64_t>& merged_states,
                       TriggerContext& ctx) const {
    (void)window, (void)merged_states, (void)ctx;
  }
  // The window is gone: delete its timers.
  virtual void Clear(const TimeWindow& window, TriggerContext& ctx) const {
    (void)window, (void)ctx;
  }
};
using TriggerPtr = std::shared_ptr<const Trigger>;

// Fires once the watermark passes the window's end (and again for each
// record that comes late but within the allowed lateness).
class EventTimeTrigger final : public Trigger {
 public:
  static TriggerPtr Create() { return std::make_shared<EventTimeTrigger>(); }
  TriggerResult OnElement(int64_t, const TimeWindow& w, TriggerContext& ctx) const override {
    if (w.max_timestamp() <= ctx.CurrentWatermark()) return TriggerResult::kFire;
    ctx.RegisterEventTimeTimer(w.max_timestamp());
    return TriggerResult::kContinue;
  }
  TriggerResult OnEventTime(int64_t time, const TimeWindow& w, TriggerContext&) const override {
    return time == w.max_timestamp() ? TriggerResult::kFire : TriggerResult::kContinue;
  }
  TriggerResult OnProcessingTime(int64_t, const TimeWindow&, TriggerContext&) const override {
    return TriggerResult::kContinue;
  }
  bool CanMerge() const override { return true; }
  void OnMerge(const TimeWindow& w, const std::vector<int64_t>&,
               TriggerContext& ctx) const override {
    if (w.max_timestamp() > ctx.CurrentWatermark()) ctx.RegisterEventTimeTimer(w.max_timestamp());
  }
  void Clear(const TimeWindow& w, TriggerContext& ctx) const override {
    ctx.DeleteEventTimeTimer(w.max_timestamp());
  }
};

// Fires once processing time passes the window's end.
class ProcessingTimeTrigger final : public Trigger {
 public:
  static TriggerPtr Create() { return std::make_shared<ProcessingTimeTrigger>(); }
  TriggerResult OnElement(int64_t, const TimeWindow& w, TriggerContext& ctx) const override {
    ctx.RegisterProcessingTimeTimer(w.max_timestamp());
    return TriggerResult::kContinue;
  }
  TriggerResult OnEventTime(int64_t, const TimeWindow&, TriggerContext&) const override {
    return TriggerResult::kContinue;
  }
  TriggerResult OnProcessingTime(int64_t time, const TimeWindow& w,
                                 TriggerContext&) const override {
    return time == w.max_timestamp() ? TriggerResult::kFire : TriggerResult::kContinue;
  }
  bool CanMerge() const override { return true; }
  void OnMerge(const TimeWindow& w, const std::vector<int64_t>&,
               TriggerContext& ctx) const override {
    ctx.RegisterProcessingTimeTimer(w.max_timestamp());
  }
  void Clear(const TimeWindow& w, TriggerContext& ctx) const override {
    ctx.DeleteProcessingTimeTimer(w.max_timestamp());
  }
};

// Fires every `count` records of the window.
class CountTrigger final : public Trigger {
 public:
  explicit CountTrigger(int64_t count) : count_(count) {}
  static TriggerPtr Of(int64_t count) {
    internal::CheckPositive("CountTrigger's count", count);
    return std::make_shared<CountTrigger>(count);
  }
  TriggerResult OnElement(int64_t, const TimeWindow&, TriggerContext& ctx) const override {
    if (++ctx.state() < count_) return TriggerResult::kContinue;
    ctx.state() = 0;
    return TriggerResult::kFire;
  }
  TriggerResult OnEventTime(int64_t, const TimeWindow&, TriggerContext&) const override {
    return TriggerResult::kContinue;
  }
  TriggerResult OnProcessingTime(int64_t, const TimeWindow&, TriggerContext&) const override {
    return TriggerResult::kContinue;
  }
  bool CanMerge() const override { return true; }
  void OnMerge(const TimeWindow&, const std::vector<int64_t>& merged,
               TriggerContext& ctx) const override {
    for (int64_t n : merged) ctx.state() += n;
  }

 private:
  int64_t count_;
};

// Fires every `interval` of event time while the window is open, and at its end.
class ContinuousEventTimeTrigger final : public Trigger {
 public:
  explicit ContinuousEventTimeTrigger(int64_t interval) : interval_(interval) {}
  static TriggerPtr Of(std::chrono::milliseconds interval) {
    internal::CheckPositive("ContinuousEventTimeTrigger's interval", interval.count());
    return std::make_shared<ContinuousEventTimeTrigger>(interval.count());
  }
  TriggerResult OnElement(int64_t timestamp, const TimeWindow& w,
                          TriggerContext& ctx) const override {
    if (w.max_timestamp() <= ctx.CurrentWatermark()) return TriggerResult::kFire;
    ctx.RegisterEventTimeTimer(w.max_timestamp());
    if (ctx.state() == 0) Schedule(timestamp - (timestamp % interval_), w, ctx);
    return TriggerResult::kContinue;
  }
  TriggerResult OnEventTime(int64_t time, const TimeWindow& w, TriggerContext& ctx) const override {
    if (time == w.max_timestamp()) return TriggerResult::kFire;
    if (time != ctx.state()) return TriggerResult::kContinue;
    Schedule(time, w, ctx);
    return TriggerResult::kFire;
  }
  TriggerResult OnProcessingTime(int64_t, const TimeWindow&, TriggerContext&) const override {
    return TriggerResult::kContinue;
  }
  bool CanMerge() const override { return true; }
  void OnMerge(const TimeWindow& w, const std::vector<int64_t>& merged,
               TriggerContext& ctx) const override {
    int64_t next = 0;
    for (int64_t t : merged) {
      if (t != 0) next = next == 0 ? t : std::min(next, t);
    }
    ctx.state() = next;
    if (next != 0) ctx.RegisterEventTimeTimer(next);
    if (w.max_timestamp() > ctx.CurrentWatermark()) ctx.RegisterEventTimeTimer(w.max_timestamp());
  }
  void Clear(const TimeWindow& w, TriggerContext& ctx) const override {
    if (ctx.state() != 0) ctx.DeleteEventTimeTimer(ctx.state());
    ctx.DeleteEventTimeTimer(w.max_timestamp());
    ctx.state() = 0;
  }

 private:
  void Schedule(int64_t from, const TimeWindow& w, TriggerContext& ctx) const {
    const int64_t next = from + interval_;
    if (next >= w.max_timestamp()) return;  // the end fires anyway
    ctx.state() = next;
    ctx.RegisterEventTimeTimer(next);
  }
  int64_t interval_;
};

// Fires every `interval` of processing time while the window is open.
class ContinuousProcessingTimeTrigger final : public Trigger {
 public:
  explicit ContinuousProcessingTimeTrigger(int64_t interval) : interval_(interval) {}
  static TriggerPtr Of(std::chrono::milliseconds interval) {
    internal::CheckPositive("ContinuousProcessingTimeTrigger's interval", interval.count());
    return std::make_shared<ContinuousProcessingTimeTrigger>(interval.count());
  }
  TriggerResult OnElement(int64_t, const TimeWindow&, TriggerContext& ctx) const override {
    if (ctx.state() == 0) {
      const int64_t now = ctx.CurrentProcessingTime();
      ctx.state() = now - (now % interval_) + interval_;
      ctx.RegisterProcessingTimeTimer(ctx.state());
    }
    return TriggerResult::kContinue;
  }
  TriggerResult OnEventTime(int64_t, const TimeWindow&, TriggerContext&) const override {
    return TriggerResult::kContinue;
  }
  TriggerResult OnProcessingTime(int64_t time, const TimeWindow&,
                                 TriggerContext& ctx) const override {
    if (time != ctx.state()) return TriggerResult::kContinue;
    ctx.state() = time + interval_;
    ctx.RegisterProcessingTimeTimer(ctx.state());
    return TriggerResult::kFire;
  }
  void Clear(const TimeWindow&, TriggerContext& ctx) const override {
    if (ctx.state() != 0) ctx.DeleteProcessingTimeTimer(ctx.state());
    ctx.state() = 0;
  }

 private:
  int64_t interval_;
};

// Never fires (GlobalWindows' default: give it a trigger).
class NeverTrigger final : public Trigger {
 public:
  static TriggerPtr Create() { return std::make_shared<NeverTrigger>(); }
  TriggerResult OnElement(int64_t, const TimeWindow&, TriggerContext&) const override {
    return TriggerResult::kContinue;
  }
  TriggerResult OnEventTime(int64_t, const TimeWindow&, TriggerContext&) const override {
    return TriggerResult::kContinue;
  }
  TriggerResult OnProcessingTime(int64_t, const TimeWindow&, TriggerContext&) const override {
    return TriggerResult::kContinue;
  }
  bool CanMerge() const override { return true; }
};

// Makes every FIRE of `inner` a FIRE_AND_PURGE: the window starts empty again.
class PurgingTrigger final : public Trigger {
 public:
  explicit PurgingTrigger(TriggerPtr inner) : inner_(std::move(inner)) {}
  static TriggerPtr Of(TriggerPtr inner) { return std::make_shared<PurgingTrigger>(inner); }
  TriggerResult OnElement(int64_t t, const TimeWindow& w, TriggerContext& ctx) const override {
    return Purging(inner_->OnElement(t, w, ctx));
  }
  TriggerResult OnEventTime(int64_t t, const TimeWindow& w, TriggerContext& ctx) const override {
    return Purging(inner_->OnEventTime(t, w, ctx));
  }
  TriggerResult OnProcessingTime(int64_t t, const TimeWindow& w,
                                 TriggerContext& ctx) const override {
    return Purging(inner_->OnProcessingTime(t, w, ctx));
  }
  bool CanMerge() const override { return inner_->CanMerge(); }
  void OnMerge(const TimeWindow& w, const std::vector<int64_t>& merged,
               TriggerContext& ctx) const override {
    inner_->OnMerge(w, merged, ctx);
  }
  void Clear(const TimeWindow& w, TriggerContext& ctx) const override { inner_->Clear(w, ctx); }

 private:
  static TriggerResult Purging(TriggerResult r) {
    return r == TriggerResult::kFire ? TriggerResult::kFireAndPurge : r;
  }
  TriggerPtr inner_;
};

// --- Evictors -------------------------------------------------------------------

template <typename T>
struct TimestampedValue {
  int64_t timestamp = 0;
  T value{};
};

// Removes records from a window's contents before (and after) its function
// runs (Flink's Evictor). With an evictor, a window keeps all its records,
// even for Reduce and Aggregate.
template <typename T>
class Evictor {
 public:
  virtual ~Evictor() = default;
  virtual void EvictBefore(std::vector<TimestampedValue<T>>& elements, const TimeWindow& window,
                           int64_t watermark) const = 0;
  virtual void EvictAfter(std::vector<TimestampedValue<T>>& elements, const TimeWindow& window,
                          int64_t watermark) const {
    (void)elements, (void)window, (void)watermark;
  }
};
template <typename T>
using EvictorPtr = std::shared_ptr<const Evictor<T>>;

// Keeps the last `count` records.
template <typename T>
class CountEvictor final : public Evictor<T> {
 public:
  explicit CountEvictor(size_t count) : count_(count) {}
  static EvictorPtr<T> Of(size_t count) { return std::make_shared<CountEvictor>(count); }
  void EvictBefore(std::vector<TimestampedValue<T>>& elements, const TimeWindow&,
                   int64_t) const override {
    if (elements.size() > count_) elements.erase(elements.begin(), elements.end() - count_);
  }

 private:
  size_t count_;
};

// Keeps the records at most `keep` older than the newest one.
template <typename T>
class TimeEvictor final : public Evictor<T> {
 public:
  explicit TimeEvictor(int64_t keep) : keep_(keep) {}
  static EvictorPtr<T> Of(std::chrono::milliseconds keep) {
    return std::make_shared<TimeEvictor>(keep.count());
  }
  void EvictBefore(std::vector<TimestampedValue<T>>& elements, const TimeWindow&,
                   int64_t) const override {
    int64_t newest = std::numeric_limits<int64_t>::min();
    for (const auto& e : elements) newest = std::max(newest, e.timestamp);
    std::erase_if(elements, [&](const auto& e) { return e.timestamp < newest - keep_; });
  }

 private:
  int64_t keep_;
};

}  // namespace sluice

#endif  // SLUICE_WINDOWS_H_
