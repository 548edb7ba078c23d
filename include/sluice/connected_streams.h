// Two inputs into one operator (Flink's ConnectedStreams): a co-process
// function sees the records of both, each through its own method, and keeps
// state across them; keyed, both inputs are partitioned by their keys and
// share the key's state and timers. A broadcast stream is connected the
// same way: its records reach every subtask and update broadcast state,
// which the other input reads.
//
//   auto alerts = readings.KeyBy(&Reading::sensor)
//                     .Connect(thresholds.KeyBy(&Threshold::sensor))
//                     .Process<CheckThreshold>();
//   auto tagged = events.Connect(rules.Broadcast(kRules)).Process<ApplyRules>();
//
// Included by datastream.h.
#ifndef SLUICE_CONNECTED_STREAMS_H_
#define SLUICE_CONNECTED_STREAMS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/datastream.h"
#include "sluice/functions.h"
#include "sluice/internal/two_input_operators.h"

namespace sluice {

template <typename In1, typename In2, typename Out>
class CoProcessFunction {
 public:
  using Input1 = In1;
  using Input2 = In2;
  using Output = Out;
  virtual ~CoProcessFunction() = default;
  virtual void Open(ProcessContext& ctx) { (void)ctx; }
  virtual void ProcessElement1(const In1& value, ProcessContext& ctx, Collector<Out>& out) = 0;
  virtual void ProcessElement2(const In2& value, ProcessContext& ctx, Collector<Out>& out) = 0;
  // Both inputs have ended.
  virtual void OnEndOfInput(Collector<Out>& out) { (void)out; }
};

template <typename K, typename In1, typename In2, typename Out>
class KeyedCoProcessFunction {
 public:
  using Key = K;
  using Input1 = In1;
  using Input2 = In2;
  using Output = Out;
  virtual ~KeyedCoProcessFunction() = default;
  virtual void Open(KeyedContext<K>& ctx) { (void)ctx; }
  virtual void ProcessElement1(const In1& value, KeyedContext<K>& ctx, Collector<Out>& out) = 0;
  virtual void ProcessElement2(const In2& value, KeyedContext<K>& ctx, Collector<Out>& out) = 0;
  virtual void OnTimer(int64_t timestamp_ms, KeyedContext<K>& ctx, Collector<Out>& out) {
    (void)timestamp_ms, (void)ctx, (void)out;
  }
  // Both inputs have ended and every pending timer has fired.
  virtual void OnEndOfInput(Collector<Out>& out) { (void)out; }
};

// The records of the other input read the broadcast state; broadcast
// records may change it (the same way in every subtask: decide only from
// the broadcast record and the state).
template <typename In, typename B, typename Out>
class BroadcastProcessFunction {
 public:
  using Input = In;
  using Broadcast = B;
  using Output = Out;
  virtual ~BroadcastProcessFunction() = default;
  virtual void Open(ProcessContext& ctx) { (void)ctx; }
  virtual void ProcessElement(const In& value, const BroadcastState& state, ProcessContext& ctx,
                              Collector<Out>& out) = 0;
  virtual void ProcessBroadcastElement(const B& value, BroadcastState& state, ProcessContext& ctx,
                                       Collector<Out>& out) = 0;
  virtual void OnEndOfInput(Collector<Out>& out) { (void)out; }
};

// As BroadcastProcessFunction, with keyed state and timers on the keyed input.
template <typename K, typename In, typename B, typename Out>
class KeyedBroadcastProcessFunction {
 public:
  using Key = K;
  using Input = In;
  using Broadcast = B;
  using Output = Out;
  virtual ~KeyedBroadcastProcessFunction() = default;
  virtual void Open(KeyedContext<K>& ctx) { (void)ctx; }
  virtual void ProcessElement(const In& value, const BroadcastState& state, KeyedContext<K>& ctx,
                              Collector<Out>& out) = 0;
  // There is no current key here: keyed state and timers are not reachable.
  virtual void ProcessBroadcastElement(const B& value, BroadcastState& state, ProcessContext& ctx,
                                       Collector<Out>& out) = 0;
  virtual void OnTimer(int64_t timestamp_ms, const BroadcastState& state, KeyedContext<K>& ctx,
                       Collector<Out>& out) {
    (void)timestamp_ms, (void)state, (void)ctx, (void)out;
  }
  virtual void OnEndOfInput(Collector<Out>& out) { (void)out; }
};

namespace internal {

template <typename K, typename In1, typename In2>
KeyWriter TwoInputKeyWriter(const TwoInputKey<K, In1, In2>& key) {
  static_assert(IsSerializable<K>::value,
                "KeyBy: the key type needs a Serializer: add SLUICE_SERIALIZABLE(...) for it");
  return [key](const void* record, std::string* out) {
    Writer w(out);
    Serializer<K>::Write(key(*static_cast<const TwoInputs<In1, In2>*>(record)), w);
  };
}

// Builds a two-input node: each input is tagged (chained to it) and the
// node reads both, each partitioned as given.
template <typename In1, typename In2>
struct TwoInputGraph {
  using V = TwoInputs<In1, In2>;
  StreamEnvironment* env;
  int first;
  int second;
  Partitioning first_partitioning;
  Partitioning second_partitioning;

  template <typename In, size_t I>
  int Tag(int input) const {
    StreamNode node;
    node.name = I == 0 ? "Input 1" : "Input 2";
    node.inputs = {input};
    node.parallelism = env->node(input).parallelism;
    node.make_operator = [](OperatorContext&, AnyCollector* out) -> std::unique_ptr<AnyCollector> {
      return std::make_unique<TagOperator<In, V, I>>(static_cast<Collector<V>*>(out));
    };
    return env->template AddNode<V>(std::move(node));
  }

  template <typename Out, typename Make>
  DataStream<Out> Add(std::string name, Make make, KeyWriter key_writer = nullptr) const {
    StreamNode node;
    node.name = std::move(name);
    node.inputs = {Tag<In1, 0>(first), Tag<In2, 1>(second)};
    node.input_partitionings = {first_partitioning, second_partitioning};
    node.chainable = false;
    node.key_writer = std::move(key_writer);
    node.make_operator = [make](OperatorContext& ctx,
                                AnyCollector* out) -> std::unique_ptr<AnyCollector> {
      return make(ctx, out);
    };
    return DataStream<Out>(env, env->template AddNode<Out>(std::move(node)));
  }

  // An operator Op(ctx, fn, out) running a user function (a Base made by `make`).
  template <typename Op, typename Base, typename Make>
  DataStream<typename Base::Output> AddFunction(std::string name, Make make) const {
    using Out = typename Base::Output;
    return Add<Out>(std::move(name), [make](OperatorContext& ctx, AnyCollector* out) {
      std::unique_ptr<Base> fn = make();
      return std::make_unique<Op>(ctx, std::move(fn), static_cast<Collector<Out>*>(out));
    });
  }
  // The same keyed: Op(ctx, key, fn, out), both inputs hashed by `key`.
  template <typename Op, typename Base, typename K, typename Make>
  DataStream<typename Base::Output> AddKeyedFunction(std::string name,
                                                     const TwoInputKey<K, In1, In2>& key,
                                                     Make make) const {
    using Out = typename Base::Output;
    return Add<Out>(
        std::move(name),
        [make, key](OperatorContext& ctx, AnyCollector* out) {
          std::unique_ptr<Base> fn = make();
          return std::make_unique<Op>(ctx, key, std::move(fn), static_cast<Collector<Out>*>(out));
        },
        TwoInputKeyWriter(key));
  }
};

// CoFlatMap's functions as a CoProcessFunction.
template <typename In1, typename In2, typename Out, typename F1, typename F2>
class CoFlatMapFunction final : public CoProcessFunction<In1, In2, Out> {
 public:
  CoFlatMapFunction(F1 f1, F2 f2) : f1_(std::move(f1)), f2_(std::move(f2)) {}
  void ProcessElement1(const In1& v, ProcessContext&, Collector<Out>& out) override { f1_(v, out); }
  void ProcessElement2(const In2& v, ProcessContext&, Collector<Out>& out) override { f2_(v, out); }

 private:
  F1 f1_;
  F2 f2_;
};

}  // namespace internal

template <typename In1, typename In2>
class ConnectedStreams {
 public:
  ConnectedStreams(internal::TwoInputGraph<In1, In2> graph) : graph_(graph) {}

  // A CoProcessFunction<In1, In2, Out> per subtask, made by `make`.
  template <typename Fn, typename Make, std::enable_if_t<std::is_invocable_v<Make&>, int> = 0>
  DataStream<typename Fn::Output> Process(Make make, std::string name = "CoProcess") {
    using Out = typename Fn::Output;
    static_assert(
        std::is_same_v<typename Fn::Input1, In1> && std::is_same_v<typename Fn::Input2, In2>,
        "the function's input types must match the connected streams");
    using Base = CoProcessFunction<In1, In2, Out>;
    return graph_.template AddFunction<internal::CoProcessOperator<In1, In2, Out, Base>, Base>(
        std::move(name), make);
  }
  template <typename Fn>
  DataStream<typename Fn::Output> Process(std::string name = "CoProcess") {
    return Process<Fn>([] { return std::make_unique<Fn>(); }, std::move(name));
  }

  // f1(const In1&, Collector<Out>&) and f2(const In2&, Collector<Out>&).
  template <typename Out, typename F1, typename F2>
  DataStream<Out> FlatMap(F1 f1, F2 f2) {
    using Fn = internal::CoFlatMapFunction<In1, In2, Out, F1, F2>;
    return Process<Fn>([f1, f2] { return std::make_unique<Fn>(f1, f2); }, "CoFlatMap");
  }
  // f1(const In1&) -> Out and f2(const In2&) -> Out.
  template <typename F1, typename F2>
  auto Map(F1 f1, F2 f2) {
    using Out = std::decay_t<std::invoke_result_t<F1&, const In1&>>;
    static_assert(std::is_same_v<Out, std::decay_t<std::invoke_result_t<F2&, const In2&>>>,
                  "CoMap: both functions must return the same type");
    return FlatMap<Out>([f1](const In1& v, Collector<Out>& out) mutable { out.Collect(f1(v)); },
                        [f2](const In2& v, Collector<Out>& out) mutable { out.Collect(f2(v)); });
  }

 private:
  internal::TwoInputGraph<In1, In2> graph_;
};

template <typename K, typename In1, typename In2>
class KeyedConnectedStreams {
 public:
  KeyedConnectedStreams(internal::TwoInputGraph<In1, In2> graph,
                        internal::TwoInputKey<K, In1, In2> key)
      : graph_(graph), key_(std::move(key)) {}

  // A KeyedCoProcessFunction<K, In1, In2, Out> per subtask, made by `make`.
  template <typename Fn, typename Make, std::enable_if_t<std::is_invocable_v<Make&>, int> = 0>
  DataStream<typename Fn::Output> Process(Make make, std::string name = "KeyedCoProcess") {
    using Out = typename Fn::Output;
    using Base = KeyedCoProcessFunction<K, In1, In2, Out>;
    static_assert(std::is_same_v<typename Fn::Key, K>, "the function's key type must match KeyBy");
    static_assert(
        std::is_same_v<typename Fn::Input1, In1> && std::is_same_v<typename Fn::Input2, In2>,
        "the function's input types must match the connected streams");
    return graph_
        .template AddKeyedFunction<internal::KeyedCoProcessOperator<K, In1, In2, Out, Base>, Base>(
            std::move(name), key_, make);
  }
  template <typename Fn>
  DataStream<typename Fn::Output> Process(std::string name = "KeyedCoProcess") {
    return Process<Fn>([] { return std::make_unique<Fn>(); }, std::move(name));
  }

 private:
  internal::TwoInputGraph<In1, In2> graph_;
  internal::TwoInputKey<K, In1, In2> key_;
};

// A stream whose records go to every subtask of the operator it is
// connected to, for its broadcast state (DataStream::Broadcast(descriptor)).
template <typename B>
class BroadcastStream {
 public:
  BroadcastStream(StreamEnvironment* env, int node) : env_(env), node_(node) {}
  StreamEnvironment* env() const { return env_; }
  int node_id() const { return node_; }

 private:
  StreamEnvironment* env_;
  int node_;
};

template <typename In, typename B>
class BroadcastConnectedStream {
 public:
  explicit BroadcastConnectedStream(internal::TwoInputGraph<In, B> graph) : graph_(graph) {}

  template <typename Fn, typename Make, std::enable_if_t<std::is_invocable_v<Make&>, int> = 0>
  DataStream<typename Fn::Output> Process(Make make, std::string name = "BroadcastProcess") {
    using Out = typename Fn::Output;
    using Base = BroadcastProcessFunction<In, B, Out>;
    static_assert(
        std::is_same_v<typename Fn::Input, In> && std::is_same_v<typename Fn::Broadcast, B>,
        "the function's input types must match the connected streams");
    return graph_.template AddFunction<internal::BroadcastProcessOperator<In, B, Out, Base>, Base>(
        std::move(name), make);
  }
  template <typename Fn>
  DataStream<typename Fn::Output> Process(std::string name = "BroadcastProcess") {
    return Process<Fn>([] { return std::make_unique<Fn>(); }, std::move(name));
  }

 private:
  internal::TwoInputGraph<In, B> graph_;
};

template <typename K, typename In, typename B>
class KeyedBroadcastConnectedStream {
 public:
  KeyedBroadcastConnectedStream(internal::TwoInputGraph<In, B> graph,
                                internal::TwoInputKey<K, In, B> key)
      : graph_(graph), key_(std::move(key)) {}

  template <typename Fn, typename Make, std::enable_if_t<std::is_invocable_v<Make&>, int> = 0>
  DataStream<typename Fn::Output> Process(Make make, std::string name = "KeyedBroadcastProcess") {
    using Out = typename Fn::Output;
    using Base = KeyedBroadcastProcessFunction<K, In, B, Out>;
    static_assert(std::is_same_v<typename Fn::Key, K>, "the function's key type must match KeyBy");
    static_assert(
        std::is_same_v<typename Fn::Input, In> && std::is_same_v<typename Fn::Broadcast, B>,
        "the function's input types must match the connected streams");
    return graph_.template AddKeyedFunction<
        internal::KeyedBroadcastProcessOperator<K, In, B, Out, Base>, Base>(std::move(name), key_,
                                                                            make);
  }
  template <typename Fn>
  DataStream<typename Fn::Output> Process(std::string name = "KeyedBroadcastProcess") {
    return Process<Fn>([] { return std::make_unique<Fn>(); }, std::move(name));
  }

 private:
  internal::TwoInputGraph<In, B> graph_;
  internal::TwoInputKey<K, In, B> key_;
};

// --- DataStream and KeyedStream members -------------------------------------------

template <typename T>
template <typename U>
ConnectedStreams<T, U> DataStream<T>::Connect(const DataStream<U>& other) const {
  return ConnectedStreams<T, U>(
      internal::TwoInputGraph<T, U>{env_, node_, other.node_, next_, other.next_});
}

template <typename T>
template <typename U>
BroadcastConnectedStream<T, U> DataStream<T>::Connect(const BroadcastStream<U>& other) const {
  return BroadcastConnectedStream<T, U>(
      internal::TwoInputGraph<T, U>{env_, node_, other.node_id(), next_, Partitioning::kBroadcast});
}

template <typename T>
template <typename D, typename... More>
BroadcastStream<T> DataStream<T>::Broadcast(const D&, const More&...) const {
  return BroadcastStream<T>(env_, node_);
}

template <typename K, typename T>
template <typename U>
KeyedConnectedStreams<K, T, U> KeyedStream<K, T>::Connect(const KeyedStream<K, U>& other) const {
  return KeyedConnectedStreams<K, T, U>(
      internal::TwoInputGraph<T, U>{env_, node_, other.node_, Partitioning::kHash,
                                    Partitioning::kHash},
      internal::TwoInputKey<K, T, U>{key_, other.key_});
}

template <typename K, typename T>
template <typename U>
KeyedBroadcastConnectedStream<K, T, U> KeyedStream<K, T>::Connect(
    const BroadcastStream<U>& other) const {
  auto no_key = std::make_shared<std::function<K(const U&)>>(
      [](const U&) -> K { throw std::logic_error("a broadcast record has no key"); });
  return KeyedBroadcastConnectedStream<K, T, U>(
      internal::TwoInputGraph<T, U>{env_, node_, other.node_id(), Partitioning::kHash,
                                    Partitioning::kBroadcast},
      internal::TwoInputKey<K, T, U>{key_, no_key});
}

}  // namespace sluice

#endif  // SLUICE_CONNECTED_STREAMS_H_
