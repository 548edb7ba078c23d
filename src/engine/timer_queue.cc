#include "engine/timer_queue.h"

#include <algorithm>

#include "absl/strings/string_view.h"

namespace sluice::engine {

TimerQueue::Bucket& TimerQueue::BucketAt(int64_t timestamp) {
  Bucket*& bucket = index_[timestamp];
  if (bucket == nullptr) bucket = &buckets_[timestamp];
  return *bucket;
}

void TimerQueue::Erase(Buckets::iterator it) {
  index_.erase(it->first);
  if (it->first == draining_at_) draining_.clear();
  buckets_.erase(it);
}

void TimerQueue::Add(int64_t timestamp, int key_group, std::string_view key) {
  Bucket& bucket = BucketAt(timestamp);
  if (bucket.find(absl::string_view(key.data(), key.size())) == bucket.end()) {
    bucket.emplace(std::string(key), key_group);
  }
}

void TimerQueue::Remove(int64_t timestamp, std::string_view key) {
  auto it = buckets_.find(timestamp);
  if (it == buckets_.end()) return;
  auto entry = it->second.find(absl::string_view(key.data(), key.size()));
  if (entry == it->second.end()) return;
  it->second.erase(entry);
  if (it->second.empty()) Erase(it);
}

std::optional<TimerQueue::Timer> TimerQueue::PopDue(int64_t time) {
  while (!buckets_.empty() && buckets_.begin()->first <= time) {
    auto front = buckets_.begin();
    Bucket& bucket = front->second;
    if (draining_.empty() || draining_at_ != front->first || drained_ == draining_.size()) {
      draining_.clear();  // sorted afresh: also those added meanwhile
      for (const auto& [key, group] : bucket) draining_.emplace_back(group, key);
      std::sort(draining_.begin(), draining_.end());
      draining_at_ = front->first;
      drained_ = 0;
    }
    while (drained_ < draining_.size()) {
      auto& [group, key] = draining_[drained_++];
      auto entry = bucket.find(key);
      if (entry == bucket.end()) continue;  // removed since
      bucket.erase(entry);
      Timer timer{front->first, group, std::move(key)};
      if (bucket.empty()) Erase(front);
      return timer;
    }
  }
  return std::nullopt;
}

std::optional<int64_t> TimerQueue::next() const {
  if (buckets_.empty()) return std::nullopt;
  return buckets_.begin()->first;
}

size_t TimerQueue::size() const {
  size_t n = 0;
  for (const auto& [timestamp, bucket] : buckets_) n += bucket.size();
  return n;
}

std::vector<std::pair<int64_t, std::string>> TimerQueue::OfKeyGroup(int key_group) const {
  std::vector<std::pair<int64_t, std::string>> timers;
  for (const auto& [timestamp, bucket] : buckets_) {
    const size_t first = timers.size();
    for (const auto& [key, group] : bucket) {
      if (group == key_group) timers.emplace_back(timestamp, key);
    }
    std::sort(timers.begin() + static_cast<std::ptrdiff_t>(first), timers.end());
  }
  return timers;
}

}  // namespace sluice::engine
