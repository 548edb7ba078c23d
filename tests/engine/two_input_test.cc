// Side outputs, connected streams, broadcast state and joins in real local
// jobs, each checked against a brute-force computation over the same records.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "sluice/sluice.h"
#include "tests/testing/local_run.h"

namespace sluice::engine {
namespace {

using testing::Collected;
using testing::RunToEnd;

struct Event {
  int32_t key = 0;
  int64_t time = 0;
  int64_t value = 0;
};
SLUICE_SERIALIZABLE(Event, key, time, value);

constexpr int64_t kBase = 1'700'000'000'000;
// A processing-time timer this far ahead fires only when the input ends.
constexpr int64_t kAtTheEnd = 4'102'444'800'000;  // 2100-01-01

auto ByTime() {
  return WatermarkStrategy<Event>::ForBoundedOutOfOrderness(std::chrono::milliseconds(100))
      .WithTimestampAssigner([](const Event& e, int64_t) { return e.time; });
}

// --- Side outputs -----------------------------------------------------------------

const OutputTag<std::string> kOdd("odd");
const OutputTag<int64_t> kUnread("unread");

class SplitEvenOdd final : public ProcessFunction<int64_t, int64_t> {
  void ProcessElement(const int64_t& v, ProcessContext& ctx, Collector<int64_t>& out) override {
    if (v % 2 == 0) {
      out.Collect(v);
    } else {
      ctx.Output(kOdd, "odd " + std::to_string(v));
      ctx.Output(kUnread, v);  // nobody reads it: dropped
    }
  }
};

TEST(SideOutputTest, AProcessFunctionSplitsItsRecordsIntoMainAndSideOutputOfAnotherType) {
  const int64_t n = 5000;
  auto evens = std::make_shared<Collected<int64_t>>();
  auto odds = std::make_shared<Collected<std::string>>();
  StreamEnvironment env("side-outputs");
  env.SetParallelism(2);
  auto main = env.Sequence(0, n).Process<SplitEvenOdd>();
  main.Sink([evens](int64_t v) { evens->Add(v); });
  main.GetSideOutput(kOdd).Rebalance().Sink([odds](const std::string& s) { odds->Add(s); });
  RunToEnd(env);
  std::vector<int64_t> expected_evens;
  std::vector<std::string> expected_odds;
  for (int64_t i = 0; i < n; ++i) {
    if (i % 2 == 0) {
      expected_evens.push_back(i);
    } else {
      expected_odds.push_back("odd " + std::to_string(i));
    }
  }
  std::sort(expected_odds.begin(), expected_odds.end());
  EXPECT_EQ(evens->Sorted(), expected_evens);
  EXPECT_EQ(odds->Sorted(), expected_odds);
}

TEST(SideOutputTest, AKeyedProcessFunctionEmitsToASideOutputWhileItsMainOutputIsUnread) {
  const OutputTag<Event> big("big");
  struct Route final : KeyedProcessFunction<int32_t, Event, Event> {
    explicit Route(OutputTag<Event> tag) : tag_(std::move(tag)) {}
    void ProcessElement(const Event& e, KeyedContext<int32_t>& ctx,
                        Collector<Event>& out) override {
      if (e.value >= 900) {
        ctx.Output(tag_, e);
      } else {
        out.Collect(e);
      }
    }
    OutputTag<Event> tag_;
  };
  auto rows = std::make_shared<Collected<int64_t>>();
  StreamEnvironment env("keyed-side-output");
  env.SetParallelism(2);
  env.Generate(
         [](int64_t i) {
           return Event{static_cast<int32_t>(i % 5), 0, i};
         },
         1000)
      .KeyBy([](const Event& e) { return e.key; })
      .Process<Route>([big] { return std::make_unique<Route>(big); })
      .GetSideOutput(big)
      .Sink([rows](const Event& e) { rows->Add(e.value); });
  RunToEnd(env);
  std::vector<int64_t> expected;
  for (int64_t i = 900; i < 1000; ++i) expected.push_back(i);
  EXPECT_EQ(rows->Sorted(), expected);
}

using EveryRecord = testing::EveryRecordAWatermark<Event>;

TEST(SideOutputTest, LateRecordsOfAWindowGoToItsSideOutputInsteadOfBeingDropped) {
  // In time order, and every 50th record a straggler 5 s behind: its window
  // ended long before the watermark, so it is late.
  std::vector<Event> events;
  for (int64_t i = 0; i < 2000; ++i) {
    events.push_back(Event{static_cast<int32_t>(i % 3), kBase + i * 10, i});
    if (i % 50 == 49 && i * 10 >= 5000) {
      events.push_back(Event{static_cast<int32_t>(i % 3), kBase + i * 10 - 5000, -i});
    }
  }
  std::map<std::tuple<int32_t, int64_t>, int64_t> expected_sums;
  std::vector<int64_t> expected_late;
  for (const Event& e : events) {
    if (e.value < 0) {
      expected_late.push_back(e.value);
    } else {
      expected_sums[{e.key, e.time - e.time % 1000}] += e.value;
    }
  }
  std::sort(expected_late.begin(), expected_late.end());
  const OutputTag<Event> late("late");
  auto sums = std::make_shared<Collected<std::tuple<int32_t, int64_t, int64_t>>>();
  auto lates = std::make_shared<Collected<int64_t>>();
  StreamEnvironment env("late-side-output");
  auto windows = env.FromCollection(events)
                     .AssignTimestampsAndWatermarks(
                         WatermarkStrategy<Event>::ForGenerator([] {
                           return std::make_unique<EveryRecord>();
                         }).WithTimestampAssigner([](const Event& e) { return e.time; }))
                     .KeyBy([](const Event& e) { return e.key; })
                     .Window(TumblingEventTimeWindows::Of(std::chrono::seconds(1)))
                     .SideOutputLateData(late)
                     .Reduce([](const Event& a, const Event& b) {
                       return Event{a.key, a.time, a.value + b.value};
                     });
  windows.Sink([sums](const Event& e) { sums->Add({e.key, e.time - e.time % 1000, e.value}); });
  windows.GetSideOutput(late).Sink([lates](const Event& e) { lates->Add(e.value); });
  EXPECT_EQ(RunToEnd(env).late_dropped, 0u);
  std::vector<std::tuple<int32_t, int64_t, int64_t>> expected;
  for (const auto& [w, sum] : expected_sums)
    expected.emplace_back(std::get<0>(w), std::get<1>(w), sum);
  EXPECT_FALSE(expected_late.empty());
  EXPECT_EQ(lates->Sorted(), expected_late);
  EXPECT_EQ(sums->Sorted(), expected);
}

TEST(SideOutputTest, OneTagReadAsTwoTypesIsAGraphError) {
  StreamEnvironment env("tag-types");
  auto main = env.Sequence(0, 10).Process<SplitEvenOdd>();
  main.Discard();
  main.GetSideOutput(OutputTag<std::string>("odd")).Discard();
  main.GetSideOutput(OutputTag<int64_t>("odd")).Discard();
  try {
    env.Build();
    FAIL() << "Build() accepted one tag read as two types";
  } catch (const GraphError& e) {
    EXPECT_NE(std::string(e.what()).find("side output 'odd'"), std::string::npos) << e.what();
  }
}

// --- Connected streams ---------------------------------------------------------------

TEST(ConnectedStreamsTest, CoMapSeesEveryRecordOfBothInputs) {
  auto rows = std::make_shared<Collected<std::string>>();
  StreamEnvironment env("co-map");
  env.SetParallelism(2);
  auto numbers = env.Sequence(0, 300);
  auto words = env.FromCollection(std::vector<std::string>{"a", "b", "c"});
  numbers.Connect(words)
      .Map([](const int64_t& v) { return "n" + std::to_string(v); },
           [](const std::string& w) { return "w" + w; })
      .Sink([rows](const std::string& s) { rows->Add(s); });
  RunToEnd(env);
  std::vector<std::string> expected = {"wa", "wb", "wc"};
  for (int64_t i = 0; i < 300; ++i) expected.push_back("n" + std::to_string(i));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(rows->Sorted(), expected);
}

// Per key: the sum of input 1's values and the count of input 2's records,
// in keyed state shared by both inputs, emitted by a timer at the end.
class SumAndCount final : public KeyedCoProcessFunction<int32_t, Event, int64_t, std::string> {
  void Open(KeyedContext<int32_t>& ctx) override {
    sum_ = &ctx.GetState(ValueStateDescriptor<int64_t>("sum"));
    count_ = &ctx.GetState(ValueStateDescriptor<int64_t>("count"));
  }
  void ProcessElement1(const Event& e, KeyedContext<int32_t>& ctx,
                       Collector<std::string>&) override {
    sum_->update(sum_->value().value_or(0) + e.value);
    ctx.RegisterProcessingTimeTimer(kAtTheEnd);
  }
  void ProcessElement2(const int64_t&, KeyedContext<int32_t>& ctx,
                       Collector<std::string>&) override {
    count_->update(count_->value().value_or(0) + 1);
    ctx.RegisterProcessingTimeTimer(kAtTheEnd);
  }
  void OnTimer(int64_t, KeyedContext<int32_t>& ctx, Collector<std::string>& out) override {
    out.Collect(std::to_string(ctx.current_key()) + " " +
                std::to_string(sum_->value().value_or(0)) + " " +
                std::to_string(count_->value().value_or(0)));
  }
  ValueState<int64_t>* sum_ = nullptr;
  ValueState<int64_t>* count_ = nullptr;
};

TEST(ConnectedStreamsTest, KeyedInputsMeetInTheSameSubtaskAndShareTheKeysState) {
  const int64_t n = 6000, m = 4000;
  auto rows = std::make_shared<Collected<std::string>>();
  StreamEnvironment env("keyed-co-process");
  env.SetParallelism(2);
  auto events = env.Generate(
      [](int64_t i) {
        return Event{static_cast<int32_t>(i % 11), 0, i};
      },
      n);
  auto ticks = env.Sequence(0, m);
  events.KeyBy([](const Event& e) { return e.key; })
      .Connect(ticks.KeyBy([](const int64_t& t) { return static_cast<int32_t>(t % 13); }))
      .Process<SumAndCount>()
      .Sink([rows](const std::string& s) { rows->Add(s); });
  RunToEnd(env);
  std::map<int32_t, std::pair<int64_t, int64_t>> per_key;
  for (int64_t i = 0; i < n; ++i) per_key[static_cast<int32_t>(i % 11)].first += i;
  for (int64_t t = 0; t < m; ++t) per_key[static_cast<int32_t>(t % 13)].second += 1;
  std::vector<std::string> expected;
  for (const auto& [k, v] : per_key) {
    expected.push_back(std::to_string(k) + " " + std::to_string(v.first) + " " +
                       std::to_string(v.second));
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(rows->Sorted(), expected);
}

// --- Broadcast state ------------------------------------------------------------------

const MapStateDescriptor<int32_t, int64_t> kFactors("factors");

// Buffers each key's sum; at the end multiplies it by the broadcast factor
// for key % 4 (the rules are all there by then).
class ApplyFactor final
    : public KeyedBroadcastProcessFunction<int32_t, Event, std::pair<int32_t, int64_t>,
                                           std::string> {
  void Open(KeyedContext<int32_t>& ctx) override {
    sum_ = &ctx.GetState(ValueStateDescriptor<int64_t>("sum"));
  }
  void ProcessElement(const Event& e, const BroadcastState&, KeyedContext<int32_t>& ctx,
                      Collector<std::string>&) override {
    sum_->update(sum_->value().value_or(0) + e.value);
    ctx.RegisterProcessingTimeTimer(kAtTheEnd);
  }
  void ProcessBroadcastElement(const std::pair<int32_t, int64_t>& rule, BroadcastState& state,
                               ProcessContext&, Collector<std::string>&) override {
    state.Get(kFactors)[rule.first] = rule.second;
  }
  void OnTimer(int64_t, const BroadcastState& state, KeyedContext<int32_t>& ctx,
               Collector<std::string>& out) override {
    const auto& factors = state.Get(kFactors);
    auto factor = factors.find(ctx.current_key() % 4);
    out.Collect(std::to_string(ctx.current_key()) + " " +
                (factor == factors.end() ? std::string("no rule")
                                         : std::to_string(*sum_->value() * factor->second)));
  }
  ValueState<int64_t>* sum_ = nullptr;
};

TEST(BroadcastStateTest, EverySubtaskOfAKeyedOperatorGetsEveryBroadcastRecord) {
  const int64_t n = 5000;
  auto rows = std::make_shared<Collected<std::string>>();
  StreamEnvironment env("keyed-broadcast");
  env.SetParallelism(2);
  auto rules = env.FromCollection(std::vector<std::pair<int32_t, int64_t>>{
      {0, 1}, {1, 10}, {2, 100}, {3, 1000}, {1, 20}});  // the last rule for 1 wins
  env.Generate(
         [](int64_t i) {
           return Event{static_cast<int32_t>(i % 17), 0, i};
         },
         n)
      .KeyBy([](const Event& e) { return e.key; })
      .Connect(rules.Broadcast(kFactors))
      .Process<ApplyFactor>()
      .Sink([rows](const std::string& s) { rows->Add(s); });
  RunToEnd(env);
  const std::map<int32_t, int64_t> factors = {{0, 1}, {1, 20}, {2, 100}, {3, 1000}};
  std::map<int32_t, int64_t> sums;
  for (int64_t i = 0; i < n; ++i) sums[static_cast<int32_t>(i % 17)] += i;
  std::vector<std::string> expected;
  for (const auto& [k, sum] : sums) {
    expected.push_back(std::to_string(k) + " " + std::to_string(sum * factors.at(k % 4)));
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(rows->Sorted(), expected);
}

// Not keyed: each subtask sums the records it got and counts the distinct
// broadcast records it saw.
TEST(BroadcastStateTest, ANonKeyedOperatorReadsTheBroadcastStateInEverySubtask) {
  struct Rules final : BroadcastProcessFunction<int64_t, std::string, std::string> {
    void ProcessElement(const int64_t& v, const BroadcastState&, ProcessContext&,
                        Collector<std::string>&) override {
      sum_ += v;
    }
    void ProcessBroadcastElement(const std::string& rule, BroadcastState& state, ProcessContext&,
                                 Collector<std::string>&) override {
      state.Get(seen_)[rule] += 1;
      state_ = &state;
    }
    void OnEndOfInput(Collector<std::string>& out) override {
      out.Collect("sum " + std::to_string(sum_));
      out.Collect("rules " + std::to_string(state_ ? state_->Get(seen_).size() : 0));
    }
    MapStateDescriptor<std::string, int64_t> seen_{"seen"};
    const BroadcastState* state_ = nullptr;
    int64_t sum_ = 0;
  };
  auto rows = std::make_shared<Collected<std::string>>();
  StreamEnvironment env("broadcast");
  env.SetParallelism(3);
  auto rules = env.FromCollection(std::vector<std::string>{"x", "y", "z", "x"});
  env.Sequence(0, 3000)
      .Connect(rules.Broadcast(MapStateDescriptor<std::string, int64_t>("seen")))
      .Process<Rules>()
      .Sink([rows](const std::string& s) { rows->Add(s); });
  RunToEnd(env);
  std::vector<std::string> got = rows->Sorted();
  int64_t total = 0;
  int rule_rows = 0;
  for (const std::string& row : got) {
    if (row.rfind("sum ", 0) == 0) total += std::stoll(row.substr(4));
    if (row.rfind("rules ", 0) == 0) {
      EXPECT_EQ(row, "rules 3");  // x, y and z, in every one of the 3 subtasks
      ++rule_rows;
    }
  }
  EXPECT_EQ(rule_rows, 3);
  EXPECT_EQ(total, 2999 * 3000 / 2);
}

TEST(BroadcastStateTest, ItsSnapshotRestoresEveryMapAskedForBeforeOrAfter) {
  MapStateDescriptor<std::string, int64_t> counts("counts");
  MapStateDescriptor<int32_t, std::string> names("names");
  BroadcastState state;
  state.Get(counts)["a"] = 3;
  state.Get(names)[7] = "seven";
  const std::string snapshot = state.Snapshot();
  BroadcastState restored;
  restored.Get(counts)["stale"] = 1;  // asked for before the restore: replaced
  restored.Restore(snapshot);
  EXPECT_EQ(restored.Get(counts), (std::map<std::string, int64_t>{{"a", 3}}));
  EXPECT_EQ(restored.Get(names), (std::map<int32_t, std::string>{{7, "seven"}}));
  BroadcastState truncated;
  EXPECT_THROW(truncated.Restore(snapshot.substr(0, snapshot.size() / 2)), std::runtime_error);
  EXPECT_THROW(state.Get(MapStateDescriptor<int32_t, int64_t>("counts")), std::logic_error);
}

// --- Joins ------------------------------------------------------------------------------

// Two streams of events of 13 keys over 20 s of event time, out of order by
// up to 40 ms (within the watermark's 100 ms bound: nothing is late).
Event Left(int64_t i) {
  return Event{static_cast<int32_t>(i % 13), kBase + i * 10 - (i * 7919) % 5 * 10, i};
}
Event Right(int64_t i) {
  return Event{static_cast<int32_t>(i % 13), kBase + i * 25 + 3 - (i * 104729) % 3 * 10, -i};
}
constexpr int64_t kLeft = 2000, kRight = 800;

int64_t WindowStart(int64_t time, int64_t size) { return time - ((time % size) + size) % size; }

TEST(JoinTest, AWindowJoinEmitsEveryPairOfEqualKeysInTheSameWindow) {
  using Pair = std::tuple<int64_t, int64_t>;
  auto rows = std::make_shared<Collected<Pair>>();
  StreamEnvironment env("window-join");
  env.SetParallelism(2);
  auto left = env.Generate(Left, kLeft).AssignTimestampsAndWatermarks(ByTime());
  auto right = env.Generate(Right, kRight).AssignTimestampsAndWatermarks(ByTime());
  left.Join(right)
      .Where([](const Event& e) { return e.key; })
      .EqualTo([](const Event& e) { return e.key; })
      .Window(TumblingEventTimeWindows::Of(std::chrono::milliseconds(500)))
      .Apply([](const Event& a, const Event& b) {
        return Pair{a.value, b.value};
      })
      .Sink([rows](const Pair& p) { rows->Add(p); });
  EXPECT_EQ(RunToEnd(env).late_dropped, 0u);
  std::vector<Pair> expected;
  for (int64_t i = 0; i < kLeft; ++i) {
    const Event a = Left(i);
    for (int64_t j = 0; j < kRight; ++j) {
      const Event b = Right(j);
      if (a.key == b.key && WindowStart(a.time, 500) == WindowStart(b.time, 500)) {
        expected.emplace_back(a.value, b.value);
      }
    }
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_GT(expected.size(), 100u);
  EXPECT_EQ(rows->Sorted(), expected);
}

class Match final
    : public ProcessJoinFunction<Event, Event, std::tuple<int64_t, int64_t, int64_t>> {
  void ProcessElement(const Event& a, const Event& b, IntervalJoinContext& ctx,
                      Collector<std::tuple<int64_t, int64_t, int64_t>>& out) override {
    out.Collect({a.value, b.value, ctx.timestamp() - std::max(a.time, b.time)});
  }
};

TEST(JoinTest, AnIntervalJoinEmitsEveryPairWithinTheBoundsOnce) {
  using Row = std::tuple<int64_t, int64_t, int64_t>;
  auto rows = std::make_shared<Collected<Row>>();
  StreamEnvironment env("interval-join");
  env.SetParallelism(2);
  auto left = env.Generate(Left, kLeft).AssignTimestampsAndWatermarks(ByTime());
  auto right = env.Generate(Right, kRight).AssignTimestampsAndWatermarks(ByTime());
  left.KeyBy([](const Event& e) { return e.key; })
      .IntervalJoin(right.KeyBy([](const Event& e) { return e.key; }))
      .Between(std::chrono::milliseconds(-30), std::chrono::milliseconds(70))
      .UpperBoundExclusive()
      .Process<Match>()
      .Sink([rows](const Row& r) { rows->Add(r); });
  EXPECT_EQ(RunToEnd(env).late_dropped, 0u);
  std::vector<Row> expected;
  for (int64_t i = 0; i < kLeft; ++i) {
    const Event a = Left(i);
    for (int64_t j = 0; j < kRight; ++j) {
      const Event b = Right(j);
      if (a.key == b.key && b.time >= a.time - 30 && b.time < a.time + 70) {
        expected.emplace_back(a.value, b.value, 0);
      }
    }
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_GT(expected.size(), 100u);
  EXPECT_EQ(rows->Sorted(), expected);
}

TEST(JoinTest, AnEmptyIntervalIsAGraphError) {
  StreamEnvironment env("empty-interval");
  auto a = env.Generate(Left, 10).KeyBy([](const Event& e) { return e.key; });
  auto b = env.Generate(Right, 10).KeyBy([](const Event& e) { return e.key; });
  EXPECT_THROW(
      a.IntervalJoin(b).Between(std::chrono::milliseconds(5), std::chrono::milliseconds(1)),
      GraphError);
  EXPECT_THROW(a.IntervalJoin(b)
                   .Between(std::chrono::milliseconds(1), std::chrono::milliseconds(1))
                   .LowerBoundExclusive()
                   .Process<Match>(),
               GraphError);
}

}  // namespace
}  // namespace sluice::engine
