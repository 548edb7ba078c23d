// Event time in real local jobs: timestamps and watermarks, event-time
// timers, and windows of every kind, each checked against a brute-force
// computation over the same records.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "engine/local_job.h"
#include "sluice/sluice.h"
#include "tests/testing/local_run.h"

namespace sluice::engine {
namespace {

struct Event {
  int32_t key = 0;
  int64_t time = 0;
  int64_t value = 0;
};
SLUICE_SERIALIZABLE(Event, key, time, value);

// (key, window start, window end, result)
using Row = std::tuple<int32_t, int64_t, int64_t, int64_t>;

using testing::Collected;
using testing::RunStats;
using testing::RunToEnd;

constexpr int64_t kBase = 1'700'000'000'000;
constexpr int kKeys = 7;

// Record i: key i % 7, event time kBase + 10 i, shuffled by up to 40 ms.
Event EventAt(int64_t i) {
  const int64_t jitter = (i * 7919) % 5 * 10;
  return Event{static_cast<int32_t>(i % kKeys), kBase + i * 10 - jitter, i};
}

auto Strategy() {
  return WatermarkStrategy<Event>::ForBoundedOutOfOrderness(std::chrono::milliseconds(100))
      .WithTimestampAssigner([](const Event& e, int64_t) { return e.time; });
}

template <typename Assigner>
std::vector<Row> WindowSums(Assigner assigner, int64_t count, int parallelism) {
  auto rows = std::make_shared<Collected<Row>>();
  StreamEnvironment env("windows");
  env.SetParallelism(parallelism);
  env.Generate(EventAt, count)
      .AssignTimestampsAndWatermarks(Strategy())
      .KeyBy([](const Event& e) { return e.key; })
      .Window(assigner)
      .Aggregate(
          [] {
            struct Sum {
              int64_t CreateAccumulator() const { return 0; }
              int64_t Add(const Event& e, int64_t acc) const { return acc + e.value; }
              int64_t GetResult(const int64_t& acc) const { return acc; }
              int64_t Merge(int64_t a, int64_t b) const { return a + b; }
            };
            return Sum{};
          }(),
          [](const int32_t& key, const TimeWindow& w, int64_t sum, Collector<Row>& out) {
            out.Collect(Row{key, w.start, w.end, sum});
          })
      .Sink([rows](const Row& r) { rows->Add(r); });
  EXPECT_EQ(RunToEnd(env).late_dropped, 0u);
  return rows->Sorted();
}

std::vector<Row> ToRows(const std::map<std::tuple<int32_t, int64_t, int64_t>, int64_t>& sums) {
  std::vector<Row> rows;
  for (const auto& [w, sum] : sums)
    rows.emplace_back(std::get<0>(w), std::get<1>(w), std::get<2>(w), sum);
  return rows;
}

TEST(EventTimeWindowTest, TumblingWindowsMatchABruteForceAtParallelismTwo) {
  const int64_t n = 20000;
  std::map<std::tuple<int32_t, int64_t, int64_t>, int64_t> expected;
  for (int64_t i = 0; i < n; ++i) {
    Event e = EventAt(i);
    int64_t start = e.time - ((e.time % 1000) + 1000) % 1000;
    expected[{e.key, start, start + 1000}] += e.value;
  }
  EXPECT_EQ(WindowSums(TumblingEventTimeWindows::Of(std::chrono::seconds(1)), n, 2),
            ToRows(expected));
}

TEST(EventTimeWindowTest, SlidingWindowsPutEachRecordIntoEveryWindowThatHoldsIt) {
  const int64_t n = 8000;
  std::map<std::tuple<int32_t, int64_t, int64_t>, int64_t> expected;
  for (int64_t i = 0; i < n; ++i) {
    Event e = EventAt(i);
    for (int64_t start = e.time - e.time % 250; start > e.time - 1000; start -= 250) {
      expected[{e.key, start, start + 1000}] += e.value;
    }
  }
  EXPECT_EQ(WindowSums(SlidingEventTimeWindows::Of(std::chrono::seconds(1),
                                                   std::chrono::milliseconds(250)),
                       n, 2),
            ToRows(expected));
}

TEST(EventTimeWindowTest, SessionWindowsMergeRecordsCloserThanTheGap) {
  // Per key, bursts of records 10 ms apart, separated by pauses of 300 ms or
  // more: each burst is one session with a 100 ms gap.
  auto event = [](int64_t i) {
    const int64_t burst = i / 50;
    const int64_t time = kBase + burst * 1000 + (i % 50) * 10 + (burst % 3) * 200;
    return Event{static_cast<int32_t>(i % 3), time, 1};
  };
  const int64_t n = 3000;
  std::map<int32_t, std::vector<int64_t>> times;
  for (int64_t i = 0; i < n; ++i) times[event(i).key].push_back(event(i).time);
  std::map<std::tuple<int32_t, int64_t, int64_t>, int64_t> expected;
  for (auto& [key, ts] : times) {
    std::sort(ts.begin(), ts.end());
    int64_t start = ts.front(), last = ts.front(), count = 0;
    for (int64_t t : ts) {
      if (t > last + 100) {
        expected[{key, start, last + 100}] = count;
        start = t;
        count = 0;
      }
      last = t;
      ++count;
    }
    expected[{key, start, last + 100}] = count;
  }
  auto rows = std::make_shared<Collected<Row>>();
  StreamEnvironment env("sessions");
  env.SetParallelism(2);
  env.Generate(event, n)
      .AssignTimestampsAndWatermarks(Strategy())
      .KeyBy([](const Event& e) { return e.key; })
      .Window(EventTimeSessionWindows::WithGap(std::chrono::milliseconds(100)))
      .Process([](const int32_t& key, const TimeWindow& w, const std::vector<Event>& events,
                  Collector<Row>& out) {
        out.Collect(Row{key, w.start, w.end, static_cast<int64_t>(events.size())});
      })
      .Sink([rows](const Row& r) { rows->Add(r); });
  RunToEnd(env);
  EXPECT_EQ(rows->Sorted(), ToRows(expected));
}

using EveryRecord = testing::EveryRecordAWatermark<Event>;

TEST(EventTimeWindowTest, LateRecordsWithinTheLatenessRefireAndLaterOnesAreDroppedAndCounted) {
  // Window [1000, 2000) of key 0 fires at watermark 2100 with 1000 + 1500;
  // 1800 comes late but within 500 ms: it fires again with all three; 2600
  // moves the watermark past the cleanup time (2499), so 1900 is dropped.
  std::vector<Event> events = {{0, 1000, 1}, {0, 1500, 2},  {0, 2100, 4},
                               {0, 1800, 8}, {0, 2600, 16}, {0, 1900, 32}};
  auto rows = std::make_shared<Collected<Row>>();
  StreamEnvironment env("lateness");
  env.FromCollection(events)
      .AssignTimestampsAndWatermarks(
          WatermarkStrategy<Event>::ForGenerator([] {
            return std::make_unique<EveryRecord>();
          }).WithTimestampAssigner([](const Event& e) { return e.time; }))
      .KeyBy([](const Event& e) { return e.key; })
      .Window(TumblingEventTimeWindows::Of(std::chrono::seconds(1)))
      .AllowedLateness(std::chrono::milliseconds(500))
      .Reduce(
          [](const Event& a, const Event& b) {
            return Event{a.key, a.time, a.value + b.value};
          },
          [](const int32_t& key, const TimeWindow& w, const Event& sum, Collector<Row>& out) {
            out.Collect(Row{key, w.start, w.end, sum.value});
          })
      .Sink([rows](const Row& r) { rows->Add(r); });
  RunStats run = RunToEnd(env);
  std::lock_guard<std::mutex> lock(rows->mu);
  EXPECT_EQ(rows->items,
            (std::vector<Row>{{0, 1000, 2000, 3}, {0, 1000, 2000, 11}, {0, 2000, 3000, 20}}));
  EXPECT_EQ(run.late_dropped, 1u);
}

TEST(EventTimeWindowTest, CountWindowsFireEveryNRecordsOfAKey) {
  auto rows = std::make_shared<Collected<Row>>();
  StreamEnvironment env("count");
  env.SetParallelism(2);
  env.Generate(
         [](int64_t i) {
           return Event{static_cast<int32_t>(i % 3), 0, i};
         },
         3 * 10 + 2)
      .KeyBy([](const Event& e) { return e.key; })
      .CountWindow(4)
      .Reduce([](const Event& a, const Event& b) {
        return Event{a.key, 0, a.value + b.value};
      })
      .Sink([rows](const Event& e) {
        rows->Add(Row{e.key, 0, 0, e.value});
      });
  RunToEnd(env);
  // Per key, the records in index order... across two source subtasks the
  // order per key is not fixed, but each full window of 4 holds 4 records:
  // keys 0 and 1 have 11 records (2 windows, 3 left over), key 2 has 10.
  std::map<int32_t, int> windows;
  for (const Row& r : rows->Sorted()) ++windows[std::get<0>(r)];
  EXPECT_EQ(windows, (std::map<int32_t, int>{{0, 2}, {1, 2}, {2, 2}}));
}

TEST(EventTimeWindowTest, SlidingCountWindowsSeeTheLastSizeRecordsEverySlide) {
  auto rows = std::make_shared<Collected<Row>>();
  StreamEnvironment env("count-slide");
  env.FromCollection(std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7})
      .KeyBy([](const int64_t&) { return int32_t{0}; })
      .CountWindow(3, 2)
      .Process([](const int32_t&, const TimeWindow&, const std::vector<int64_t>& v,
                  Collector<Row>& out) {
        int64_t sum = 0;
        for (int64_t x : v) sum += x;
        out.Collect(Row{0, v.front(), static_cast<int64_t>(v.size()), sum});
      })
      .Sink([rows](const Row& r) { rows->Add(r); });
  RunToEnd(env);
  std::lock_guard<std::mutex> lock(rows->mu);
  // Fires at records 2, 4, 6 over the last (up to) 3.
  EXPECT_EQ(rows->items, (std::vector<Row>{{0, 1, 2, 3}, {0, 2, 3, 9}, {0, 4, 3, 15}}));
}

TEST(EventTimeWindowTest, WindowAllRunsInOneSubtaskOverEveryKey) {
  auto rows = std::make_shared<Collected<Row>>();
  StreamEnvironment env("all");
  env.SetParallelism(2);
  const int64_t n = 5000;
  env.Generate(EventAt, n)
      .AssignTimestampsAndWatermarks(Strategy())
      .WindowAll(TumblingEventTimeWindows::Of(std::chrono::seconds(10)))
      .Reduce(
          [](const Event& a, const Event& b) {
            return Event{0, 0, a.value + b.value};
          },
          [](const int32_t&, const TimeWindow& w, const Event& e, Collector<Row>& out) {
            out.Collect(Row{0, w.start, w.end, e.value});
          })
      .Sink([rows](const Row& r) { rows->Add(r); });
  RunToEnd(env);
  std::map<std::tuple<int32_t, int64_t, int64_t>, int64_t> expected;
  for (int64_t i = 0; i < n; ++i) {
    Event e = EventAt(i);
    int64_t start = e.time - e.time % 10000;
    expected[{0, start, start + 10000}] += e.value;
  }
  EXPECT_EQ(rows->Sorted(), ToRows(expected));
}

// Registers an event-time timer 100 ms after each record; OnTimer reports the
// timer, the timestamp its output carries and the clock it belongs to.
class TimerAfter final : public KeyedProcessFunction<int32_t, Event, Row> {
 public:
  void ProcessElement(const Event&, KeyedContext<int32_t>& ctx, Collector<Row>&) override {
    ctx.RegisterEventTimeTimer(*ctx.timestamp() + 100);
  }
  void OnTimer(int64_t when, KeyedContext<int32_t>& ctx, Collector<Row>& out) override {
    const bool event_time = ctx.time_domain() == TimeDomain::kEventTime;
    const bool watermark_reached = ctx.CurrentWatermark() >= when;
    out.Collect(Row{ctx.current_key(), when, ctx.timestamp().value_or(-1),
                    event_time && watermark_reached ? 1 : 0});
  }
};

TEST(EventTimeTimerTest, EventTimeTimersFireOncePerKeyAndTimeWhenTheWatermarkPasses) {
  const int64_t n = 3000;
  auto rows = std::make_shared<Collected<Row>>();
  StreamEnvironment env("timers");
  env.SetParallelism(2);
  env.Generate(EventAt, n)
      .AssignTimestampsAndWatermarks(Strategy())
      .KeyBy([](const Event& e) { return e.key; })
      .Process<TimerAfter>()
      .Sink([rows](const Row& r) { rows->Add(r); });
  RunToEnd(env);
  std::set<std::pair<int32_t, int64_t>> timers;
  for (int64_t i = 0; i < n; ++i) timers.insert({EventAt(i).key, EventAt(i).time + 100});
  std::vector<Row> expected;
  for (const auto& [key, when] : timers) expected.emplace_back(key, when, when, 1);
  EXPECT_EQ(rows->Sorted(), expected);
}

TEST(EventTimeWindowTest, PeriodicWatermarksFireWindowsWhileTheSourceStillRuns) {
  // 1 s of records at 1500 per second, 1 ms of event time apart: 100 ms
  // windows must come out long before the last record is generated.
  auto last_generated = std::make_shared<std::atomic<int64_t>>(0);
  auto first_result = std::make_shared<std::atomic<int64_t>>(0);
  StreamEnvironment env("periodic");
  env.Generate(
         [last_generated](int64_t i) {
           last_generated->store(absl::ToUnixMillis(absl::Now()));
           return Event{0, kBase + i, 1};
         },
         1500, 1500)
      .AssignTimestampsAndWatermarks(Strategy())
      .KeyBy([](const Event& e) { return e.key; })
      .Window(TumblingEventTimeWindows::Of(std::chrono::milliseconds(100)))
      .Reduce([](const Event& a, const Event& b) {
        return Event{a.key, a.time, a.value + b.value};
      })
      .Sink([first_result](const Event&) {
        int64_t none = 0;
        first_result->compare_exchange_strong(none, absl::ToUnixMillis(absl::Now()));
      });
  RunToEnd(env);
  ASSERT_GT(first_result->load(), 0);
  EXPECT_LT(first_result->load(), last_generated->load() - 300)
      << "the first window fired only at the end of the input";
}

TEST(EventTimeWindowTest, AnEventTimeWindowWithoutTimestampsFailsTheJobNamingTheCause) {
  StreamEnvironment env("no-timestamps");
  env.FromCollection(std::vector<Event>{{0, 1, 1}})
      .KeyBy([](const Event& e) { return e.key; })
      .Window(TumblingEventTimeWindows::Of(std::chrono::seconds(1)))
      .Reduce([](const Event& a, const Event&) { return a; })
      .Discard();
  LocalJobOptions options;
  auto job = LocalJob::Start(env.Build(), options);
  ASSERT_TRUE(job.ok()) << job.status();
  auto result = (*job)->WaitFor(absl::Seconds(30));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->state, JobState::kFailed);
  EXPECT_NE(result->error.find("AssignTimestampsAndWatermarks"), std::string::npos)
      << result->error;
}

}  // namespace
}  // namespace sluice::engine
