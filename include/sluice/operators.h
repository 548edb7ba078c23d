// The operators behind the DataStream API, one per transformation. Each is a
// Collector of its input that calls its downstream Collector directly (that is
// what chaining is). Channel writers and readers move records between chains
// as serialized bytes in fixed-size buffers.
#ifndef SLUICE_OPERATORS_H_
#define SLUICE_OPERATORS_H_

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sluice/collector.h"
#include "sluice/functions.h"
#include "sluice/graph.h"
#include "sluice/key_hash.h"
#include "sluice/serialization.h"

namespace sluice::internal {

inline constexpr size_t kBufferSize = 32 * 1024;

template <typename In, typename Out, typename F>
class MapOperator final : public Collector<In> {
 public:
  MapOperator(std::string name, F f, Collector<Out>* out)
      : name_(std::move(name)), f_(std::move(f)), out_(out) {}
  using Collector<In>::Collect;
  void Collect(In&& record) override {
    out_->Collect(CallUser(name_, [&]() -> Out { return f_(record); }));
  }
  void EndOfInput() override { out_->EndOfInput(); }

 private:
  std::string name_;
  F f_;
  Collector<Out>* out_;
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
  void EndOfInput() override { out_->EndOfInput(); }

 private:
  std::string name_;
  F f_;
  Collector<T>* out_;
};

// Keeps one running value per key and emits it after every record.
template <typename K, typename T, typename KeyF, typename ReduceF>
class ReduceOperator final : public Collector<T> {
 public:
  ReduceOperator(std::string name, KeyF key, ReduceF reduce, Collector<T>* out)
      : name_(std::move(name)), key_(std::move(key)), reduce_(std::move(reduce)), out_(out) {}
  using Collector<T>::Collect;
  void Collect(T&& record) override {
    K k = CallUser(name_, [&]() -> K { return key_(record); });
    auto it = state_.find(k);
    if (it == state_.end()) {
      it = state_.emplace(std::move(k), std::move(record)).first;
    } else {
      it->second = CallUser(name_, [&]() -> T { return reduce_(it->second, record); });
    }
    out_->Collect(it->second);
  }
  void EndOfInput() override { out_->EndOfInput(); }

 private:
  std::string name_;
  KeyF key_;
  ReduceF reduce_;
  Collector<T>* out_;
  std::unordered_map<K, T, KeyHasher<K>> state_;
};

template <typename K, typename In, typename Out, typename KeyF>
class ProcessOperator final : public Collector<In> {
 public:
  ProcessOperator(std::string name, KeyF key, std::unique_ptr<KeyedProcessFunction<K, In, Out>> fn,
                  TaskRuntime* runtime, Collector<Out>* out)
      : name_(std::move(name)),
        key_(std::move(key)),
        fn_(std::move(fn)),
        ctx_(runtime, &scope_),
        out_(out) {
    ctx_.on_timer = [this](int64_t when, const K& key) {
      scope_.set(&key);
      CallUser(name_, [&] { fn_->OnTimer(when, ctx_, *out_); });
    };
    CallUser(name_, [&] { fn_->Open(ctx_); });
  }
  using Collector<In>::Collect;
  void Collect(In&& record) override {
    K k = CallUser(name_, [&]() -> K { return key_(record); });
    scope_.set(&k);
    CallUser(name_, [&] { fn_->ProcessElement(record, ctx_, *out_); });
  }
  void EndOfInput() override { out_->EndOfInput(); }

 private:
  std::string name_;
  KeyF key_;
  std::unique_ptr<KeyedProcessFunction<K, In, Out>> fn_;
  KeyScope<K> scope_;
  KeyedContext<K> ctx_;
  Collector<Out>* out_;
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
    count_->store(count_->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    next_->Collect(std::move(record));
  }
  void Flush() override { next_->Flush(); }
  uint64_t records_out() const override { return next_->records_out(); }
  void EndOfInput() override { next_->EndOfInput(); }

 private:
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
    for (size_t i = 0; i + 1 < outputs_.size(); ++i)
      outputs_[i]->Collect(static_cast<const T&>(record));
    outputs_.back()->Collect(std::move(record));
  }
  void Flush() override {
    for (auto* out : outputs_) out->Flush();
  }
  uint64_t records_out() const override {
    uint64_t total = 0;
    for (auto* out : outputs_) total += out->records_out();
    return total;
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
  void EndOfInput() override { out_->EndOfInput(); }

 private:
  Collector<T>* out_;
};

template <typename T, typename F>
class CallbackSink final : public Collector<T> {
 public:
  CallbackSink(std::string name, F f) : name_(std::move(name)), f_(std::move(f)) {}
  using Collector<T>::Collect;
  void Collect(T&& record) override {
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
  void EndOfInput() override {}
};

// "<subtask>> <record>", like Flink's print sink.
template <typename T, typename Format>
class PrintSink final : public Collector<T> {
 public:
  PrintSink(Format format, TaskRuntime* runtime) : format_(std::move(format)), runtime_(runtime) {}
  using Collector<T>::Collect;
  void Collect(T&& record) override {
    runtime_->out() << runtime_->subtask() + 1 << "> " << format_(record) << "\n";
  }
  void EndOfInput() override { runtime_->out().flush(); }

 private:
  Format format_;
  TaskRuntime* runtime_;
};

// One file per subtask, written as "<dir>/.part-<n>.inprogress" and renamed
// to "<dir>/part-<n>" when the input ends, so readers never see half a file.
template <typename T, typename Format>
class TextFileSink final : public Collector<T> {
 public:
  TextFileSink(Format format, const std::string& dir, int subtask)
      : format_(std::move(format)),
        final_path_(dir + "/part-" + std::to_string(subtask)),
        temp_path_(dir + "/.part-" + std::to_string(subtask) + ".inprogress"),
        out_(Open(dir, temp_path_)) {
    if (!out_) throw std::runtime_error("cannot write " + temp_path_);
  }
  using Collector<T>::Collect;
  void Collect(T&& record) override { out_ << format_(record) << '\n'; }
  void EndOfInput() override {
    out_.close();
    if (!out_ || std::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      throw std::runtime_error("cannot finish " + final_path_);
    }
  }

 private:
  static std::ofstream Open(const std::string& dir, const std::string& path) {
    std::error_code ignored;  // a failure shows when the file cannot be opened
    std::filesystem::create_directories(dir, ignored);
    return std::ofstream(path, std::ios::trunc);
  }

  Format format_;
  std::string final_path_;
  std::string temp_path_;
  std::ofstream out_;
};

// Serializes records into one buffer per channel and sends full buffers (or
// all, on Flush) downstream; which channel a record goes to depends on the
// edge's partitioning.
template <typename T>
class ChannelWriter final : public Collector<T> {
 public:
  using KeyHashFn = std::function<uint64_t(const T&)>;
  ChannelWriter(std::vector<ChannelSink*> channels, Partitioning partitioning,
                const KeyHashFn* key_hash, int max_parallelism, int subtask)
      : channels_(std::move(channels)),
        buffers_(channels_.size()),
        partitioning_(partitioning),
        key_hash_(key_hash),
        max_parallelism_(max_parallelism),
        next_(subtask % static_cast<int>(channels_.size())) {
    for (auto& b : buffers_) b.reserve(kBufferSize + 256);
  }
  using Collector<T>::Collect;
  void Collect(T&& record) override {
    // Once per record (a broadcast is one record out); only this task's
    // thread writes, so no locked add on this path.
    records_.store(records_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    switch (partitioning_) {
      case Partitioning::kBroadcast:
        for (size_t c = 0; c < channels_.size(); ++c) Append(c, record);
        return;
      case Partitioning::kHash: {
        uint64_t key_group = (*key_hash_)(record) % static_cast<uint64_t>(max_parallelism_);
        Append(key_group * channels_.size() / static_cast<uint64_t>(max_parallelism_), record);
        return;
      }
      case Partitioning::kForward:
      case Partitioning::kDefault:
        Append(0, record);
        return;
      default:  // rebalance, rescale: round robin over the connected channels
        Append(static_cast<size_t>(next_), record);
        next_ = (next_ + 1) % static_cast<int>(channels_.size());
    }
  }
  void Flush() override {
    for (size_t c = 0; c < channels_.size(); ++c) Send(c);
  }
  void EndOfInput() override {
    Flush();
    for (auto* channel : channels_) channel->Close();
  }
  uint64_t records_out() const override { return records_.load(std::memory_order_relaxed); }
  void FlushEveryRecord() override { flush_every_record_ = true; }

 private:
  void Append(size_t c, const T& record) {
    std::string& buffer = buffers_[c];
    size_t length_at = buffer.size();
    buffer.append(4, '\0');  // length, filled in below
    Writer w(&buffer);
    Serializer<T>::Write(record, w);
    uint32_t length = static_cast<uint32_t>(buffer.size() - length_at - 4);
    std::memcpy(buffer.data() + length_at, &length, 4);
    if (buffer.size() >= kBufferSize || flush_every_record_) Send(c);
  }
  void Send(size_t c) {
    if (buffers_[c].empty()) return;
    std::string full;
    full.reserve(kBufferSize + 256);
    full.swap(buffers_[c]);
    channels_[c]->Write(std::move(full));
  }

  bool flush_every_record_ = false;
  std::vector<ChannelSink*> channels_;
  std::vector<std::string> buffers_;
  Partitioning partitioning_;
  const KeyHashFn* key_hash_;
  int max_parallelism_;
  int next_;
  std::atomic<uint64_t> records_{0};  // read by the metrics collector
};

// Feeds the records of one buffer into the head of a chain.
template <typename T>
size_t ReadRecords(const char* data, size_t size, Collector<T>* head) {
  const char* end = data + size;
  size_t records = 0;
  while (data < end) {
    ++records;
    uint32_t length;
    std::memcpy(&length, data, 4);
    Reader r(data + 4, length);
    head->Collect(Serializer<T>::Read(r));
    data += 4 + length;
  }
  return records;
}

}  // namespace sluice::internal

#endif  // SLUICE_OPERATORS_H_
