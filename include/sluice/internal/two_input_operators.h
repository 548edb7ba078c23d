// The operators behind connected streams (connected_streams.h) and joins
// (joins.h). A two-input operator receives one record type, a
// std::variant<In1, In2> whose index says which input the record came from:
// a Tag operator chained to each input wraps its records, so the runtime
// carries two inputs as one stream with per-input partitioning.
#ifndef SLUICE_INTERNAL_TWO_INPUT_OPERATORS_H_
#define SLUICE_INTERNAL_TWO_INPUT_OPERATORS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/collector.h"
#include "sluice/functions.h"
#include "sluice/internal/abi.h"
#include "sluice/internal/graph.h"
#include "sluice/internal/operators.h"
#include "sluice/serialization.h"
#include "sluice/side_output.h"
#include "sluice/state.h"

namespace sluice {

template <typename In1, typename In2>
using TwoInputs = std::variant<In1, In2>;

// Named maps shared by every subtask of a broadcast operator (Flink's
// broadcast state): written only where broadcast records are processed, so
// that every subtask holds the same contents; read-only (const) elsewhere.
// Checkpointed with the operator; after a restore at any parallelism each
// subtask gets the contents back.
class BroadcastState {
 public:
  template <typename MK, typename MV>
  std::map<MK, MV>& Get(const MapStateDescriptor<MK, MV>& descriptor) {
    return *Find<MK, MV>(descriptor.name);
  }
  template <typename MK, typename MV>
  const std::map<MK, MV>& Get(const MapStateDescriptor<MK, MV>& descriptor) const {
    return *const_cast<BroadcastState*>(this)->Find<MK, MV>(descriptor.name);
  }

  // For the operator: every map, serialized by name.
  std::string Snapshot() const {
    std::map<std::string, std::string> bytes;
    for (const auto& [name, entry] : entries_) bytes[name] = entry.write(entry.value.get());
    return Serialize(bytes);
  }
  // Replaces the contents with a snapshot's; maps not asked for yet are
  // read when first asked for.
  void Restore(const std::string& snapshot) {
    pending_ = Deserialize<std::map<std::string, std::string>>(snapshot);
    for (auto& [name, entry] : entries_) {
      auto it = pending_.find(name);
      if (it == pending_.end()) continue;
      entry.read(it->second, entry.value.get());
      pending_.erase(it);
    }
  }

 private:
  struct Entry {
    std::shared_ptr<void> value;
    std::string type;
    std::string (*write)(const void* value);
    void (*read)(const std::string& bytes, void* value);
  };

  template <typename MK, typename MV>
  std::map<MK, MV>* Find(const std::string& name) {
    using Map = std::map<MK, MV>;
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      Entry entry{
          std::make_shared<Map>(), typeid(Map).name(),
          [](const void* v) { return Serialize(*static_cast<const Map*>(v)); },
          [](const std::string& b, void* v) { *static_cast<Map*>(v) = Deserialize<Map>(b); }};
      auto restored = pending_.find(name);
      if (restored != pending_.end()) {
        entry.read(restored->second, entry.value.get());
        pending_.erase(restored);
      }
      it = entries_.emplace(name, std::move(entry)).first;
    } else if (it->second.type != typeid(Map).name()) {
      throw std::logic_error("broadcast state '" + name + "' is used with two map types");
    }
    return static_cast<Map*>(it->second.value.get());
  }

  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> pending_;  // restored, not asked for yet
};

namespace internal {

// Wraps the records of input I of a two-input operator.
template <typename In, typename V, size_t I>
class TagOperator final : public Collector<In> {
 public:
  explicit TagOperator(Collector<V>* out) : out_(out) {}
  using Collector<In>::Collect;
  void Collect(In&& record) override {
    out_->Collect(V(std::in_place_index<I>, std::move(record)));
  }
  void Collect(const In& record) override { out_->Collect(V(std::in_place_index<I>, record)); }
  void EndOfInput() override { out_->EndOfInput(); }

 private:
  Collector<V>* out_;
};

// The key of a two-input record: each input has its own key selector.
template <typename K, typename In1, typename In2>
struct TwoInputKey {
  std::shared_ptr<std::function<K(const In1&)>> first;
  std::shared_ptr<std::function<K(const In2&)>> second;
  K operator()(const TwoInputs<In1, In2>& record) const {
    if (record.index() == 0) return (*first)(std::get<0>(record));
    return (*second)(std::get<1>(record));
  }
};

// CoProcessFunction and CoFlatMap: not keyed.
template <typename In1, typename In2, typename Out, typename Fn>
class CoProcessOperator final : public Collector<TwoInputs<In1, In2>>,
                                public FunctionOperator<Fn, Out> {
 public:
  using V = TwoInputs<In1, In2>;
  CoProcessOperator(const OperatorContext& ctx, std::unique_ptr<Fn> fn, Collector<Out>* out)
      : FunctionOperator<Fn, Out>(ctx, std::move(fn), out) {}
  using Collector<V>::Collect;
  void Collect(V&& record) override { Collect(static_cast<const V&>(record)); }
  void Collect(const V& record) override {
    CallUser(this->name_, [&] {
      if (record.index() == 0) {
        this->fn_->ProcessElement1(std::get<0>(record), this->ctx_, *this->out_);
      } else {
        this->fn_->ProcessElement2(std::get<1>(record), this->ctx_, *this->out_);
      }
    });
  }
  void EndOfInput() override { this->Finish(); }
};

// The keyed two-input operators' common part: the key of each record and
// timer, state and timers through the runtime.
template <typename K, typename In1, typename In2>
class KeyedTwoInputBase : public Collector<TwoInputs<In1, In2>>,
                          public TimerTarget,
                          public EventTimeTimerTarget {
 public:
  using V = TwoInputs<In1, In2>;
  KeyedTwoInputBase(const OperatorContext& ctx, TwoInputKey<K, In1, In2> key)
      : name_(ctx.name),
        key_(std::move(key)),
        keyed_(ctx.keyed_runtime(this)),
        timestamp_(ctx.timestamp),
        side_outputs_(ctx.side_output),
        ctx_(ctx.runtime, keyed_, &current_, ctx.timestamp, &side_outputs_) {}
  using Collector<V>::Collect;
  void Collect(V&& record) override { Collect(static_cast<const V&>(record)); }
  void OnTimer(int64_t when, std::string_view key) override {
    *timestamp_ = kNoTimestamp;
    Fire(when, key, TimeDomain::kProcessingTime);
  }
  void OnEventTimeTimer(int64_t when, std::string_view key) override {
    *timestamp_ = when;
    Fire(when, key, TimeDomain::kEventTime);
  }

 protected:
  // Makes the record's key current, for state and timers.
  void SetKey(const V& record) {
    key_.Set(name_, record, &record_key_, keyed_);
    current_ = &record_key_;
  }
  virtual void OnKeyTimer(int64_t when) = 0;
  void FireAllTimers() {
    keyed_->FireAllTimers();
    current_ = nullptr;
  }

  std::string name_;
  KeyOf<K, V, TwoInputKey<K, In1, In2>> key_;
  KeyedRuntime* keyed_;
  int64_t* timestamp_;
  K record_key_{};
  K timer_key_{};
  const K* current_ = nullptr;
  SideOutputs side_outputs_;
  KeyedContext<K> ctx_;

 private:
  void Fire(int64_t when, std::string_view key, TimeDomain domain) {
    Reader r(key.data(), key.size());
    timer_key_ = Serializer<K>::Read(r);
    current_ = &timer_key_;
    ctx_.set_time_domain(domain);
    OnKeyTimer(when);
  }
};

// KeyedCoProcessFunction.
template <typename K, typename In1, typename In2, typename Out, typename Fn>
class KeyedCoProcessOperator final : public KeyedTwoInputBase<K, In1, In2> {
  using Base = KeyedTwoInputBase<K, In1, In2>;

 public:
  using typename Base::V;
  KeyedCoProcessOperator(const OperatorContext& ctx, TwoInputKey<K, In1, In2> key,
                         std::unique_ptr<Fn> fn, Collector<Out>* out)
      : Base(ctx, std::move(key)), fn_(std::move(fn)), out_(out) {
    CallUser(this->name_, [&] { fn_->Open(this->ctx_); });
  }
  using Base::Collect;
  void Collect(const V& record) override {
    this->SetKey(record);
    CallUser(this->name_, [&] {
      if (record.index() == 0) {
        fn_->ProcessElement1(std::get<0>(record), this->ctx_, *out_);
      } else {
        fn_->ProcessElement2(std::get<1>(record), this->ctx_, *out_);
      }
    });
  }
  void EndOfInput() override {
    this->FireAllTimers();
    CallUser(this->name_, [&] { fn_->OnEndOfInput(*out_); });
    out_->EndOfInput();
  }

 private:
  void OnKeyTimer(int64_t when) override {
    CallUser(this->name_, [&] { fn_->OnTimer(when, this->ctx_, *out_); });
  }
  std::unique_ptr<Fn> fn_;
  Collector<Out>* out_;
};

// Broadcast state of an operator, in its checkpoints.
class BroadcastStateOperator : public CheckpointedOperator {
 public:
  explicit BroadcastStateOperator(int subtask) : subtask_(subtask) {}
  // Every subtask saved the same contents; each takes one of them back.
  void InitializeState(int64_t, const std::vector<std::string>& states) override {
    if (!states.empty()) state_.Restore(states[static_cast<size_t>(subtask_) % states.size()]);
  }
  std::string SnapshotState(int64_t) override { return state_.Snapshot(); }
  void NotifyCheckpointComplete(int64_t) override {}

 protected:
  BroadcastState state_;

 private:
  int subtask_;
};

// BroadcastProcessFunction: input 2 is the broadcast stream.
template <typename In, typename B, typename Out, typename Fn>
class BroadcastProcessOperator final : public Collector<TwoInputs<In, B>>,
                                       public FunctionOperator<Fn, Out>,
                                       public BroadcastStateOperator {
 public:
  using V = TwoInputs<In, B>;
  BroadcastProcessOperator(const OperatorContext& ctx, std::unique_ptr<Fn> fn, Collector<Out>* out)
      : FunctionOperator<Fn, Out>(ctx, std::move(fn), out),
        BroadcastStateOperator(ctx.runtime->subtask()) {}
  using Collector<V>::Collect;
  void Collect(V&& record) override { Collect(static_cast<const V&>(record)); }
  void Collect(const V& record) override {
    CallUser(this->name_, [&] {
      if (record.index() == 0) {
        this->fn_->ProcessElement(std::get<0>(record), std::as_const(state_), this->ctx_,
                                  *this->out_);
      } else {
        this->fn_->ProcessBroadcastElement(std::get<1>(record), state_, this->ctx_, *this->out_);
      }
    });
  }
  void EndOfInput() override { this->Finish(); }
};

// KeyedBroadcastProcessFunction: input 1 keyed, input 2 broadcast.
template <typename K, typename In, typename B, typename Out, typename Fn>
class KeyedBroadcastProcessOperator final : public KeyedTwoInputBase<K, In, B>,
                                            public BroadcastStateOperator {
  using Base = KeyedTwoInputBase<K, In, B>;

 public:
  using typename Base::V;
  KeyedBroadcastProcessOperator(const OperatorContext& ctx, TwoInputKey<K, In, B> key,
                                std::unique_ptr<Fn> fn, Collector<Out>* out)
      : Base(ctx, std::move(key)),
        BroadcastStateOperator(ctx.runtime->subtask()),
        fn_(std::move(fn)),
        out_(out) {
    CallUser(this->name_, [&] { fn_->Open(this->ctx_); });
  }
  using Base::Collect;
  void Collect(const V& record) override {
    if (record.index() == 0) {
      this->SetKey(record);
      CallUser(this->name_, [&] {
        fn_->ProcessElement(std::get<0>(record), std::as_const(state_), this->ctx_, *out_);
      });
    } else {
      this->current_ = nullptr;  // a broadcast record has no key
      ProcessContext& ctx = this->ctx_;
      CallUser(this->name_,
               [&] { fn_->ProcessBroadcastElement(std::get<1>(record), state_, ctx, *out_); });
    }
  }
  void EndOfInput() override {
    this->FireAllTimers();
    CallUser(this->name_, [&] { fn_->OnEndOfInput(*out_); });
    out_->EndOfInput();
  }

 private:
  void OnKeyTimer(int64_t when) override {
    CallUser(this->name_, [&] { fn_->OnTimer(when, std::as_const(state_), this->ctx_, *out_); });
  }
  std::unique_ptr<Fn> fn_;
  Collector<Out>* out_;
};

}  // namespace internal
}  // namespace sluice

#endif  // SLUICE_INTERNAL_TWO_INPUT_OPERATORS_H_
