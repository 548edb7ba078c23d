// The operators behind the DataStream API, one per transformation. Each is a
// Collector of its input that calls its downstream Collector directly (that is
// what chaining is), compiled into the job library with the user's types so a
// chain can be inlined. At a chain's edges they hand serialized records to the
// runtime (RecordOutput) and reach keyed state and timers through it
// (KeyedRuntime): see abi.h.
#ifndef SLUICE_INTERNAL_OPERATORS_H_
#define SLUICE_INTERNAL_OPERATORS_H_

#include <atomic>
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/collector.h"
#include "sluice/functions.h"
#include "sluice/internal/abi.h"
#include "sluice/internal/graph.h"
#include "sluice/internal/part_files.h"
#include "sluice/serialization.h"

namespace sluice::internal {

template <typename In, typename Out, typename F>
class MapOperator final : public Collector<In> {
 public:
  MapOperator(std::string name, F f, Collector<Out>* out)
      : name_(std::move(name)), f_(std::move(f)), out_(out) {}
  using Collector<In>::Collect;
  void Collect(In&& record) override {
    out_->Collect(CallUser(name_, [&]() -> Out { return f_(record); }));
  }
  void Collect(const In& record) override {
    out_->Collect(CallUser(name_, [&]() -> Out { return f_(record); }));
  }
  void EndOfInput() override { out_->EndOfInput(); }

 private:
  std::string name_;
  F f_;
  Collector<Out>* out_;
};

// FlatMap's output type: named, or deduced from f's Collector<R>& parameter.
struct DeduceOutput {};
template <typename F, typename = void>
struct CollectorParameter {};
template <typename F>
struct CollectorParameter<F, std::void_t<decltype(&F::operator())>>
    : CollectorParameter<decltype(&F::operator())> {};
template <typename C, typename R, typename A, typename Out>
struct CollectorParameter<R (C::*)(A, Collector<Out>&) const, void> {
  using type = Out;
};
template <typename C, typename R, typename A, typename Out>
struct CollectorParameter<R (C::*)(A, Collector<Out>&), void> {
  using type = Out;
};
template <typename R, typename A, typename Out>
struct CollectorParameter<R (*)(A, Collector<Out>&), void> {
  using type = Out;
};
template <typename F>
concept HasCollectorParameter = requires {
  typename CollectorParameter<F>::type;
};
template <typename R, typename F>
struct FlatMapOutput {
  using type = R;
};
template <typename F>
struct FlatMapOutput<DeduceOutput, F> {
  static_assert(HasCollectorParameter<F>,
                "FlatMap: cannot tell the output type from the function (a generic lambda?): "
                "name it, as in FlatMap<OutputType>(f), with f(const In&, Collector<OutputType>&)");
  using type = typename CollectorParameter<F>::type;
};

template <typename In, typename Out, typename F>
class FlatMapOperator final : public Collector<In> {
 public:
  FlatMapOperator(std::string name, F f, Collector<Out>* out)
      : name_(std::move(name)), f_(std::move(f)), out_(out) {}
  using Collector<In>::Collect;
  void Collect(In&& record) override {
    CallUser(name_, [&] { f_(record, *out_); });
  }
  void Collect(const In& record) override {
    CallUser(name_, [&] { f_(record, *out_); });
  }
  void EndOfInput() override { out_->EndOfInput(); }

 private:
  std::string name_;
  F f_;
  Collector<Out>* out_;
};

template <typename T, typename F>
class FilterOperator final : public Collector<T> {
 public:
  FilterOperator(std::string name, F f, Collector<T>* out)
      : name_(std::move(name)), f_(std::move(f)), out_(out) {}
  using Collector<T>::Collect;
  void Collect(T&& record) override {
    if (CallUser(name_, [&]() -> bool { return f_(record); })) out_->Collect(std::move(record));
  }
  void Collect(const T& record) override {
    if (CallUser(name_, [&]() -> bool { return f_(record); })) out_->Collect(record);
  }
  void EndOfInput() override { out_->EndOfInput(); }

 private:
  std::string name_;
  F f_;
  Collector<T>* out_;
};

// The key of each record, extracted and serialized for the runtime.
template <typename K, typename T, typename KeyF>
class KeyOf {
 public:
  explicit KeyOf(KeyF key) : key_(std::move(key)) {}
  // Extracts the record's key into `key` and makes it the runtime's current key.
  void Set(const std::string& op, const T& record, K* key, KeyedRuntime* keyed) {
    *key = CallUser(op, [&]() -> K { return key_(record); });
    bytes_.clear();
    Writer w(&bytes_);
    Serializer<K>::Write(*key, w);
    keyed->SetCurrentKey(bytes_);
  }

 private:
  KeyF key_;
  std::string bytes_;
};

// Keeps one running value per key (runtime-owned state "reduce") and emits it
// after every record.
template <typename K, typename T, typename KeyF, typename ReduceF>
class ReduceOperator final : public Collector<T>, public TimerTarget {
 public:
  ReduceOperator(const OperatorContext& ctx, KeyF key, ReduceF reduce, Collector<T>* out)
      : name_(ctx.name),
        key_(std::move(key)),
        reduce_(std::move(reduce)),
        out_(out),
        keyed_(ctx.keyed_runtime(this)),
        state_(keyed_->State("reducing:reduce", StateTypeOf<T>())) {}
  using Collector<T>::Collect;
  void Collect(T&& record) override { Reduce(std::move(record)); }
  void Collect(const T& record) override { Reduce(record); }
  void EndOfInput() override { out_->EndOfInput(); }
  void OnTimer(int64_t, std::string_view) override {}

 private:
  template <typename R>
  void Reduce(R&& record) {
    key_.Set(name_, record, &current_, keyed_);
    T* value = static_cast<T*>(state_->Get());
    if (value == nullptr) {
      value = static_cast<T*>(state_->GetOrCreate());
      *value = std::forward<R>(record);
    } else {
      *value = CallUser(name_, [&]() -> T { return reduce_(*value, record); });
    }
    out_->Collect(static_cast<const T&>(*value));
  }

  std::string name_;
  KeyOf<K, T, KeyF> key_;
  ReduceF reduce_;
  Collector<T>* out_;
  KeyedRuntime* keyed_;
  StateTable* state_;
  K current_{};
};

template <typename K, typename In, typename Out, typename KeyF>
class ProcessOperator final : public Collector<In>,
                              public TimerTarget,
                              public EventTimeTimerTarget {
 public:
  ProcessOperator(const OperatorContext& ctx, KeyF key,
                  std::unique_ptr<KeyedProcessFunction<K, In, Out>> fn, Collector<Out>* out)
      : name_(ctx.name),
        key_(std::move(key)),
        fn_(std::move(fn)),
        keyed_(ctx.keyed_runtime(this)),
        timestamp_(ctx.timestamp),
        side_outputs_(ctx.side_output),
        ctx_(ctx.runtime, keyed_, &current_, ctx.timestamp, &side_outputs_),
        out_(out) {
    CallUser(name_, [&] { fn_->Open(ctx_); });
  }
  using Collector<In>::Collect;
  void Collect(In&& record) override { Process(record); }
  void Collect(const In& record) override { Process(record); }
  // What a processing-time timer emits has no event time; what an
  // event-time timer emits has the timer's (as in Flink).
  void OnTimer(int64_t when, std::string_view key) override {
    *timestamp_ = kNoTimestamp;
    Fire(when, key, TimeDomain::kProcessingTime);
  }
  void OnEventTimeTimer(int64_t when, std::string_view key) override {
    *timestamp_ = when;
    Fire(when, key, TimeDomain::kEventTime);
  }
  // Pending timers fire before the end of input goes downstream.
  void EndOfInput() override {
    keyed_->FireAllTimers();
    current_ = nullptr;
    CallUser(name_, [&] { fn_->OnEndOfInput(*out_); });
    out_->EndOfInput();
  }

 private:
  void Process(const In& record) {
    key_.Set(name_, record, &record_key_, keyed_);
    current_ = &record_key_;
    CallUser(name_, [&] { fn_->ProcessElement(record, ctx_, *out_); });
  }
  void Fire(int64_t when, std::string_view key, TimeDomain domain) {
    Reader r(key.data(), key.size());
    timer_key_ = Serializer<K>::Read(r);
    current_ = &timer_key_;
    ctx_.set_time_domain(domain);
    CallUser(name_, [&] { fn_->OnTimer(when, ctx_, *out_); });
  }

  std::string name_;
  KeyOf<K, In, KeyF> key_;
  std::unique_ptr<KeyedProcessFunction<K, In, Out>> fn_;
  KeyedRuntime* keyed_;
  int64_t* timestamp_;
  K record_key_{};
  K timer_key_{};
  const K* current_ = nullptr;
  SideOutputs side_outputs_;
  KeyedContext<K> ctx_;
  Collector<Out>* out_;
};

// Keeps the operator's watermark, for the ProcessContext of an operator
// that is not keyed.
class WatermarkTracker : public WatermarkOperator {
 public:
  void ProcessWatermark(int64_t watermark) override { watermark_ = watermark; }

 protected:
  int64_t watermark_ = kNoWatermark;
};

// What operators running a user function Fn (not keyed) share: the
// function, opened with its ProcessContext (side outputs, watermark), and
// its end of input.
template <typename Fn, typename Out>
class FunctionOperator : public WatermarkTracker {
 protected:
  FunctionOperator(const OperatorContext& ctx, std::unique_ptr<Fn> fn, Collector<Out>* out)
      : name_(ctx.name),
        fn_(std::move(fn)),
        side_outputs_(ctx.side_output),
        ctx_(ctx.runtime, ctx.timestamp, &watermark_, nullptr, &side_outputs_),
        out_(out) {
    CallUser(name_, [&] { fn_->Open(ctx_); });
  }
  void Finish() {
    CallUser(name_, [&] { fn_->OnEndOfInput(*out_); });
    out_->EndOfInput();
  }

  std::string name_;
  std::unique_ptr<Fn> fn_;
  SideOutputs side_outputs_;
  ProcessContext ctx_;
  Collector<Out>* out_;
};

// Runs a ProcessFunction (not keyed) over each record.
template <typename In, typename Out>
class StreamProcessOperator final : public Collector<In>,
                                    public FunctionOperator<ProcessFunction<In, Out>, Out> {
 public:
  StreamProcessOperator(const OperatorContext& ctx, std::unique_ptr<ProcessFunction<In, Out>> fn,
                        Collector<Out>* out)
      : FunctionOperator<ProcessFunction<In, Out>, Out>(ctx, std::move(fn), out) {}
  using Collector<In>::Collect;
  void Collect(In&& record) override { Collect(static_cast<const In&>(record)); }
  void Collect(const In& record) override {
    CallUser(this->name_, [&] { this->fn_->ProcessElement(record, this->ctx_, *this->out_); });
  }
  void EndOfInput() override { this->Finish(); }
};

// Counts the records passing between two chained operators. Only the task
// thread writes the count, so a plain load and store suffice (no locked add).
template <typename T>
class Counted final : public Collector<T> {
 public:
  Counted(AnyCollector* next, std::atomic<uint64_t>* count)
      : next_(static_cast<Collector<T>*>(next)), count_(count) {}
  using Collector<T>::Collect;
  void Collect(T&& record) override {
    Count();
    next_->Collect(std::move(record));
  }
  void Collect(const T& record) override {
    Count();
    next_->Collect(record);
  }
  void EndOfInput() override { next_->EndOfInput(); }

 private:
  void Count() {
    count_->store(count_->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  Collector<T>* next_;
  std::atomic<uint64_t>* count_;
};

// Hands each record to several consumers (copies to all but the last).
template <typename T>
class FanOut final : public Collector<T> {
 public:
  explicit FanOut(std::vector<AnyCollector*> outputs) {
    for (AnyCollector* out : outputs) outputs_.push_back(static_cast<Collector<T>*>(out));
  }
  using Collector<T>::Collect;
  void Collect(T&& record) override {
    if (outputs_.empty()) return;  // only side outputs of the operator are read
    for (size_t i = 0; i + 1 < outputs_.size(); ++i)
      outputs_[i]->Collect(static_cast<const T&>(record));
    outputs_.back()->Collect(std::move(record));
  }
  void Collect(const T& record) override {
    for (auto* out : outputs_) out->Collect(record);
  }
  void EndOfInput() override {
    for (auto* out : outputs_) out->EndOfInput();
  }

 private:
  std::vector<Collector<T>*> outputs_;
};

template <typename T>
class UnionPassThrough final : public Collector<T> {
 public:
  explicit UnionPassThrough(Collector<T>* out) : out_(out) {}
  using Collector<T>::Collect;
  void Collect(T&& record) override { out_->Collect(std::move(record)); }
  void Collect(const T& record) override { out_->Collect(record); }
  void EndOfInput() override { out_->EndOfInput(); }

 private:
  Collector<T>* out_;
};

template <typename T, typename F>
class CallbackSink final : public Collector<T> {
 public:
  CallbackSink(std::string name, F f) : name_(std::move(name)), f_(std::move(f)) {}
  using Collector<T>::Collect;
  void Collect(T&& record) override { Collect(static_cast<const T&>(record)); }
  void Collect(const T& record) override {
    CallUser(name_, [&] { f_(record); });
  }
  void EndOfInput() override {
    if constexpr (requires(F & f) { f.Finish(); }) CallUser(name_, [&] { f_.Finish(); });
  }

 private:
  std::string name_;
  F f_;
};

template <typename T>
class DiscardSink final : public Collector<T> {
 public:
  using Collector<T>::Collect;
  void Collect(T&&) override {}
  void Collect(const T&) override {}
  void EndOfInput() override {}
};

// "<subtask>> <record>", like Flink's print sink.
template <typename T, typename Format>
class PrintSink final : public Collector<T> {
 public:
  PrintSink(Format format, TaskRuntime* runtime) : format_(std::move(format)), runtime_(runtime) {}
  using Collector<T>::Collect;
  void Collect(T&& record) override { Collect(static_cast<const T&>(record)); }
  void Collect(const T& record) override {
    std::ostream& out = runtime_->out();
    out << runtime_->subtask() + 1 << "> " << format_(record) << "\n";
    if (!out) throw std::runtime_error("writing to the task's standard output failed");
  }
  void EndOfInput() override {
    runtime_->out().flush();
    if (!runtime_->out()) throw std::runtime_error("writing to the task's standard output failed");
  }

 private:
  Format format_;
  TaskRuntime* runtime_;
};

// Writes each record as a line into the subtask's part files (part_files.h):
// exactly once with checkpoints, committed when they complete or when the
// input ends.
template <typename T, typename Format>
class TextFileSink final : public Collector<T>, public CheckpointedOperator {
 public:
  TextFileSink(std::string name, Format format, const std::string& dir, TaskRuntime* runtime)
      : name_(std::move(name)), format_(std::move(format)), files_(dir, runtime) {}
  using Collector<T>::Collect;
  void Collect(T&& record) override { Collect(static_cast<const T&>(record)); }
  void Collect(const T& record) override {
    CallUser(name_, [&] { line_ = format_(record); });
    line_.push_back('\n');
    // A failed write (disk full, file too large) is this sink's failure.
    CallUser(name_, [&] { files_.Current().Append(line_); });
  }
  void EndOfInput() override {
    CallUser(name_, [&] { files_.Finish(); });
  }

  void InitializeState(int64_t checkpoint_id, const std::vector<std::string>& states) override {
    files_.Initialize(checkpoint_id, states);
  }
  std::string SnapshotState(int64_t checkpoint_id) override {
    return files_.Snapshot(checkpoint_id);
  }
  void NotifyCheckpointComplete(int64_t checkpoint_id) override { files_.Commit(checkpoint_id); }

 private:
  std::string name_;
  Format format_;
  PartFiles files_;
  std::string line_;
};

// The tail of a chain into one outgoing edge: serializes each record (and,
// into a keyed operator, its key) and hands it to the runtime, which frames,
// routes and buffers it.
template <typename T>
class EdgeWriter final : public Collector<T> {
 public:
  EdgeWriter(RecordOutput* out, const KeyWriter* key) : out_(out), key_(key) {}
  using Collector<T>::Collect;
  void Collect(T&& record) override { Collect(static_cast<const T&>(record)); }
  void Collect(const T& record) override {
    if (key_ != nullptr) {
      key_bytes_.clear();
      (*key_)(&record, &key_bytes_);
    }
    Writer w(out_->BeginRecord(key_bytes_));
    Serializer<T>::Write(record, w);
    out_->EndRecord();
  }
  void EndOfInput() override {}  // the runtime ends the edge's channels

 private:
  RecordOutput* out_;
  const KeyWriter* key_;
  std::string key_bytes_;
};

// Deserializes each record and feeds it into the head of a chain. Records
// are read into one object kept from record to record, so its memory is
// reused; the chain copies what it keeps.
template <typename T>
class RecordReader {
 public:
  explicit RecordReader(Collector<T>* head) : head_(head) {}
  void operator()(std::string_view bytes) {
    Reader r(bytes.data(), bytes.size());
    if constexpr (std::is_default_constructible_v<T>) {
      ReadInto(record_, r);
      head_->Collect(static_cast<const T&>(record_));
    } else {
      head_->Collect(Serializer<T>::Read(r));
    }
  }

 private:
  struct NoRecord {};
  Collector<T>* head_;
  [[no_unique_address]] std::conditional_t<std::is_default_constructible_v<T>, T, NoRecord>
      record_{};
};

}  // namespace sluice::internal

#endif  // SLUICE_INTERNAL_OPERATORS_H_
