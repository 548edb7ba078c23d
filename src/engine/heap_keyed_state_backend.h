// The heap keyed state backend (Flink's HeapKeyedStateBackend) of one keyed
// operator instance: state values live as objects of the job's types in
// hash maps, one map per state and key group of this subtask's key-group
// range, and processing-time and event-time timers in sets ordered by time
// (one per key and timestamp). Both can be written out and read back per key group —
// what snapshots and rescaling are made of.
//
// Used by its task's thread only.
#ifndef SLUICE_ENGINE_HEAP_KEYED_STATE_BACKEND_H_
#define SLUICE_ENGINE_HEAP_KEYED_STATE_BACKEND_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/key_groups.h"
#include "engine/timer_queue.h"
#include "sluice/internal/abi.h"
#include "sluice/serialization.h"

namespace sluice::engine {

class HeapKeyedStateBackend final : public internal::KeyedRuntime {
 public:
  HeapKeyedStateBackend(int max_parallelism, KeyGroupRange range, internal::TimerTarget* target);
  ~HeapKeyedStateBackend() override;

  // KeyedRuntime.
  void SetCurrentKey(std::string_view key) override;
  std::string_view current_key() const override { return current_key_; }
  internal::StateTable* State(const std::string& name, const internal::StateType& type) override;
  void RegisterProcessingTimeTimer(int64_t timestamp_ms) override;
  void DeleteProcessingTimeTimer(int64_t timestamp_ms) override;
  void FireAllTimers() override;
  void RegisterEventTimeTimer(int64_t timestamp_ms) override;
  void DeleteEventTimeTimer(int64_t timestamp_ms) override;
  int64_t current_watermark() const override { return watermark_; }

  // The operator's watermark reached `watermark`: fires the event-time
  // timers up to it, in time order (also those registered meanwhile).
  void AdvanceWatermark(int64_t watermark);
  // After a restore: event time starts at the checkpoint's `watermark`
  // (records behind it are late), without firing timers (those up to it had
  // fired before the checkpoint).
  void RestoreWatermark(int64_t watermark) { watermark_ = std::max(watermark_, watermark); }

  // Fires the timers due at processing time `now_ms`, in time order.
  void FireDueTimers(int64_t now_ms);
  // The earliest pending timer.
  std::optional<int64_t> next_timer() const;

  // Everything of one key group, serialized (states by name, then
  // processing-time timers, then event-time timers).
  // Fails for a key group outside this backend's range.
  absl::StatusOr<std::string> SnapshotKeyGroup(int key_group) const;
  // Adds a key group written by SnapshotKeyGroup (of this or another backend
  // of the same operator); values of a state not yet registered are kept
  // serialized until State() names it. DATA_LOSS for malformed bytes.
  absl::Status RestoreKeyGroup(int key_group, std::string_view bytes);

  const KeyGroupRange& key_groups() const { return range_; }
  int max_parallelism() const { return max_parallelism_; }
  // Keys with a value in state `name` (for tests and metrics).
  size_t size(const std::string& name) const;

 private:
  class Table;
  int index() const { return current_group_ - range_.start; }
  // A key with its hash, for lookups that do not hash it again.
  struct KeyView {
    std::string_view bytes;
    uint64_t hash;
  };
  struct KeyHasher {
    using is_transparent = void;
    size_t operator()(const std::string& key) const { return KeyHash(key); }
    size_t operator()(const KeyView& key) const { return key.hash; }
  };
  struct KeyEq {
    using is_transparent = void;
    static std::string_view View(const std::string& s) { return s; }
    static std::string_view View(const KeyView& k) { return k.bytes; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a) == View(b);
    }
  };
  using Map = absl::flat_hash_map<std::string, void*, KeyHasher, KeyEq>;
  KeyView current() const { return KeyView{current_key_, current_hash_}; }
  void SetKeyOf(const TimerQueue::Timer& timer);
  static void WriteTimers(const TimerQueue& timers, int key_group, Writer& w);
  static void ReadTimers(Reader& r, int key_group, TimerQueue* timers);

  const int max_parallelism_;
  const KeyGroupRange range_;
  internal::TimerTarget* const target_;
  // target_ as a receiver of event-time timers, found at the first one.
  internal::EventTimeTimerTarget* event_target_ = nullptr;
  std::string current_key_;
  uint64_t current_hash_ = 0;
  int current_group_ = 0;
  std::map<std::string, std::unique_ptr<Table>> tables_;
  // Restored but not yet registered: state name -> (key group, key, value bytes).
  std::map<std::string, std::vector<std::tuple<int, std::string, std::string>>> pending_;
  TimerQueue timers_;        // processing time
  TimerQueue event_timers_;  // event time
  int64_t watermark_ = internal::kNoWatermark;
};

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_HEAP_KEYED_STATE_BACKEND_H_
