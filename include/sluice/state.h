// Keyed state: each value lives under the key of the record (or timer) being
// processed. A KeyedProcessFunction obtains handles in Open from named
// descriptors and reads or writes them in ProcessElement / OnTimer, always
// for the current key:
//
//   count_ = &ctx.GetState(sluice::ValueStateDescriptor<int64_t>("count"));
//   ...
//   count_->update(count_->value().value_or(0) + 1);
//
// The runtime stores the values (its keyed state backend) and snapshots them
// by key group, so state types need a Serializer (see serialization.h). The
// name identifies the state within its operator: keep it when the job
// changes, so that saved state can be restored into it.
#ifndef SLUICE_STATE_H_
#define SLUICE_STATE_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sluice/internal/abi.h"
#include "sluice/serialization.h"

namespace sluice {

namespace internal {
// The runtime's hooks for values of type V.
template <typename V>
const StateType& StateTypeOf() {
  static_assert(IsSerializable<V>::value,
                "keyed state values need a Serializer: add SLUICE_SERIALIZABLE(...) for the type");
  static const StateType type{+[]() -> void* { return new V(); },
                              +[](void* v) { delete static_cast<V*>(v); },
                              +[](const void* v, std::string* out) {
                                Writer w(out);
                                Serializer<V>::Write(*static_cast<const V*>(v), w);
                              },
                              +[](std::string_view bytes) -> void* {
                                try {
                                  Reader r(bytes.data(), bytes.size());
                                  return new V(Serializer<V>::Read(r));
                                } catch (const std::exception&) {
                                  return nullptr;
                                }
                              }};
  return type;
}
}  // namespace internal

// A single value per key.
template <typename V>
class ValueState {
 public:
  explicit ValueState(internal::StateTable* table) : table_(table) {}
  std::optional<V> value() const {
    const V* v = static_cast<const V*>(table_->Get());
    return v == nullptr ? std::nullopt : std::optional<V>(*v);
  }
  void update(V v) { *static_cast<V*>(table_->GetOrCreate()) = std::move(v); }
  void clear() { table_->Remove(); }

 private:
  internal::StateTable* table_;
};

// A list of values per key.
template <typename V>
class ListState {
 public:
  explicit ListState(internal::StateTable* table) : table_(table) {}
  const std::vector<V>& get() const {
    static const std::vector<V> kEmpty;
    const auto* v = static_cast<const std::vector<V>*>(table_->Get());
    return v == nullptr ? kEmpty : *v;
  }
  void add(V v) { static_cast<std::vector<V>*>(table_->GetOrCreate())->push_back(std::move(v)); }
  void update(std::vector<V> values) {
    *static_cast<std::vector<V>*>(table_->GetOrCreate()) = std::move(values);
  }
  void clear() { table_->Remove(); }

 private:
  internal::StateTable* table_;
};

// A sorted map per key.
template <typename MK, typename MV>
class MapState {
 public:
  explicit MapState(internal::StateTable* table) : table_(table) {}
  std::optional<MV> get(const MK& k) const {
    const auto* m = static_cast<const std::map<MK, MV>*>(table_->Get());
    if (m == nullptr) return std::nullopt;
    auto e = m->find(k);
    return e == m->end() ? std::nullopt : std::optional<MV>(e->second);
  }
  bool contains(const MK& k) const { return get(k).has_value(); }
  void put(const MK& k, MV v) { (*Map())[k] = std::move(v); }
  void remove(const MK& k) {
    auto* m = static_cast<std::map<MK, MV>*>(table_->Get());
    if (m == nullptr) return;
    m->erase(k);
    if (m->empty()) table_->Remove();
  }
  const std::map<MK, MV>& entries() const {
    static const std::map<MK, MV> kEmpty;
    const auto* m = static_cast<const std::map<MK, MV>*>(table_->Get());
    return m == nullptr ? kEmpty : *m;
  }
  void clear() { table_->Remove(); }

 private:
  std::map<MK, MV>* Map() { return static_cast<std::map<MK, MV>*>(table_->GetOrCreate()); }
  internal::StateTable* table_;
};

// One value per key that every add() folds in with the descriptor's function.
template <typename V>
class ReducingState {
 public:
  ReducingState(internal::StateTable* table, std::function<V(const V&, const V&)> reduce)
      : table_(table), reduce_(std::move(reduce)) {}
  std::optional<V> get() const {
    const V* v = static_cast<const V*>(table_->Get());
    return v == nullptr ? std::nullopt : std::optional<V>(*v);
  }
  void add(V v) {
    V* current = static_cast<V*>(table_->Get());
    if (current == nullptr) {
      *static_cast<V*>(table_->GetOrCreate()) = std::move(v);
    } else {
      *current = reduce_(*current, v);
    }
  }
  void clear() { table_->Remove(); }

 private:
  internal::StateTable* table_;
  std::function<V(const V&, const V&)> reduce_;
};

// Flink's AggregateFunction: an accumulator per key, a result read from it.
template <typename In, typename Acc, typename Out>
class AggregateFunction {
 public:
  using Input = In;
  using Accumulator = Acc;
  using Output = Out;
  virtual ~AggregateFunction() = default;
  virtual Acc CreateAccumulator() const = 0;
  virtual Acc Add(const In& value, Acc accumulator) const = 0;
  virtual Out GetResult(const Acc& accumulator) const = 0;
};

template <typename In, typename Acc, typename Out>
class AggregatingState {
 public:
  AggregatingState(internal::StateTable* table,
                   std::shared_ptr<const AggregateFunction<In, Acc, Out>> f)
      : table_(table), f_(std::move(f)) {}
  std::optional<Out> get() const {
    const Acc* acc = static_cast<const Acc*>(table_->Get());
    return acc == nullptr ? std::nullopt : std::optional<Out>(f_->GetResult(*acc));
  }
  void add(const In& value) {
    Acc* acc = static_cast<Acc*>(table_->Get());
    if (acc == nullptr) {
      acc = static_cast<Acc*>(table_->GetOrCreate());
      *acc = f_->CreateAccumulator();
    }
    *acc = f_->Add(value, std::move(*acc));
  }
  void clear() { table_->Remove(); }

 private:
  internal::StateTable* table_;
  std::shared_ptr<const AggregateFunction<In, Acc, Out>> f_;
};

// Descriptors: a name and what the state holds. Pass one to
// KeyedContext::GetState to get its handle.
template <typename V>
struct ValueStateDescriptor {
  using Handle = ValueState<V>;
  using Stored = V;
  explicit ValueStateDescriptor(std::string n) : name(std::move(n)) {}
  std::string name;
  static constexpr const char* kKind = "value";
  Handle Make(internal::StateTable* table) const { return Handle(table); }
};

template <typename V>
struct ListStateDescriptor {
  using Handle = ListState<V>;
  using Stored = std::vector<V>;
  explicit ListStateDescriptor(std::string n) : name(std::move(n)) {}
  std::string name;
  static constexpr const char* kKind = "list";
  Handle Make(internal::StateTable* table) const { return Handle(table); }
};

template <typename MK, typename MV>
struct MapStateDescriptor {
  using Handle = MapState<MK, MV>;
  using Stored = std::map<MK, MV>;
  explicit MapStateDescriptor(std::string n) : name(std::move(n)) {}
  std::string name;
  static constexpr const char* kKind = "map";
  Handle Make(internal::StateTable* table) const { return Handle(table); }
};

template <typename V>
struct ReducingStateDescriptor {
  using Handle = ReducingState<V>;
  using Stored = V;
  ReducingStateDescriptor(std::string n, std::function<V(const V&, const V&)> f)
      : name(std::move(n)), reduce(std::move(f)) {}
  std::string name;
  std::function<V(const V&, const V&)> reduce;
  static constexpr const char* kKind = "reducing";
  Handle Make(internal::StateTable* table) const { return Handle(table, reduce); }
};

template <typename In, typename Acc, typename Out>
struct AggregatingStateDescriptor {
  using Handle = AggregatingState<In, Acc, Out>;
  using Stored = Acc;
  AggregatingStateDescriptor(std::string n,
                             std::shared_ptr<const AggregateFunction<In, Acc, Out>> f)
      : name(std::move(n)), aggregate(std::move(f)) {}
  std::string name;
  std::shared_ptr<const AggregateFunction<In, Acc, Out>> aggregate;
  static constexpr const char* kKind = "aggregating";
  Handle Make(internal::StateTable* table) const { return Handle(table, aggregate); }
};

}  // namespace sluice

#endif  // SLUICE_STATE_H_
