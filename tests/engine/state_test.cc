// The heap keyed state backend: every state kind through the user's handles,
// timers, and snapshot / restore per key group, also into other parallelisms.
#include "sluice/state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "engine/heap_keyed_state_backend.h"
#include "engine/key_groups.h"

namespace sluice::engine {
namespace {

struct FiredTimers final : internal::TimerTarget {
  void OnTimer(int64_t when, std::string_view key) override {
    fired.emplace_back(when, Deserialize<std::string>(std::string(key)));
  }
  std::vector<std::pair<int64_t, std::string>> fired;
};

class Average final : public AggregateFunction<int, std::pair<int, int>, double> {
 public:
  std::pair<int, int> CreateAccumulator() const override { return {0, 0}; }
  std::pair<int, int> Add(const int& v, std::pair<int, int> acc) const override {
    return {acc.first + v, acc.second + 1};
  }
  double GetResult(const std::pair<int, int>& acc) const override {
    return static_cast<double>(acc.first) / acc.second;
  }
};

// Handles to one of each state kind of a backend, as a job would hold them.
struct States {
  explicit States(internal::KeyedRuntime* keyed)
      : value(Table<int64_t>(keyed, "value:count")),
        list(Table<std::vector<std::string>>(keyed, "list:seen")),
        map(Table<std::map<std::string, int>>(keyed, "map:by-tag")),
        reducing(Table<int>(keyed, "reducing:max"),
                 [](const int& a, const int& b) { return std::max(a, b); }),
        aggregating(Table<std::pair<int, int>>(keyed, "aggregating:avg"),
                    std::make_shared<Average>()) {}
  template <typename V>
  static internal::StateTable* Table(internal::KeyedRuntime* keyed, const std::string& name) {
    return keyed->State(name, internal::StateTypeOf<V>());
  }
  ValueState<int64_t> value;
  ListState<std::string> list;
  MapState<std::string, int> map;
  ReducingState<int> reducing;
  AggregatingState<int, std::pair<int, int>, double> aggregating;
};

void SetKey(HeapKeyedStateBackend& backend, const std::string& key) {
  backend.SetCurrentKey(Serialize(key));
}

void Fill(HeapKeyedStateBackend& backend, States& s, int keys) {
  for (int k = 0; k < keys; ++k) {
    SetKey(backend, "key-" + std::to_string(k));
    s.value.update(k * 10);
    s.list.add("a" + std::to_string(k));
    s.list.add("b");
    s.map.put("tag", k);
    s.reducing.add(k);
    s.reducing.add(3);
    s.aggregating.add(k);
    s.aggregating.add(k + 2);
    backend.RegisterProcessingTimeTimer(1000 + k);
  }
}

void ExpectFilled(HeapKeyedStateBackend& backend, States& s, int k) {
  SetKey(backend, "key-" + std::to_string(k));
  EXPECT_EQ(s.value.value(), k * 10);
  EXPECT_EQ(s.list.get(), (std::vector<std::string>{"a" + std::to_string(k), "b"}));
  EXPECT_EQ(s.map.get("tag"), k);
  EXPECT_EQ(s.reducing.get(), std::max(k, 3));
  EXPECT_EQ(s.aggregating.get(), k + 1.0);
}

TEST(HeapKeyedStateBackendTest, EveryStateKindKeepsOneValuePerKey) {
  FiredTimers timers;
  HeapKeyedStateBackend backend(128, KeyGroupRange{0, 127}, &timers);
  States s(&backend);
  Fill(backend, s, 50);
  for (int k = 0; k < 50; ++k) ExpectFilled(backend, s, k);
  SetKey(backend, "key-7");
  s.value.clear();
  s.map.remove("tag");
  EXPECT_FALSE(s.value.value().has_value());
  EXPECT_TRUE(s.map.entries().empty());
  EXPECT_EQ(backend.size("value:count"), 49u);
  EXPECT_EQ(backend.size("map:by-tag"), 49u) << "an emptied map leaves no entry";
}

TEST(HeapKeyedStateBackendTest, TimersFireInTimeOrderOncePerKeyAndTime) {
  FiredTimers timers;
  HeapKeyedStateBackend backend(128, KeyGroupRange{0, 127}, &timers);
  SetKey(backend, "b");
  backend.RegisterProcessingTimeTimer(20);
  backend.RegisterProcessingTimeTimer(20);  // the same (key, time): one timer
  SetKey(backend, "a");
  backend.RegisterProcessingTimeTimer(10);
  backend.RegisterProcessingTimeTimer(30);
  backend.DeleteProcessingTimeTimer(30);
  backend.RegisterProcessingTimeTimer(40);
  EXPECT_EQ(backend.next_timer(), 10);
  backend.FireDueTimers(25);
  EXPECT_EQ(timers.fired, (std::vector<std::pair<int64_t, std::string>>{{10, "a"}, {20, "b"}}));
  backend.FireAllTimers();  // the input ended
  EXPECT_EQ(timers.fired.back(), (std::pair<int64_t, std::string>{40, "a"}));
  EXPECT_FALSE(backend.next_timer().has_value());
}

// Receives both kinds of timers, apart.
struct BothTimers final : internal::TimerTarget, internal::EventTimeTimerTarget {
  void OnTimer(int64_t when, std::string_view key) override {
    processing.emplace_back(when, Deserialize<std::string>(std::string(key)));
  }
  void OnEventTimeTimer(int64_t when, std::string_view key) override {
    event.emplace_back(when, Deserialize<std::string>(std::string(key)));
  }
  std::vector<std::pair<int64_t, std::string>> processing;
  std::vector<std::pair<int64_t, std::string>> event;
};

TEST(HeapKeyedStateBackendTest, EventTimeTimersFireAsTheWatermarkPassesAndSurviveARestore) {
  constexpr int kMax = 16;
  BothTimers timers;
  HeapKeyedStateBackend backend(kMax, KeyGroupRange{0, kMax - 1}, &timers);
  SetKey(backend, "a");
  backend.RegisterEventTimeTimer(100);
  backend.RegisterEventTimeTimer(100);  // one per (key, time)
  backend.RegisterEventTimeTimer(300);
  backend.RegisterProcessingTimeTimer(50);
  SetKey(backend, "b");
  backend.RegisterEventTimeTimer(200);
  backend.RegisterEventTimeTimer(250);
  backend.DeleteEventTimeTimer(250);
  backend.AdvanceWatermark(150);
  EXPECT_EQ(timers.event, (std::vector<std::pair<int64_t, std::string>>{{100, "a"}}));
  EXPECT_EQ(backend.current_watermark(), 150);
  EXPECT_TRUE(timers.processing.empty()) << "processing-time timers keep their own clock";

  std::map<int, std::string> snapshot;
  for (int kg = 0; kg < kMax; ++kg) snapshot[kg] = *backend.SnapshotKeyGroup(kg);
  BothTimers restored_timers;
  HeapKeyedStateBackend restored(kMax, KeyGroupRange{0, kMax - 1}, &restored_timers);
  for (int kg = 0; kg < kMax; ++kg) ASSERT_TRUE(restored.RestoreKeyGroup(kg, snapshot[kg]).ok());
  restored.AdvanceWatermark(internal::kMaxWatermark);
  EXPECT_EQ(restored_timers.event,
            (std::vector<std::pair<int64_t, std::string>>{{200, "b"}, {300, "a"}}));
  restored.FireAllTimers();
  EXPECT_EQ(restored_timers.processing, (std::vector<std::pair<int64_t, std::string>>{{50, "a"}}));
}

TEST(HeapKeyedStateBackendTest, AnEventTimeTimerForAnOperatorWithoutThemIsAnError) {
  FiredTimers timers;
  HeapKeyedStateBackend backend(16, KeyGroupRange{0, 15}, &timers);
  SetKey(backend, "a");
  EXPECT_THROW(backend.RegisterEventTimeTimer(1), std::logic_error);
}

TEST(HeapKeyedStateBackendTest, KeyGroupsRestoreIntoOtherParallelisms) {
  constexpr int kMax = 128;
  FiredTimers timers;
  HeapKeyedStateBackend old_backend(kMax, KeyGroupRange{0, kMax - 1}, &timers);
  States old_states(&old_backend);
  Fill(old_backend, old_states, 200);
  std::map<int, std::string> snapshot;
  for (int kg = 0; kg < kMax; ++kg) snapshot[kg] = *old_backend.SnapshotKeyGroup(kg);

  // Rescaled to 3 subtasks: each restores the key groups of its range. State
  // of a name not yet registered waits until the job asks for it.
  for (int subtask = 0; subtask < 3; ++subtask) {
    KeyGroupRange range = KeyGroupRangeFor(kMax, 3, subtask);
    FiredTimers fired;
    HeapKeyedStateBackend backend(kMax, range, &fired);
    for (int kg = range.start; kg <= range.end; ++kg) {
      ASSERT_TRUE(backend.RestoreKeyGroup(kg, snapshot[kg]).ok());
    }
    States s(&backend);
    int keys = 0;
    for (int k = 0; k < 200; ++k) {
      const std::string key = "key-" + std::to_string(k);
      if (!range.contains(KeyGroupOf(Serialize(key), kMax))) continue;
      ++keys;
      ExpectFilled(backend, s, k);
    }
    EXPECT_EQ(backend.size("value:count"), static_cast<size_t>(keys));
    backend.FireAllTimers();
    EXPECT_EQ(fired.fired.size(), static_cast<size_t>(keys)) << "timers moved with their keys";
    EXPECT_FALSE(backend.RestoreKeyGroup(range.end + 1 == kMax ? 0 : range.end + 1, "").ok())
        << "a key group outside the range is refused";
  }
}

TEST(HeapKeyedStateBackendTest, CorruptOrTruncatedKeyGroupsAreDetected) {
  FiredTimers timers;
  HeapKeyedStateBackend backend(8, KeyGroupRange{0, 7}, &timers);
  States s(&backend);
  Fill(backend, s, 20);
  int kg = KeyGroupOf(Serialize(std::string("key-1")), 8);
  std::string bytes = *backend.SnapshotKeyGroup(kg);
  HeapKeyedStateBackend other(8, KeyGroupRange{0, 7}, &timers);
  States other_states(&other);
  EXPECT_TRUE(absl::IsDataLoss(other.RestoreKeyGroup(kg, bytes.substr(0, bytes.size() / 2))));
  EXPECT_TRUE(absl::IsDataLoss(other.RestoreKeyGroup(kg, bytes + "junk")));
}

}  // namespace
}  // namespace sluice::engine
