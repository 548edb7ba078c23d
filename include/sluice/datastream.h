// The job API: a StreamEnvironment creates sources; DataStream and
// KeyedStream chain transformations and end in sinks. Everything here only
// builds the graph; the engine runs it.
//
//   SLUICE_JOB(WordCount) {
//     env.ReadTextFiles(args.at(0))
//         .FlatMap<std::string>([](const std::string& line, Collector<std::string>& out) {...})
//         .Map([](const std::string& w) { return std::make_pair(w, int64_t{1}); })
//         .KeyBy([](const auto& p) { return p.first; })
//         .Sum<1>()
//         .WriteAsText(args.at(1));
//   }
#ifndef SLUICE_DATASTREAM_H_
#define SLUICE_DATASTREAM_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "sluice/functions.h"
#include "sluice/internal/graph.h"
#include "sluice/internal/operators.h"
#include "sluice/internal/sources.h"
#include "sluice/serialization.h"
#include "sluice/side_output.h"
#include "sluice/text.h"
#include "sluice/watermarks.h"
#include "sluice/windows.h"

namespace sluice {

template <typename T>
class DataStream;
template <typename K, typename T>
class KeyedStream;
template <typename K, typename T, typename Assigner>
class WindowedStream;
template <typename In1, typename In2>
class ConnectedStreams;
template <typename K, typename In1, typename In2>
class KeyedConnectedStreams;
template <typename B>
class BroadcastStream;
template <typename In, typename B>
class BroadcastConnectedStream;
template <typename K, typename In, typename B>
class KeyedBroadcastConnectedStream;
template <typename A, typename B>
class JoinedStreams;
template <typename K, typename A, typename B>
class IntervalJoinBuilder;

enum class CheckpointingMode { kExactlyOnce, kAtLeastOnce };

class StreamEnvironment {
 public:
  explicit StreamEnvironment(std::string job_name = "job") : graph_(std::make_shared<JobGraph>()) {
    graph_->name = std::move(job_name);
  }

  StreamEnvironment& SetParallelism(int parallelism) {
    graph_->default_parallelism = parallelism;
    return *this;
  }
  // The number of key groups of every keyed operator (pipeline.max-parallelism):
  // the upper bound for rescaling its state. Unset (-1), each operator gets
  // Flink's default: 128, or 1.5 x its parallelism rounded up to a power of
  // two, at most 32768. Changing it makes saved keyed state unusable.
  StreamEnvironment& SetMaxParallelism(int max_parallelism) {
    graph_->max_parallelism = max_parallelism;
    return *this;
  }
  int parallelism() const { return graph_->default_parallelism; }

  // Checkpoints every `interval` (execution.checkpointing.interval and
  // .mode, Flink's env.enableCheckpointing). The job's code wins over the
  // cluster's configuration and -D, as in Flink.
  StreamEnvironment& EnableCheckpointing(std::chrono::milliseconds interval,
                                         CheckpointingMode mode = CheckpointingMode::kExactlyOnce) {
    if (interval.count() <= 0)
      throw GraphError("EnableCheckpointing: the interval must be positive");
    SetConfig("execution.checkpointing.interval", std::to_string(interval.count()) + " ms");
    return SetConfig("execution.checkpointing.mode",
                     mode == CheckpointingMode::kExactlyOnce ? "EXACTLY_ONCE" : "AT_LEAST_ONCE");
  }
  // Any job setting by its Flink key (execution.checkpointing.timeout,
  // restart-strategy.type, ...); the JobManager checks it at submission.
  StreamEnvironment& SetConfig(const std::string& key, const std::string& value) {
    graph_->config.push_back(key + "=" + value);
    return *this;
  }

  // Sources.
  template <typename T>
  DataStream<T> FromCollection(std::vector<T> items);
  // f(i) for i in [0, count) (count < 0: forever), split across subtasks, at
  // most `rate_per_second` records per second in all (0: unlimited).
  template <typename F>
  auto Generate(F f, int64_t count = -1, double rate_per_second = 0)
      -> DataStream<std::decay_t<std::invoke_result_t<F&, int64_t>>>;
  DataStream<int64_t> Sequence(int64_t from, int64_t to_exclusive);
  // A file, a directory or a glob; files are split across subtasks.
  DataStream<std::string> ReadTextFiles(std::string path);
  DataStream<std::string> SocketTextStream(std::string host, int port);

  // Validates the graph and decides chaining; throws GraphError naming the
  // operator at fault. For the runtime and tests: it runs runtime code.
  JobGraph Build() {
    JobGraph graph = *graph_;
    graph.Finalize();
    return graph;
  }

  // For the API's own use: adds a node whose output records are of type Out.
  template <typename Out>
  int AddNode(StreamNode node);
  StreamNode& node(int id) { return graph_->nodes.at(id); }

 private:
  template <typename Out, typename Make>
  DataStream<Out> AddSource(std::string name, Make make);

  std::shared_ptr<JobGraph> graph_;
};

// Names, uids and parallelism of a sink.
class SinkHandle {
 public:
  SinkHandle(StreamEnvironment* env, int node) : env_(env), node_(node) {}
  SinkHandle& Name(std::string name) {
    env_->node(node_).name = std::move(name);
    return *this;
  }
  SinkHandle& Uid(std::string uid) {
    env_->node(node_).uid = std::move(uid);
    return *this;
  }
  SinkHandle& SetParallelism(int parallelism) {
    env_->node(node_).parallelism = parallelism;
    return *this;
  }

 private:
  StreamEnvironment* env_;
  int node_;
};

template <typename T>
class DataStream {
 public:
  using Type = T;
  DataStream(StreamEnvironment* env, int node, Partitioning next = Partitioning::kDefault)
      : env_(env), node_(node), next_(next) {}

  template <typename F>
  auto Map(F f) -> DataStream<std::decay_t<std::invoke_result_t<F&, const T&>>> {
    using R = std::decay_t<std::invoke_result_t<F&, const T&>>;
    return Then<R>("Map", [f](OperatorContext& ctx, AnyCollector* out) {
      return std::make_unique<internal::MapOperator<T, R, F>>(ctx.name, f,
                                                              static_cast<Collector<R>*>(out));
    });
  }

  // f(const T&, Collector<R>&) emits zero or more records. R is deduced from
  // f's Collector parameter; name it (FlatMap<R>(f)) for a generic lambda.
  template <typename R = internal::DeduceOutput, typename F>
  auto FlatMap(F f) {
    using Out = typename internal::FlatMapOutput<R, F>::type;
    return FlatMapAs<Out>(std::move(f));
  }

  template <typename F>
  DataStream<T> Filter(F f) {
    return Then<T>("Filter", [f](OperatorContext& ctx, AnyCollector* out) {
      return std::make_unique<internal::FilterOperator<T, F>>(ctx.name, f,
                                                              static_cast<Collector<T>*>(out));
    });
  }

  // A ProcessFunction<T, Out> per subtask, made by `make`: every record,
  // with its event time, the watermark and side outputs (no keyed state).
  template <typename Fn, typename Make, std::enable_if_t<std::is_invocable_v<Make&>, int> = 0>
  DataStream<typename Fn::Output> Process(Make make, std::string name = "Process") {
    using Out = typename Fn::Output;
    static_assert(std::is_same_v<typename Fn::Input, T>, "the function's input type must match");
    return Then<Out>(std::move(name), [make](OperatorContext& ctx, AnyCollector* out) {
      std::unique_ptr<ProcessFunction<T, Out>> fn = make();
      return std::make_unique<internal::StreamProcessOperator<T, Out>>(
          ctx, std::move(fn), static_cast<Collector<Out>*>(out));
    });
  }
  template <typename Fn>
  DataStream<typename Fn::Output> Process(std::string name = "Process") {
    return Process<Fn>([] { return std::make_unique<Fn>(); }, std::move(name));
  }

  // The records this operator emitted to side output `tag` (ctx.Output in a
  // process function, SideOutputLateData on a window), as a stream of its own.
  template <typename U>
  DataStream<U> GetSideOutput(const OutputTag<U>& tag) const {
    StreamNode node;
    node.name = "SideOutput(" + tag.id() + ")";
    node.inputs = {node_};
    node.side_output_tag = tag.id();
    node.parallelism = env_->node(node_).parallelism;
    node.make_operator = [](OperatorContext&, AnyCollector* out) -> std::unique_ptr<AnyCollector> {
      return std::make_unique<internal::UnionPassThrough<U>>(static_cast<Collector<U>*>(out));
    };
    return DataStream<U>(env_, env_->template AddNode<U>(std::move(node)));
  }

  // Records with equal keys go to the same subtask (by key group).
  template <typename KF>
  auto KeyBy(KF key) -> KeyedStream<std::decay_t<std::invoke_result_t<KF&, const T&>>, T> {
    using K = std::decay_t<std::invoke_result_t<KF&, const T&>>;
    return KeyedStream<K, T>(env_, node_, std::function<K(const T&)>(std::move(key)));
  }

  // Gives each record its event time and sends watermarks downstream (see
  // watermarks.h); chained to the operator before it.
  DataStream<T> AssignTimestampsAndWatermarks(WatermarkStrategy<T> strategy) {
    return Then<T>("Timestamps/Watermarks", [strategy](OperatorContext& ctx, AnyCollector* out) {
      return std::make_unique<internal::TimestampsAndWatermarksOperator<T>>(
          ctx, strategy, static_cast<Collector<T>*>(out));
    });
  }

  // Windows over the whole stream, in one subtask (Flink's windowAll).
  template <typename Assigner>
  WindowedStream<int32_t, T, Assigner> WindowAll(Assigner assigner);
  WindowedStream<int32_t, T, internal::GlobalWindowsAssigner> CountWindowAll(int64_t size);

  // Merges streams of one type (of equal parallelism; Rebalance() first otherwise).
  DataStream<T> Union(const DataStream<T>& other) {
    StreamNode node;
    node.name = "Union";
    node.inputs = {node_, other.node_};
    node.partitioning = next_;
    node.chainable = false;
    node.make_operator = [](OperatorContext&, AnyCollector* out) -> std::unique_ptr<AnyCollector> {
      return std::make_unique<internal::UnionPassThrough<T>>(static_cast<Collector<T>*>(out));
    };
    return DataStream<T>(env_, env_->template AddNode<T>(std::move(node)));
  }

  // How records reach the next operator.
  DataStream<T> Rebalance() const { return DataStream<T>(env_, node_, Partitioning::kRebalance); }
  DataStream<T> Rescale() const { return DataStream<T>(env_, node_, Partitioning::kRescale); }
  DataStream<T> Broadcast() const { return DataStream<T>(env_, node_, Partitioning::kBroadcast); }
  DataStream<T> Forward() const { return DataStream<T>(env_, node_, Partitioning::kForward); }
  // Every record to every subtask of the operator this is connected to, for
  // its broadcast state (the descriptors name the MapStates it will use).
  template <typename D, typename... More>
  BroadcastStream<T> Broadcast(const D& descriptor, const More&... more) const;

  // Two inputs into one operator (connected_streams.h).
  template <typename U>
  ConnectedStreams<T, U> Connect(const DataStream<U>& other) const;
  template <typename U>
  BroadcastConnectedStream<T, U> Connect(const BroadcastStream<U>& other) const;
  // Pairs of records with equal keys in the same window (joins.h).
  template <typename U>
  JoinedStreams<T, U> Join(const DataStream<U>& other) const;

  DataStream<T>& Name(std::string name) {
    env_->node(node_).name = std::move(name);
    return *this;
  }
  DataStream<T>& Uid(std::string uid) {
    env_->node(node_).uid = std::move(uid);
    return *this;
  }
  DataStream<T>& SetParallelism(int parallelism) {
    env_->node(node_).parallelism = parallelism;
    return *this;
  }
  // This operator's number of key groups (see StreamEnvironment::SetMaxParallelism).
  DataStream<T>& SetMaxParallelism(int max_parallelism) {
    env_->node(node_).max_parallelism = max_parallelism;
    return *this;
  }

  // Sinks. Print and WriteAsText write each record as text: with its
  // operator<< (pairs, tuples, vectors and optionals built in), or with
  // `format(const T&) -> std::string`.
  SinkHandle Print() {
    return Print([](const T& r) { return ToText(r); });
  }
  template <typename Format>
  SinkHandle Print(Format format) {
    return AddSink("Print", [format](OperatorContext& ctx) {
      return std::make_unique<internal::PrintSink<T, Format>>(format, ctx.runtime);
    });
  }
  // Part files in `directory`, "part-<subtask>-<n>": with checkpoints, one
  // per checkpoint interval, each committed once its checkpoint is complete
  // (exactly once); without, one per subtask, committed when the input ends.
  SinkHandle WriteAsText(std::string directory) {
    return WriteAsText(std::move(directory), [](const T& r) { return ToText(r); });
  }
  template <typename Format>
  SinkHandle WriteAsText(std::string directory, Format format) {
    return AddSink("TextFileSink", [directory, format](OperatorContext& ctx) {
      return std::make_unique<internal::TextFileSink<T, Format>>(ctx.name, format, directory,
                                                                 ctx.runtime);
    });
  }
  SinkHandle Discard() {
    return AddSink("Discard",
                   [](OperatorContext&) { return std::make_unique<internal::DiscardSink<T>>(); });
  }
  // f(const T&) for every record; called from the subtask's thread. Each
  // subtask calls its own copy of f; if f has a member Finish(), it is called
  // once that subtask's input has ended.
  template <typename F>
  SinkHandle Sink(F f) {
    return AddSink("CallbackSink", [f](OperatorContext& ctx) {
      return std::make_unique<internal::CallbackSink<T, F>>(ctx.name, f);
    });
  }

  int node_id() const { return node_; }
  StreamEnvironment* env() const { return env_; }

 private:
  template <typename R, typename F>
  DataStream<R> FlatMapAs(F f) {
    return Then<R>("FlatMap", [f](OperatorContext& ctx, AnyCollector* out) {
      return std::make_unique<internal::FlatMapOperator<T, R, F>>(ctx.name, f,
                                                                  static_cast<Collector<R>*>(out));
    });
  }
  template <typename K, typename U>
  friend class KeyedStream;
  template <typename U>
  friend class DataStream;

  template <typename R, typename Make>
  DataStream<R> Then(std::string name, Make make, Partitioning partitioning, KeyWriter key_writer) {
    StreamNode node;
    node.name = std::move(name);
    node.inputs = {node_};
    node.partitioning = partitioning;
    node.key_writer = std::move(key_writer);
    node.make_operator = [make](OperatorContext& ctx,
                                AnyCollector* out) -> std::unique_ptr<AnyCollector> {
      return make(ctx, out);
    };
    return DataStream<R>(env_, env_->template AddNode<R>(std::move(node)));
  }
  template <typename R, typename Make>
  DataStream<R> Then(std::string name, Make make) {
    return Then<R>(std::move(name), std::move(make), next_, nullptr);
  }

  template <typename Make>
  SinkHandle AddSink(std::string name, Make make) {
    StreamNode node;
    node.kind = StreamNode::Kind::kSink;
    node.name = std::move(name);
    node.inputs = {node_};
    node.partitioning = next_;
    node.make_operator = [make](OperatorContext& ctx,
                                AnyCollector*) -> std::unique_ptr<AnyCollector> {
      return make(ctx);
    };
    return SinkHandle(env_, env_->template AddNode<T>(std::move(node)));
  }

  StreamEnvironment* env_;
  int node_;
  Partitioning next_;
};

template <typename K, typename T>
class KeyedStream {
 public:
  KeyedStream(StreamEnvironment* env, int node, std::function<K(const T&)> key)
      : env_(env),
        node_(node),
        key_(std::make_shared<std::function<K(const T&)>>(std::move(key))) {}

  // f(const T& accumulated, const T& next) -> T, per key; emits every update.
  template <typename F>
  DataStream<T> Reduce(F f, std::string name = "Reduce") {
    auto key = key_;
    return Keyed<T>(std::move(name), [key, f](OperatorContext& ctx, AnyCollector* out) {
      auto k = [key](const T& t) { return (*key)(t); };
      return std::make_unique<internal::ReduceOperator<K, T, decltype(k), F>>(
          ctx, k, f, static_cast<Collector<T>*>(out));
    });
  }

  // Running sum / min / max of field I of a pair or tuple, per key.
  template <size_t I>
  DataStream<T> Sum() {
    return Reduce(
        [](const T& a, const T& b) {
          T r = a;
          std::get<I>(r) += std::get<I>(b);
          return r;
        },
        "Sum");
  }
  template <size_t I>
  DataStream<T> Min() {
    return Reduce(
        [](const T& a, const T& b) {
          T r = a;
          if (std::get<I>(b) < std::get<I>(r)) std::get<I>(r) = std::get<I>(b);
          return r;
        },
        "Min");
  }
  template <size_t I>
  DataStream<T> Max() {
    return Reduce(
        [](const T& a, const T& b) {
          T r = a;
          if (std::get<I>(r) < std::get<I>(b)) std::get<I>(r) = std::get<I>(b);
          return r;
        },
        "Max");
  }
  // The whole record with the smallest / largest field I so far, per key.
  template <size_t I>
  DataStream<T> MinBy() {
    return Reduce([](const T& a, const T& b) { return std::get<I>(b) < std::get<I>(a) ? b : a; },
                  "MinBy");
  }
  template <size_t I>
  DataStream<T> MaxBy() {
    return Reduce([](const T& a, const T& b) { return std::get<I>(a) < std::get<I>(b) ? b : a; },
                  "MaxBy");
  }
  // The same for a struct member.
  template <typename M, typename U = T>
  DataStream<T> Sum(M U::*member) {
    return Reduce(
        [member](const T& a, const T& b) {
          T r = a;
          r.*member += b.*member;
          return r;
        },
        "Sum");
  }

  // Windows per key (windows.h, windowed_stream.h): tumbling, sliding and
  // session windows in event or processing time, or GlobalWindows with a trigger.
  template <typename Assigner>
  WindowedStream<K, T, Assigner> Window(Assigner assigner);
  // Every `size` records of a key (Flink's countWindow(size)), and the last
  // `size` records every `slide` records (countWindow(size, slide)).
  WindowedStream<K, T, internal::GlobalWindowsAssigner> CountWindow(int64_t size);
  WindowedStream<K, T, internal::GlobalWindowsAssigner> CountWindow(int64_t size, int64_t slide);

  // A KeyedProcessFunction<K, T, Out> per subtask, made by `make`.
  template <typename Fn, typename Make, std::enable_if_t<std::is_invocable_v<Make&>, int> = 0>
  DataStream<typename Fn::Output> Process(Make make, std::string name = "Process") {
    using Out = typename Fn::Output;
    static_assert(std::is_same_v<typename Fn::Key, K>, "the function's key type must match KeyBy");
    static_assert(std::is_same_v<typename Fn::Input, T>, "the function's input type must match");
    auto key = key_;
    return Keyed<Out>(std::move(name), [key, make](OperatorContext& ctx, AnyCollector* out) {
      auto k = [key](const T& t) { return (*key)(t); };
      std::unique_ptr<KeyedProcessFunction<K, T, Out>> fn = make();
      return std::make_unique<internal::ProcessOperator<K, T, Out, decltype(k)>>(
          ctx, k, std::move(fn), static_cast<Collector<Out>*>(out));
    });
  }
  // Process with a default-constructed Fn.
  template <typename Fn>
  DataStream<typename Fn::Output> Process(std::string name = "Process") {
    return Process<Fn>([] { return std::make_unique<Fn>(); }, std::move(name));
  }

  // Two keyed inputs sharing keyed state and timers, or a keyed input with a
  // broadcast one (connected_streams.h).
  template <typename U>
  KeyedConnectedStreams<K, T, U> Connect(const KeyedStream<K, U>& other) const;
  template <typename U>
  KeyedBroadcastConnectedStream<K, T, U> Connect(const BroadcastStream<U>& other) const;
  // Pairs (a, b) of equal keys with b's time in [a's + lower, a's + upper] (joins.h).
  template <typename U>
  IntervalJoinBuilder<K, T, U> IntervalJoin(const KeyedStream<K, U>& other) const;

 private:
  template <typename, typename>
  friend class KeyedStream;

  template <typename R, typename Make>
  DataStream<R> Keyed(std::string name, Make make) {
    static_assert(IsSerializable<K>::value,
                  "KeyBy: the key type needs a Serializer (keys are hashed to key groups and "
                  "stored with state by their bytes): add SLUICE_SERIALIZABLE(...) for it");
    auto key = key_;
    KeyWriter key_writer = [key](const void* record, std::string* out) {
      Writer w(out);
      Serializer<K>::Write((*key)(*static_cast<const T*>(record)), w);
    };
    return DataStream<T>(env_, node_)
        .template Then<R>(std::move(name), std::move(make), Partitioning::kHash,
                          std::move(key_writer));
  }

  template <typename, typename, typename>
  friend class WindowedStream;

  StreamEnvironment* env_;
  int node_;
  std::shared_ptr<std::function<K(const T&)>> key_;
};

// --- StreamEnvironment templates ----------------------------------------------

template <typename Out>
int StreamEnvironment::AddNode(StreamNode node) {
  node.id = static_cast<int>(graph_->nodes.size());
  node.output_type = typeid(Out).name();
  node.output_serializable = IsSerializable<Out>::value;
  node.make_fan_out = [](std::vector<AnyCollector*> outputs) -> std::unique_ptr<AnyCollector> {
    return std::make_unique<internal::FanOut<Out>>(std::move(outputs));
  };
  node.make_counter = [](AnyCollector* next,
                         std::atomic<uint64_t>* count) -> std::unique_ptr<AnyCollector> {
    return std::make_unique<internal::Counted<Out>>(next, count);
  };
  if constexpr (IsSerializable<Out>::value) {
    node.make_edge_writer = [](internal::RecordOutput* out,
                               const KeyWriter* key) -> std::unique_ptr<AnyCollector> {
      return std::make_unique<internal::EdgeWriter<Out>>(out, key);
    };
    node.make_record_reader = [](AnyCollector* head) {
      return std::function<void(std::string_view)>(
          internal::RecordReader<Out>(static_cast<Collector<Out>*>(head)));
    };
  }
  graph_->nodes.push_back(std::move(node));
  return graph_->nodes.back().id;
}

template <typename Out, typename Make>
DataStream<Out> StreamEnvironment::AddSource(std::string name, Make make) {
  StreamNode node;
  node.kind = StreamNode::Kind::kSource;
  node.name = std::move(name);
  node.make_source = [make](OperatorContext& ctx,
                            AnyCollector* out) -> std::unique_ptr<SourceRunner> {
    return make(ctx, static_cast<Collector<Out>*>(out));
  };
  return DataStream<Out>(this, AddNode<Out>(std::move(node)));
}

template <typename T>
DataStream<T> StreamEnvironment::FromCollection(std::vector<T> items) {
  auto shared = std::make_shared<const std::vector<T>>(std::move(items));
  auto stream = AddSource<T>("Collection", [shared](OperatorContext&, Collector<T>* out) {
    return std::make_unique<internal::CollectionSource<T>>(shared, out);
  });
  stream.SetParallelism(1);
  return stream;
}

template <typename F>
auto StreamEnvironment::Generate(F f, int64_t count, double rate_per_second)
    -> DataStream<std::decay_t<std::invoke_result_t<F&, int64_t>>> {
  using T = std::decay_t<std::invoke_result_t<F&, int64_t>>;
  return AddSource<T>(
      "Generator", [f, count, rate_per_second](OperatorContext& ctx, Collector<T>* out) {
        double rate = rate_per_second / ctx.runtime->parallelism();
        return std::make_unique<internal::GeneratorSource<T, F>>(f, count, rate, ctx.runtime, out);
      });
}

inline DataStream<int64_t> StreamEnvironment::Sequence(int64_t from, int64_t to_exclusive) {
  return Generate([from](int64_t i) { return from + i; }, to_exclusive - from).Name("Sequence");
}

inline DataStream<std::string> StreamEnvironment::ReadTextFiles(std::string path) {
  return AddSource<std::string>(
      "TextFiles", [path](OperatorContext& ctx, Collector<std::string>* out) {
        return std::make_unique<internal::TextFileSource>(path, ctx.runtime, out);
      });
}

inline DataStream<std::string> StreamEnvironment::SocketTextStream(std::string host, int port) {
  auto stream = AddSource<std::string>(
      "SocketText", [host, port](OperatorContext&, Collector<std::string>* out) {
        return std::make_unique<internal::SocketTextSource>(host, port, out);
      });
  stream.SetParallelism(1);
  return stream;
}

}  // namespace sluice

#include "sluice/connected_streams.h"  // IWYU pragma: export
#include "sluice/joins.h"              // IWYU pragma: export
#include "sluice/windowed_stream.h"    // IWYU pragma: export

#endif  // SLUICE_DATASTREAM_H_
