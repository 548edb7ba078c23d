// The operators behind joins.h: a window join's cross product over a
// window's records, and the interval join (Flink's IntervalJoinOperator).
#ifndef SLUICE_INTERNAL_JOIN_OPERATORS_H_
#define SLUICE_INTERNAL_JOIN_OPERATORS_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/collector.h"
#include "sluice/functions.h"
#include "sluice/internal/two_input_operators.h"
#include "sluice/windows.h"

namespace sluice {

// What an interval join's function sees of a pair: both event times, and
// the context (side outputs, watermark) of the pair's result, whose event
// time is the later of the two.
class IntervalJoinContext {
 public:
  explicit IntervalJoinContext(ProcessContext* ctx) : ctx_(ctx) {}
  int64_t left_timestamp() const { return left_; }
  int64_t right_timestamp() const { return right_; }
  int64_t timestamp() const { return std::max(left_, right_); }
  ProcessContext& context() { return *ctx_; }
  template <typename T>
  void Output(const OutputTag<T>& tag, const T& value) {
    ctx_->Output(tag, value);
  }
  void Set(int64_t left, int64_t right) { left_ = left, right_ = right; }

 private:
  ProcessContext* ctx_;
  int64_t left_ = 0;
  int64_t right_ = 0;
};

template <typename Left, typename Right, typename Out>
class ProcessJoinFunction {
 public:
  using Input1 = Left;
  using Input2 = Right;
  using Output = Out;
  virtual ~ProcessJoinFunction() = default;
  virtual void ProcessElement(const Left& left, const Right& right, IntervalJoinContext& ctx,
                              Collector<Out>& out) = 0;
};

namespace internal {

// The window function of a window join: every pair of the window's records
// from the two inputs, in arrival order.
template <typename A, typename B, typename F>
struct JoinPairs {
  F f;
  template <typename K, typename Out>
  void operator()(const K&, const TimeWindow&, const std::vector<TwoInputs<A, B>>& contents,
                  Collector<Out>& out) {
    for (const auto& a : contents) {
      if (a.index() != 0) continue;
      for (const auto& b : contents) {
        if (b.index() == 1) out.Collect(f(std::get<0>(a), std::get<1>(b)));
      }
    }
  }
};

// Buffers each side's records per key by event time, joins each new record
// with the other side's buffered ones in its interval, and drops buffered
// records once the watermark passes the last time a partner could arrive.
// Records behind the watermark are late: dropped and counted.
template <typename K, typename A, typename B, typename Out>
class IntervalJoinOperator final : public KeyedTwoInputBase<K, A, B> {
  using Base = KeyedTwoInputBase<K, A, B>;
  template <typename T>
  using Buffer = std::map<int64_t, std::vector<T>>;

 public:
  using typename Base::V;
  IntervalJoinOperator(const OperatorContext& ctx, TwoInputKey<K, A, B> key, int64_t lower,
                       int64_t upper, std::unique_ptr<ProcessJoinFunction<A, B, Out>> fn,
                       Collector<Out>* out)
      : Base(ctx, std::move(key)),
        lower_(lower),
        upper_(upper),
        fn_(std::move(fn)),
        out_(out),
        late_(ctx.late_records_dropped),
        join_ctx_(&this->ctx_),
        left_(this->keyed_->State("map:interval-join-left", StateTypeOf<Buffer<A>>())),
        right_(this->keyed_->State("map:interval-join-right", StateTypeOf<Buffer<B>>())) {}
  using Base::Collect;
  void Collect(const V& record) override {
    const int64_t time = *this->timestamp_;
    if (time == kNoTimestamp) {
      throw UserCodeError(this->name_,
                          "an interval join got a record without a timestamp: assign timestamps "
                          "and watermarks upstream (AssignTimestampsAndWatermarks)");
    }
    const int64_t watermark = this->keyed_->current_watermark();
    if (watermark != kNoWatermark && time < watermark) {
      late_->fetch_add(1, std::memory_order_relaxed);
      return;
    }
    this->SetKey(record);
    if (record.index() == 0) {
      OnLeft(std::get<0>(record), time);
    } else {
      OnRight(std::get<1>(record), time);
    }
    *this->timestamp_ = time;
  }
  void EndOfInput() override {
    this->FireAllTimers();
    out_->EndOfInput();
  }

 private:
  // b joins a when b.time - a.time is in [lower, upper].
  void OnLeft(const A& a, int64_t time) {
    static_cast<Buffer<A>*>(left_->GetOrCreate())->operator[](time).push_back(a);
    if (const auto* rights = static_cast<const Buffer<B>*>(right_->Get())) {
      for (auto it = rights->lower_bound(Add(time, lower_));
           it != rights->end() && it->first <= Add(time, upper_); ++it) {
        for (const B& b : it->second) Emit(a, time, b, it->first);
      }
    }
    this->keyed_->RegisterEventTimeTimer(LeftCleanup(time));
  }
  void OnRight(const B& b, int64_t time) {
    static_cast<Buffer<B>*>(right_->GetOrCreate())->operator[](time).push_back(b);
    if (const auto* lefts = static_cast<const Buffer<A>*>(left_->Get())) {
      for (auto it = lefts->lower_bound(Add(time, -upper_));
           it != lefts->end() && it->first <= Add(time, -lower_); ++it) {
        for (const A& a : it->second) Emit(a, it->first, b, time);
      }
    }
    this->keyed_->RegisterEventTimeTimer(RightCleanup(time));
  }
  void Emit(const A& a, int64_t a_time, const B& b, int64_t b_time) {
    *this->timestamp_ = std::max(a_time, b_time);
    join_ctx_.Set(a_time, b_time);
    CallUser(this->name_, [&] { fn_->ProcessElement(a, b, join_ctx_, *out_); });
  }
  // The last watermark at which a buffered record may still find a partner.
  int64_t LeftCleanup(int64_t time) const { return upper_ > 0 ? Add(time, upper_) : time; }
  int64_t RightCleanup(int64_t time) const { return lower_ < 0 ? Add(time, -lower_) : time; }
  static int64_t Add(int64_t time, int64_t delta) {
    int64_t sum = 0;
    if (__builtin_add_overflow(time, delta, &sum)) {
      return delta > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
    }
    return sum;
  }
  void OnKeyTimer(int64_t when) override {
    Evict<A>(left_, when, [this](int64_t t) { return LeftCleanup(t); });
    Evict<B>(right_, when, [this](int64_t t) { return RightCleanup(t); });
  }
  template <typename T, typename Cleanup>
  void Evict(StateTable* table, int64_t now, Cleanup cleanup) {
    auto* buffer = static_cast<Buffer<T>*>(table->Get());
    if (buffer == nullptr) return;
    for (auto it = buffer->begin(); it != buffer->end() && cleanup(it->first) <= now;) {
      it = buffer->erase(it);
    }
    if (buffer->empty()) table->Remove();
  }

  const int64_t lower_;
  const int64_t upper_;
  std::unique_ptr<ProcessJoinFunction<A, B, Out>> fn_;
  Collector<Out>* out_;
  std::atomic<uint64_t>* late_;
  IntervalJoinContext join_ctx_;
  StateTable* left_;
  StateTable* right_;
};

}  // namespace internal
}  // namespace sluice

#endif  // SLUICE_INTERNAL_JOIN_OPERATORS_H_
