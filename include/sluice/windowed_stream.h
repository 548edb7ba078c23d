// A keyed stream cut into windows (Flink's WindowedStream): set the trigger,
// evictor and allowed lateness, then end it with the window function.
//
//   .Reduce(f)              f(const T&, const T&) -> T, incrementally
//   .Aggregate(agg)         agg: CreateAccumulator(), Add(const T&, Acc) -> Acc,
//                           GetResult(const Acc&) -> R, (sessions) Merge(Acc, Acc) -> Acc
//   .Process(f)             f(const K&, const TimeWindow&, const std::vector<T>&, Collector<R>&)
//   .Reduce(f, g), .Aggregate(agg, g)
//                           g(const K&, const TimeWindow&, const Result&, Collector<R>&):
//                           the incremental result with its window
//
// Included by datastream.h.
#ifndef SLUICE_WINDOWED_STREAM_H_
#define SLUICE_WINDOWED_STREAM_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/datastream.h"
#include "sluice/internal/window_operator.h"
#include "sluice/windows.h"

namespace sluice {

namespace internal {
// R of a window function g(key, window, contents, Collector<R>&).
template <typename F, typename = void>
struct WindowFunctionOutput {};
template <typename F>
struct WindowFunctionOutput<F, std::void_t<decltype(&F::operator())>>
    : WindowFunctionOutput<decltype(&F::operator())> {};
template <typename C, typename Ret, typename A, typename B, typename E, typename Out>
struct WindowFunctionOutput<Ret (C::*)(A, B, E, Collector<Out>&) const, void> {
  using type = Out;
};
template <typename C, typename Ret, typename A, typename B, typename E, typename Out>
struct WindowFunctionOutput<Ret (C::*)(A, B, E, Collector<Out>&), void> {
  using type = Out;
};
template <typename Ret, typename A, typename B, typename E, typename Out>
struct WindowFunctionOutput<Ret (*)(A, B, E, Collector<Out>&), void> {
  using type = Out;
};
template <typename R, typename F>
struct WindowOutput {
  using type = R;
};
template <typename F>
struct WindowOutput<DeduceOutput, F> {
  static_assert(
      requires { typename WindowFunctionOutput<F>::type; },
      "cannot tell the window function's output type (a generic lambda?): name it, as "
      "in Process<OutputType>(f), with f(key, window, contents, Collector<OutputType>&)");
  using type = typename WindowFunctionOutput<F>::type;
};
}  // namespace internal

template <typename K, typename T, typename Assigner>
class WindowedStream {
 public:
  WindowedStream(KeyedStream<K, T> keyed, Assigner assigner, bool all)
      : keyed_(std::move(keyed)), spec_{std::move(assigner), nullptr, nullptr, 0, {}}, all_(all) {
    if constexpr (std::is_same_v<Assigner, internal::GlobalWindowsAssigner>) {
      spec_.trigger = NeverTrigger::Create();
    } else if constexpr (Assigner::kEventTime) {
      spec_.trigger = EventTimeTrigger::Create();
    } else {
      spec_.trigger = ProcessingTimeTrigger::Create();
    }
  }

  // Replaces the assigner's default trigger.
  WindowedStream& Trigger(TriggerPtr trigger) {
    spec_.trigger = std::move(trigger);
    return *this;
  }
  WindowedStream& Evictor(EvictorPtr<T> evictor) {
    spec_.evictor = std::move(evictor);
    return *this;
  }
  // Event time: records up to `lateness` behind the watermark still count
  // (their window fires again); later ones are dropped and counted
  // (sluice_task_late_records_dropped_total). 0 by default.
  WindowedStream& AllowedLateness(std::chrono::milliseconds lateness) {
    if (lateness.count() < 0) throw GraphError("AllowedLateness must not be negative");
    spec_.allowed_lateness = lateness.count();
    return *this;
  }

  // Records too late for every window go to side output `tag` instead of
  // being dropped (read it with GetSideOutput(tag) on the window's result).
  WindowedStream& SideOutputLateData(const OutputTag<T>& tag) {
    spec_.late_tag = tag.id();
    return *this;
  }

  template <typename F>
  DataStream<T> Reduce(F f) {
    return Build<T>("Window(Reduce)", internal::ReduceWindowFunction<T, F>{std::move(f)},
                    internal::EmitResult{});
  }
  template <typename R = internal::DeduceOutput, typename F, typename G>
  auto Reduce(F f, G window_function) {
    using Out = typename internal::WindowOutput<R, G>::type;
    return Build<Out>("Window(Reduce)", internal::ReduceWindowFunction<T, F>{std::move(f)},
                      std::move(window_function));
  }
  template <typename A>
  auto Aggregate(A agg) {
    using Fn = internal::AggregateWindowFunction<T, A>;
    using Out = std::decay_t<decltype(std::declval<Fn&>().Get(std::declval<typename Fn::Acc&>()))>;
    return Build<Out>("Window(Aggregate)", Fn{std::move(agg)}, internal::EmitResult{});
  }
  template <typename R = internal::DeduceOutput, typename A, typename G>
  auto Aggregate(A agg, G window_function) {
    using Out = typename internal::WindowOutput<R, G>::type;
    return Build<Out>("Window(Aggregate)", internal::AggregateWindowFunction<T, A>{std::move(agg)},
                      std::move(window_function));
  }
  template <typename R = internal::DeduceOutput, typename F>
  auto Process(F f) {
    using Out = typename internal::WindowOutput<R, F>::type;
    return Build<Out>("Window(Process)", internal::ListWindowFunction<T>{}, std::move(f));
  }

 private:
  template <typename Out, typename Fn, typename Final>
  DataStream<Out> Build(std::string name, Fn fn, Final final) {
    auto key = keyed_.key_;
    auto spec = spec_;
    DataStream<Out> result = keyed_.template Keyed<Out>(
        std::move(name), [key, spec, fn, final](OperatorContext& ctx, AnyCollector* out) {
          auto k = [key](const T& t) { return (*key)(t); };
          return std::make_unique<
              internal::WindowOperator<K, T, Out, decltype(k), Assigner, Fn, Final>>(
              ctx, k, spec, fn, final, static_cast<Collector<Out>*>(out));
        });
    if (all_) result.SetParallelism(1);
    return result;
  }

  KeyedStream<K, T> keyed_;
  internal::WindowSpec<T, Assigner> spec_;
  bool all_;
};

template <typename K, typename T>
template <typename Assigner>
WindowedStream<K, T, Assigner> KeyedStream<K, T>::Window(Assigner assigner) {
  return WindowedStream<K, T, Assigner>(*this, std::move(assigner), false);
}

template <typename K, typename T>
WindowedStream<K, T, internal::GlobalWindowsAssigner> KeyedStream<K, T>::CountWindow(int64_t size) {
  return Window(GlobalWindows::Create()).Trigger(PurgingTrigger::Of(CountTrigger::Of(size)));
}

template <typename K, typename T>
WindowedStream<K, T, internal::GlobalWindowsAssigner> KeyedStream<K, T>::CountWindow(
    int64_t size, int64_t slide) {
  if (size <= 0) throw GraphError("CountWindow: the size must be positive");
  return Window(GlobalWindows::Create())
      .Evictor(CountEvictor<T>::Of(static_cast<size_t>(size)))
      .Trigger(CountTrigger::Of(slide));
}

template <typename T>
template <typename Assigner>
WindowedStream<int32_t, T, Assigner> DataStream<T>::WindowAll(Assigner assigner) {
  auto keyed = KeyBy([](const T&) { return int32_t{0}; });
  return WindowedStream<int32_t, T, Assigner>(keyed, std::move(assigner), true);
}

template <typename T>
WindowedStream<int32_t, T, internal::GlobalWindowsAssigner> DataStream<T>::CountWindowAll(
    int64_t size) {
  return WindowAll(GlobalWindows::Create()).Trigger(PurgingTrigger::Of(CountTrigger::Of(size)));
}

}  // namespace sluice

#endif  // SLUICE_WINDOWED_STREAM_H_
