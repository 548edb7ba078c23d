// Event time: where a record's timestamp comes from and how far event time
// has come (Flink's WatermarkStrategy). A strategy is applied to a stream
// (DataStream::AssignTimestampsAndWatermarks), usually right after its
// source, where it is chained:
//
//   env.ReadTextFiles(path)
//       .Map(ParseReading)
//       .AssignTimestampsAndWatermarks(
//           sluice::WatermarkStrategy<Reading>::ForBoundedOutOfOrderness(std::chrono::seconds(5))
//               .WithTimestampAssigner([](const Reading& r, int64_t) { return r.time_ms; })
//               .WithIdleness(std::chrono::minutes(1)));
//
// Each subtask runs its own generator; every pipeline.auto-watermark-interval
// (200 ms) the runtime asks it for its watermark and sends it downstream,
// behind the records before it. A task's watermark is the minimum over its
// inputs that are not idle. When a bounded input ends, the watermark jumps
// to the end of time, so every event-time window and timer fires.
#ifndef SLUICE_WATERMARKS_H_
#define SLUICE_WATERMARKS_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "sluice/collector.h"
#include "sluice/internal/abi.h"
#include "sluice/internal/graph.h"

namespace sluice {

// Where a generator puts its watermark (Flink's WatermarkOutput).
class WatermarkOutput {
 public:
  // Event time has reached `watermark`: no record older than it is expected.
  // A lower one than before is ignored.
  void EmitWatermark(int64_t watermark) {
    watermark_ = std::max(watermark_, watermark);
    idle_ = false;
  }
  // This input has no records for now: hold no watermark downstream back.
  void MarkIdle() { idle_ = true; }
  void MarkActive() { idle_ = false; }
  int64_t watermark() const { return watermark_; }
  bool idle() const { return idle_; }

 private:
  int64_t watermark_ = internal::kNoWatermark;
  bool idle_ = false;
};

// Derives watermarks from the records' timestamps (Flink's
// WatermarkGenerator). OnEvent sees every record; OnPeriodicEmit is called
// every pipeline.auto-watermark-interval. A watermark emitted in OnEvent (a
// punctuated generator) goes downstream at once, behind that record.
template <typename T>
class WatermarkGenerator {
 public:
  virtual ~WatermarkGenerator() = default;
  virtual void OnEvent(const T& record, int64_t timestamp, WatermarkOutput& output) = 0;
  virtual void OnPeriodicEmit(WatermarkOutput& output) = 0;
};

// Records may come up to `max_out_of_orderness` ms late: the watermark is the
// largest timestamp seen minus that, minus 1 (Flink's
// BoundedOutOfOrdernessWatermarks).
template <typename T>
class BoundedOutOfOrdernessWatermarks final : public WatermarkGenerator<T> {
 public:
  explicit BoundedOutOfOrdernessWatermarks(int64_t max_out_of_orderness_ms)
      : delay_(max_out_of_orderness_ms),
        max_timestamp_(internal::kNoTimestamp + max_out_of_orderness_ms + 1) {}
  void OnEvent(const T&, int64_t timestamp, WatermarkOutput&) override {
    max_timestamp_ = std::max(max_timestamp_, timestamp);
  }
  void OnPeriodicEmit(WatermarkOutput& output) override {
    output.EmitWatermark(max_timestamp_ - delay_ - 1);
  }

 private:
  int64_t delay_;
  int64_t max_timestamp_;
};

template <typename T>
class WatermarkStrategy {
 public:
  using MakeGenerator = std::function<std::unique_ptr<WatermarkGenerator<T>>()>;
  // Timestamps of (record, timestamp it came with) -> its event time in ms.
  using TimestampAssigner = std::function<int64_t(const T&, int64_t)>;

  static WatermarkStrategy ForBoundedOutOfOrderness(std::chrono::milliseconds max) {
    if (max.count() < 0)
      throw GraphError("ForBoundedOutOfOrderness: the bound must not be negative");
    const int64_t ms = max.count();
    return WatermarkStrategy(
        [ms] { return std::make_unique<BoundedOutOfOrdernessWatermarks<T>>(ms); });
  }
  // Timestamps that only grow (per subtask).
  static WatermarkStrategy ForMonotonousTimestamps() {
    return ForBoundedOutOfOrderness(std::chrono::milliseconds(0));
  }
  // A generator of one's own; `make()` returns a std::unique_ptr to it, once per subtask.
  template <typename Make>
  static WatermarkStrategy ForGenerator(Make make) {
    return WatermarkStrategy(
        MakeGenerator([make] { return std::unique_ptr<WatermarkGenerator<T>>(make()); }));
  }
  // Timestamps, but no watermark: event time never advances before the end.
  static WatermarkStrategy NoWatermarks() {
    return ForGenerator([] { return std::make_unique<NoWatermarksGenerator>(); });
  }

  // f(const T&, int64_t previous) or f(const T&) -> event time in ms. Without
  // one, records keep the timestamp they came with.
  template <typename F>
  WatermarkStrategy WithTimestampAssigner(F f) const {
    WatermarkStrategy s = *this;
    if constexpr (std::is_invocable_v<F&, const T&, int64_t>) {
      s.timestamp_ = [f](const T& r, int64_t previous) mutable -> int64_t {
        return f(r, previous);
      };
    } else {
      s.timestamp_ = [f](const T& r, int64_t) mutable -> int64_t { return f(r); };
    }
    return s;
  }
  // An input without records for `timeout` is idle: it holds back no
  // watermark downstream until records come again (Flink's withIdleness).
  WatermarkStrategy WithIdleness(std::chrono::milliseconds timeout) const {
    if (timeout.count() <= 0) throw GraphError("WithIdleness: the timeout must be positive");
    WatermarkStrategy s = *this;
    s.idleness_ms_ = timeout.count();
    return s;
  }

  std::unique_ptr<WatermarkGenerator<T>> CreateGenerator() const { return make_generator_(); }
  const TimestampAssigner& timestamp_assigner() const { return timestamp_; }
  int64_t idleness_ms() const { return idleness_ms_; }  // 0: never idle

 private:
  class NoWatermarksGenerator final : public WatermarkGenerator<T> {
   public:
    void OnEvent(const T&, int64_t, WatermarkOutput&) override {}
    void OnPeriodicEmit(WatermarkOutput&) override {}
  };
  explicit WatermarkStrategy(MakeGenerator make) : make_generator_(std::move(make)) {}

  MakeGenerator make_generator_;
  TimestampAssigner timestamp_;
  int64_t idleness_ms_ = 0;
};

namespace internal {

// Assigns each record its timestamp and runs the strategy's generator
// (Flink's TimestampsAndWatermarksOperator).
template <typename T>
class TimestampsAndWatermarksOperator final : public Collector<T>,
                                              public WatermarkGeneratorOperator {
 public:
  TimestampsAndWatermarksOperator(const OperatorContext& ctx, const WatermarkStrategy<T>& strategy,
                                  Collector<T>* out)
      : name_(ctx.name),
        timestamp_(ctx.timestamp),
        assigner_(strategy.timestamp_assigner()),
        generator_(CallUser(name_, [&] { return strategy.CreateGenerator(); })),
        idleness_ms_(strategy.idleness_ms()),
        emit_(ctx.emit_watermark),
        out_(out) {}
  using Collector<T>::Collect;
  void Collect(T&& record) override {
    Assign(record);
    out_->Collect(std::move(record));
    EmitPunctuated();
  }
  void Collect(const T& record) override {
    Assign(record);
    out_->Collect(record);
    EmitPunctuated();
  }
  void EndOfInput() override { out_->EndOfInput(); }

  int64_t OnPeriodicEmit(int64_t now_ms) override {
    CallUser(name_, [&] { generator_->OnPeriodicEmit(output_); });
    emitted_ = std::max(emitted_, output_.watermark());
    if (records_ != records_at_check_ || active_since_ms_ == 0) {
      records_at_check_ = records_;
      active_since_ms_ = now_ms;
    }
    return output_.watermark();
  }
  bool idle(int64_t now_ms) const override {
    if (output_.idle()) return true;
    return idleness_ms_ > 0 && active_since_ms_ != 0 && now_ms - active_since_ms_ >= idleness_ms_;
  }

 private:
  void Assign(const T& record) {
    if (assigner_) {
      *timestamp_ = CallUser(name_, [&] { return assigner_(record, *timestamp_); });
    } else if (*timestamp_ == kNoTimestamp) {
      throw UserCodeError(name_,
                          "a record has no timestamp: give the WatermarkStrategy a timestamp "
                          "assigner (WithTimestampAssigner)");
    }
    ++records_;
    CallUser(name_, [&] { generator_->OnEvent(record, *timestamp_, output_); });
  }
  void EmitPunctuated() {
    if (output_.watermark() <= emitted_) return;
    emitted_ = output_.watermark();
    emit_(emitted_);
  }

  std::string name_;
  int64_t* timestamp_;
  typename WatermarkStrategy<T>::TimestampAssigner assigner_;
  std::unique_ptr<WatermarkGenerator<T>> generator_;
  int64_t idleness_ms_;
  std::function<void(int64_t)> emit_;
  Collector<T>* out_;
  WatermarkOutput output_;
  int64_t emitted_ = kNoWatermark;
  uint64_t records_ = 0;
  uint64_t records_at_check_ = 0;
  int64_t active_since_ms_ = 0;  // when records last came (as seen by OnPeriodicEmit)
};

}  // namespace internal
}  // namespace sluice

#endif  // SLUICE_WATERMARKS_H_
