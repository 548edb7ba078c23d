// Keyed state: each value lives under the key of the record (or timer) being
// processed. Handles are obtained in KeyedProcessFunction::Open and read or
// written in ProcessElement / OnTimer, always for the current key. Heap-backed.
#ifndef SLUICE_STATE_H_
#define SLUICE_STATE_H_

#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "sluice/key_hash.h"

namespace sluice {

template <typename K>
class KeyScope {
 public:
  const K& current() const { return *current_; }
  void set(const K* key) { current_ = key; }

 private:
  const K* current_ = nullptr;
};

template <typename K, typename V>
class ValueState {
 public:
  explicit ValueState(const KeyScope<K>* scope) : scope_(scope) {}
  std::optional<V> value() const {
    auto it = values_.find(scope_->current());
    return it == values_.end() ? std::nullopt : std::optional<V>(it->second);
  }
  void update(V v) { values_[scope_->current()] = std::move(v); }
  void clear() { values_.erase(scope_->current()); }
  size_t keys() const { return values_.size(); }

 private:
  const KeyScope<K>* scope_;
  std::unordered_map<K, V, KeyHasher<K>> values_;
};

template <typename K, typename V>
class ListState {
 public:
  explicit ListState(const KeyScope<K>* scope) : scope_(scope) {}
  const std::vector<V>& get() const {
    static const std::vector<V> kEmpty;
    auto it = values_.find(scope_->current());
    return it == values_.end() ? kEmpty : it->second;
  }
  void add(V v) { values_[scope_->current()].push_back(std::move(v)); }
  void clear() { values_.erase(scope_->current()); }

 private:
  const KeyScope<K>* scope_;
  std::unordered_map<K, std::vector<V>, KeyHasher<K>> values_;
};

template <typename K, typename MK, typename MV>
class MapState {
 public:
  explicit MapState(const KeyScope<K>* scope) : scope_(scope) {}
  std::optional<MV> get(const MK& k) const {
    auto it = values_.find(scope_->current());
    if (it == values_.end()) return std::nullopt;
    auto e = it->second.find(k);
    return e == it->second.end() ? std::nullopt : std::optional<MV>(e->second);
  }
  void put(const MK& k, MV v) { values_[scope_->current()][k] = std::move(v); }
  void remove(const MK& k) { values_[scope_->current()].erase(k); }
  const std::map<MK, MV>& entries() { return values_[scope_->current()]; }
  void clear() { values_.erase(scope_->current()); }

 private:
  const KeyScope<K>* scope_;
  std::unordered_map<K, std::map<MK, MV>, KeyHasher<K>> values_;
};

}  // namespace sluice

#endif  // SLUICE_STATE_H_
