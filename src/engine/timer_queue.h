// The timers of one keyed operator for one clock (Flink's timer queue): at
// most one per (key, timestamp), fired in time order and, within one
// timestamp, in (key group, key) order, so that a replay fires them alike.
//
// Timers of many keys usually share few timestamps (every key's window ends
// at the same time), so they are kept per timestamp in a hash set: adding a
// timer that exists, the common case, costs one hash lookup.
//
// Used by its task's thread only.
#ifndef SLUICE_ENGINE_TIMER_QUEUE_H_
#define SLUICE_ENGINE_TIMER_QUEUE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace sluice::engine {

class TimerQueue {
 public:
  struct Timer {
    int64_t timestamp = 0;
    int key_group = 0;
    std::string key;
  };

  TimerQueue() = default;
  // Moved whole (the cache of the last bucket does not move along).
  TimerQueue(TimerQueue&& other) noexcept
      : buckets_(std::move(other.buckets_)), index_(std::move(other.index_)) {
    other.Clear();
  }
  TimerQueue& operator=(TimerQueue&& other) noexcept {
    buckets_ = std::move(other.buckets_);
    index_ = std::move(other.index_);
    draining_.clear();
    other.Clear();
    return *this;
  }

  void Add(int64_t timestamp, int key_group, std::string_view key);
  void Remove(int64_t timestamp, std::string_view key);
  // Takes out the earliest timer at or before `time`.
  std::optional<Timer> PopDue(int64_t time);
  std::optional<int64_t> next() const;
  bool empty() const { return buckets_.empty(); }
  size_t size() const;
  // (timestamp, key) of every timer of `key_group`, in firing order.
  std::vector<std::pair<int64_t, std::string>> OfKeyGroup(int key_group) const;

 private:
  using Bucket = absl::flat_hash_map<std::string, int>;  // key -> its key group
  using Buckets = std::map<int64_t, Bucket>;
  Bucket& BucketAt(int64_t timestamp);
  void Clear() {
    buckets_.clear();
    index_.clear();
    draining_.clear();
  }
  void Erase(Buckets::iterator it);

  Buckets buckets_;
  // The bucket of each timestamp, without a search of buckets_ (map nodes
  // stay where they are).
  absl::flat_hash_map<int64_t, Bucket*> index_;
  // The earliest bucket's keys in firing order, while it is being fired
  // (some may have been removed meanwhile).
  int64_t draining_at_ = 0;
  std::vector<std::pair<int, std::string>> draining_;
  size_t drained_ = 0;
};

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_TIMER_QUEUE_H_
