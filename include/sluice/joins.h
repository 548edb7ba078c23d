// Joins of two streams by key (Flink's DataStream joins).
//
// Window join: every pair of records with equal keys that fall into the
// same window (tumbling, sliding or session), emitted when the window fires,
// with the window's last millisecond as its event time:
//
//   orders.Join(payments)
//       .Where([](const Order& o) { return o.id; })
//       .EqualTo([](const Payment& p) { return p.order; })
//       .Window(sluice::TumblingEventTimeWindows::Of(std::chrono::minutes(1)))
//       .Apply([](const Order& o, const Payment& p) { return Paid{o.id, p.amount}; });
//
// Interval join: each pair (a, b) with equal keys and
// a.time + lower <= b.time <= a.time + upper (event time), emitted as soon
// as both are there, with the later of the two times:
//
//   orders.KeyBy(&OrderId).IntervalJoin(payments.KeyBy(&PaymentOrder))
//       .Between(std::chrono::seconds(0), std::chrono::minutes(5))
//       .Process<MatchPayment>();
//
// Included by datastream.h.
#ifndef SLUICE_JOINS_H_
#define SLUICE_JOINS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "sluice/connected_streams.h"
#include "sluice/datastream.h"
#include "sluice/internal/join_operators.h"
#include "sluice/internal/window_operator.h"
#include "sluice/windows.h"

namespace sluice {

template <typename K, typename A, typename B, typename Assigner>
class WindowedJoin {
  using V = TwoInputs<A, B>;

 public:
  WindowedJoin(internal::TwoInputGraph<A, B> graph, internal::TwoInputKey<K, A, B> key,
               Assigner assigner)
      : graph_(graph), key_(std::move(key)), spec_{std::move(assigner), nullptr, nullptr, 0, {}} {
    if constexpr (Assigner::kEventTime) {
      spec_.trigger = EventTimeTrigger::Create();
    } else {
      spec_.trigger = ProcessingTimeTrigger::Create();
    }
  }
  WindowedJoin& Trigger(TriggerPtr trigger) {
    spec_.trigger = std::move(trigger);
    return *this;
  }
  WindowedJoin& AllowedLateness(std::chrono::milliseconds lateness) {
    if (lateness.count() < 0) throw GraphError("AllowedLateness must not be negative");
    spec_.allowed_lateness = lateness.count();
    return *this;
  }

  // f(const A&, const B&) -> R for every pair of a window.
  template <typename F>
  auto Apply(F f, std::string name = "Window(Join)") {
    using R = std::decay_t<std::invoke_result_t<F&, const A&, const B&>>;
    using Pairs = internal::JoinPairs<A, B, F>;
    using Op = internal::WindowOperator<K, V, R, internal::TwoInputKey<K, A, B>, Assigner,
                                        internal::ListWindowFunction<V>, Pairs>;
    auto key = key_;
    auto spec = spec_;
    return graph_.template Add<R>(
        std::move(name),
        [key, spec, f](OperatorContext& ctx, AnyCollector* out) {
          return std::make_unique<Op>(ctx, key, spec, internal::ListWindowFunction<V>{}, Pairs{f},
                                      static_cast<Collector<R>*>(out));
        },
        internal::TwoInputKeyWriter(key_));
  }

 private:
  internal::TwoInputGraph<A, B> graph_;
  internal::TwoInputKey<K, A, B> key_;
  internal::WindowSpec<V, Assigner> spec_;
};

template <typename K, typename A, typename B>
class JoinKeys {
 public:
  JoinKeys(internal::TwoInputGraph<A, B> graph, internal::TwoInputKey<K, A, B> key)
      : graph_(graph), key_(std::move(key)) {}
  template <typename Assigner>
  WindowedJoin<K, A, B, Assigner> Window(Assigner assigner) {
    return WindowedJoin<K, A, B, Assigner>(graph_, key_, std::move(assigner));
  }

 private:
  internal::TwoInputGraph<A, B> graph_;
  internal::TwoInputKey<K, A, B> key_;
};

template <typename K, typename A, typename B>
class JoinWhere {
 public:
  JoinWhere(internal::TwoInputGraph<A, B> graph, std::shared_ptr<std::function<K(const A&)>> key)
      : graph_(graph), key_(std::move(key)) {}
  template <typename KB>
  JoinKeys<K, A, B> EqualTo(KB key) {
    using KeyB = std::decay_t<std::invoke_result_t<KB&, const B&>>;
    static_assert(std::is_same_v<KeyB, K>, "Join: Where and EqualTo must give the same key type");
    return JoinKeys<K, A, B>(
        graph_, internal::TwoInputKey<K, A, B>{
                    key_, std::make_shared<std::function<K(const B&)>>(std::move(key))});
  }

 private:
  internal::TwoInputGraph<A, B> graph_;
  std::shared_ptr<std::function<K(const A&)>> key_;
};

template <typename A, typename B>
class JoinedStreams {
 public:
  explicit JoinedStreams(internal::TwoInputGraph<A, B> graph) : graph_(graph) {}
  template <typename KA>
  auto Where(KA key) {
    using K = std::decay_t<std::invoke_result_t<KA&, const A&>>;
    return JoinWhere<K, A, B>(graph_, std::make_shared<std::function<K(const A&)>>(std::move(key)));
  }

 private:
  internal::TwoInputGraph<A, B> graph_;
};

template <typename K, typename A, typename B>
class IntervalJoinBuilder {
 public:
  IntervalJoinBuilder(internal::TwoInputGraph<A, B> graph, internal::TwoInputKey<K, A, B> key)
      : graph_(graph), key_(std::move(key)) {}

  // b joins a when a.time + lower <= b.time <= a.time + upper.
  IntervalJoinBuilder& Between(std::chrono::milliseconds lower, std::chrono::milliseconds upper) {
    if (lower > upper) throw GraphError("IntervalJoin: the lower bound exceeds the upper bound");
    lower_ = lower.count();
    upper_ = upper.count();
    return *this;
  }
  IntervalJoinBuilder& LowerBoundExclusive() {
    lower_exclusive_ = true;
    return *this;
  }
  IntervalJoinBuilder& UpperBoundExclusive() {
    upper_exclusive_ = true;
    return *this;
  }

  // A ProcessJoinFunction<A, B, Out> per subtask, made by `make`.
  template <typename Fn, typename Make, std::enable_if_t<std::is_invocable_v<Make&>, int> = 0>
  DataStream<typename Fn::Output> Process(Make make, std::string name = "IntervalJoin") {
    using Out = typename Fn::Output;
    static_assert(std::is_same_v<typename Fn::Input1, A> && std::is_same_v<typename Fn::Input2, B>,
                  "the function's input types must match the joined streams");
    const int64_t lower = lower_ + (lower_exclusive_ ? 1 : 0);
    const int64_t upper = upper_ - (upper_exclusive_ ? 1 : 0);
    if (lower > upper) throw GraphError("IntervalJoin: the interval is empty");
    auto key = key_;
    return graph_.template Add<Out>(
        std::move(name),
        [key, lower, upper, make](OperatorContext& ctx, AnyCollector* out) {
          std::unique_ptr<ProcessJoinFunction<A, B, Out>> fn = make();
          return std::make_unique<internal::IntervalJoinOperator<K, A, B, Out>>(
              ctx, key, lower, upper, std::move(fn), static_cast<Collector<Out>*>(out));
        },
        internal::TwoInputKeyWriter(key_));
  }
  template <typename Fn>
  DataStream<typename Fn::Output> Process(std::string name = "IntervalJoin") {
    return Process<Fn>([] { return std::make_unique<Fn>(); }, std::move(name));
  }

 private:
  internal::TwoInputGraph<A, B> graph_;
  internal::TwoInputKey<K, A, B> key_;
  int64_t lower_ = 0;
  int64_t upper_ = 0;
  bool lower_exclusive_ = false;
  bool upper_exclusive_ = false;
};

template <typename T>
template <typename U>
JoinedStreams<T, U> DataStream<T>::Join(const DataStream<U>& other) const {
  return JoinedStreams<T, U>(internal::TwoInputGraph<T, U>{
      env_, node_, other.node_, Partitioning::kHash, Partitioning::kHash});
}

template <typename K, typename T>
template <typename U>
IntervalJoinBuilder<K, T, U> KeyedStream<K, T>::IntervalJoin(const KeyedStream<K, U>& other) const {
  return IntervalJoinBuilder<K, T, U>(
      internal::TwoInputGraph<T, U>{env_, node_, other.node_, Partitioning::kHash,
                                    Partitioning::kHash},
      internal::TwoInputKey<K, T, U>{key_, other.key_});
}

}  // namespace sluice

#endif  // SLUICE_JOINS_H_
