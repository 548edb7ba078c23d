// Jobs that misbehave on purpose, for the cluster tests.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sluice/sluice.h"

// Its map throws at record 5000.
SLUICE_JOB(Failing) {
  env.Sequence(0, 100000)
      .Map([](int64_t x) {
        if (x == 5000) throw std::runtime_error("record 5000 is cursed");
        return x;
      })
      .Name("Curse")
      .Discard();
}

// Its map misbehaves at record --at (default 2000) as --how says: segfault,
// abort, exit (exit(0)), hang (spins, ignoring cancellation) or allocate
// (4 GiB); until then it passes records on, unbounded, at 2000 a second.
SLUICE_JOB(MisbehavesInATask) {
  auto params = sluice::ParameterTool::FromArgs(args);
  const std::string how = params.Get("how", "segfault");
  const int64_t at = params.GetLong("at", 2000);
  env.Generate([](int64_t i) { return i; }, -1, 2000)
      .Map([how, at](int64_t x) {
        if (x != at) return x;
        if (how == "segfault") std::raise(SIGSEGV);
        if (how == "abort") std::abort();
        if (how == "exit") std::exit(0);
        if (how == "hang") {
          std::atomic<uint64_t> spin{0};
          while (true) spin.fetch_add(1, std::memory_order_relaxed);
        }
        if (how == "allocate") {
          std::vector<std::unique_ptr<char[]>> hoard;
          for (int i = 0; i < 64; ++i) hoard.emplace_back(new char[64 << 20]());  // 4 GiB
        }
        return x;
      })
      .Name("Misbehave")
      .Discard();
}

// Never ends on its own.
SLUICE_JOB(Unbounded) {
  env.Generate([](int64_t i) { return i; }, -1, 2000)
      .KeyBy([](const int64_t& x) { return x % 16; })
      .Reduce([](const int64_t& a, const int64_t& b) { return a + b; })
      .Discard();
}

// Never ends on its own; one vertex, so each subtask is a pipelined region
// of its own.
SLUICE_JOB(UnboundedForward) {
  env.Generate([](int64_t i) { return i; }, -1, 2000)
      .Map([](int64_t x) { return x + 1; })
      .Discard();
}

// For the fault tests, in the manner of Flink's DataStreamAllroundTestProgram:
// --records numbers x from 2 generators at --rate each per second; x is
// record number x / 16 of key x % 16, so each key's records are a contiguous
// sequence. A keyed function sums them in keyed state and writes one line per
// record, "<key> <sequence number> <sum so far>", through the exactly-once
// file sink into --out. Every record's line must be there exactly once, with
// the sum an independent computation gives (state restored right). With
// --fail-once <file>, the map throws at the middle number unless <file>
// exists (it creates it first), so exactly one attempt fails. With --pad <n>
// each key also keeps n bytes of state, so that snapshots go to state files.
// Throws at `at` unless `marker` is empty or exists (created first): one
// attempt of the job fails, the next ones pass.
// Throws (or, with `crash`, segfaults) at record `at` if `marker` does not
// exist yet, creating it: once per job, across its restarts.
void FailOnceAt(int64_t at, int64_t x, const std::string& marker, bool crash = false) {
  if (marker.empty() || x != at || std::filesystem::exists(marker)) return;
  std::ofstream(marker) << "failed once\n";
  if (crash) std::raise(SIGSEGV);
  throw std::runtime_error("failing once, at " + std::to_string(x));
}

class RunningSum final
    : public sluice::KeyedProcessFunction<int64_t, std::pair<int64_t, int64_t>, std::string> {
 public:
  RunningSum(int64_t pad, int64_t slow_us) : pad_(pad), slow_us_(slow_us) {}
  void Open(sluice::KeyedContext<int64_t>& ctx) override {
    sum_ = &ctx.GetState(sluice::ValueStateDescriptor<int64_t>("sum"));
    padding_ = &ctx.GetState(sluice::ValueStateDescriptor<std::string>("padding"));
  }
  void ProcessElement(const std::pair<int64_t, int64_t>& record, sluice::KeyedContext<int64_t>&,
                      sluice::Collector<std::string>& out) override {
    if (slow_us_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(slow_us_));
    const int64_t sum = sum_->value().value_or(0) + record.second;
    sum_->update(sum);
    if (pad_ > 0 && !padding_->value()) padding_->update(std::string(pad_, 'p'));
    out.Collect(std::to_string(record.first) + " " + std::to_string(record.second / 16) + " " +
                std::to_string(sum));
  }

 private:
  const int64_t pad_;
  const int64_t slow_us_;  // per record: a slow operator backpressures its inputs
  sluice::ValueState<int64_t>* sum_ = nullptr;
  sluice::ValueState<std::string>* padding_ = nullptr;
};

SLUICE_JOB(CheckpointedSums) {
  auto params = sluice::ParameterTool::FromArgs(args);
  const int64_t records = params.GetLong("records", 30000);
  const std::string crash_marker = params.Get("crash-once", "");
  const std::string marker = crash_marker.empty() ? params.Get("fail-once", "") : crash_marker;
  const bool crash = !crash_marker.empty();
  // --checkpoints-from-code <dir>: the job turns checkpointing on itself.
  if (const std::string dir = params.Get("checkpoints-from-code", ""); !dir.empty()) {
    env.EnableCheckpointing(std::chrono::milliseconds(150))
        .SetConfig("execution.checkpointing.dir", dir)
        .SetConfig("execution.checkpointing.timeout", "42 s");
  }
  if (params.Has("cluster-key-from-code")) env.SetConfig("rest.port", "9999");
  env.Generate([](int64_t i) { return i; }, records, params.GetDouble("rate", 3000))
      .Uid("numbers")
      .SetParallelism(2)
      .Map([records, marker, crash](int64_t x) {
        FailOnceAt(records / 2, x, marker, crash);
        return std::pair<int64_t, int64_t>(x % 16, x);
      })
      .SetParallelism(2)
      .KeyBy([](const std::pair<int64_t, int64_t>& p) { return p.first; })
      .Process<RunningSum>([pad = params.GetLong("pad", 0), slow = params.GetLong("slow-us", 0)] {
        return std::make_unique<RunningSum>(pad, slow);
      })
      .Uid("sums")
      .WriteAsText(params.GetRequired("out"))
      .Uid("files");
}

// --records numbers from 2 generators at --rate, number x of key x % 8 with
// event time 1.7e12 + 10 x ms, summed per key in 1 s tumbling event-time
// windows into the exactly-once file sink: one line "<key> <window start>
// <count> <sum>" per key and window, exactly once even across failures.
struct Stamped {
  int64_t key = 0;
  int64_t time = 0;
  int64_t value = 0;
};
SLUICE_SERIALIZABLE(Stamped, key, time, value);

struct CountAndSum {
  std::pair<int64_t, int64_t> CreateAccumulator() const { return {0, 0}; }
  std::pair<int64_t, int64_t> Add(const Stamped& s, std::pair<int64_t, int64_t> acc) const {
    return {acc.first + 1, acc.second + s.value};
  }
  std::pair<int64_t, int64_t> GetResult(const std::pair<int64_t, int64_t>& acc) const {
    return acc;
  }
};

SLUICE_JOB(WindowedSums) {
  auto params = sluice::ParameterTool::FromArgs(args);
  env.Generate(
         [](int64_t x) {
           return Stamped{x % 8, 1'700'000'000'000 + 10 * x, x};
         },
         params.GetLong("records", 30000), params.GetDouble("rate", 3000))
      .Uid("stamped")
      .SetParallelism(2)
      .AssignTimestampsAndWatermarks(
          sluice::WatermarkStrategy<Stamped>::ForBoundedOutOfOrderness(
              std::chrono::milliseconds(50))
              .WithTimestampAssigner([](const Stamped& s) { return s.time; }))
      .SetParallelism(2)
      .KeyBy([](const Stamped& s) { return s.key; })
      .Window(sluice::TumblingEventTimeWindows::Of(std::chrono::seconds(1)))
      .Aggregate(CountAndSum{},
                 [](const int64_t& key, const sluice::TimeWindow& w,
                    const std::pair<int64_t, int64_t>& r, sluice::Collector<std::string>& out) {
                   out.Collect(std::to_string(key) + " " + std::to_string(w.start) + " " +
                               std::to_string(r.first) + " " + std::to_string(r.second));
                 })
      .Uid("windows")
      .WriteAsText(params.GetRequired("out"))
      .Uid("files");
}

// Two inputs with state through failures. Left: --records numbers x of key
// x % 8 at event time 1.7e12 + 10 x; right: --records / 2 numbers y of key
// y % 8 at 1.7e12 + 20 y + 5, both at --rate's pace. An interval join
// (-15 ms, +15 ms) writes "<x> <y>" per pair to <out>/pairs; the pairs then
// meet a broadcast stream of --records / 100 rules (rule r for key r % 8),
// counted per key in broadcast state, and each key's sum of x + y is kept in
// keyed state: at the end "<key> <sum> <rules>" per key goes to
// <out>/summary. Both sinks are exactly once.
struct JoinedPair {
  int64_t key = 0;
  int64_t left = 0;
  int64_t right = 0;
};
SLUICE_SERIALIZABLE(JoinedPair, key, left, right);

class PairUp final : public sluice::ProcessJoinFunction<Stamped, Stamped, JoinedPair> {
  void ProcessElement(const Stamped& a, const Stamped& b, sluice::IntervalJoinContext&,
                      sluice::Collector<JoinedPair>& out) override {
    out.Collect(JoinedPair{a.key, a.value, b.value});
  }
};

const sluice::MapStateDescriptor<int64_t, int64_t> kRulesSeen("rules-seen");

class Summary final
    : public sluice::KeyedBroadcastProcessFunction<int64_t, JoinedPair, int64_t, std::string> {
  void Open(sluice::KeyedContext<int64_t>& ctx) override {
    sum_ = &ctx.GetState(sluice::ValueStateDescriptor<int64_t>("sum"));
  }
  void ProcessElement(const JoinedPair& p, const sluice::BroadcastState&,
                      sluice::KeyedContext<int64_t>& ctx,
                      sluice::Collector<std::string>&) override {
    sum_->update(sum_->value().value_or(0) + p.left + p.right);
    ctx.RegisterProcessingTimeTimer(kAtTheEnd);
  }
  void ProcessBroadcastElement(const int64_t& rule, sluice::BroadcastState& state,
                               sluice::ProcessContext&, sluice::Collector<std::string>&) override {
    state.Get(kRulesSeen)[rule % 8] += 1;
  }
  void OnTimer(int64_t, const sluice::BroadcastState& state, sluice::KeyedContext<int64_t>& ctx,
               sluice::Collector<std::string>& out) override {
    const auto& seen = state.Get(kRulesSeen);
    auto rules = seen.find(ctx.current_key());
    out.Collect(std::to_string(ctx.current_key()) + " " + std::to_string(*sum_->value()) + " " +
                std::to_string(rules == seen.end() ? 0 : rules->second));
  }
  // A processing-time timer this far ahead fires only when the input ends.
  static constexpr int64_t kAtTheEnd = 4'102'444'800'000;
  sluice::ValueState<int64_t>* sum_ = nullptr;
};

SLUICE_JOB(JoinedWithRules) {
  auto params = sluice::ParameterTool::FromArgs(args);
  const int64_t records = params.GetLong("records", 20000);
  const double rate = params.GetDouble("rate", 2000);
  const std::string out = params.GetRequired("out");
  auto stamped = [](std::string uid, auto make, int64_t count, double per_second) {
    return [=](sluice::StreamEnvironment& e) {
      return e.Generate(make, count, per_second)
          .Uid(uid)
          .SetParallelism(2)
          .AssignTimestampsAndWatermarks(
              sluice::WatermarkStrategy<Stamped>::ForBoundedOutOfOrderness(
                  std::chrono::milliseconds(50))
                  .WithTimestampAssigner([](const Stamped& s) { return s.time; }))
          .SetParallelism(2)
          .KeyBy([](const Stamped& s) { return s.key; });
    };
  };
  auto left = stamped(
      "left",
      [](int64_t x) {
        return Stamped{x % 8, 1'700'000'000'000 + 10 * x, x};
      },
      records, rate)(env);
  auto right = stamped(
      "right",
      [](int64_t y) {
        return Stamped{y % 8, 1'700'000'000'000 + 20 * y + 5, y};
      },
      records / 2, rate / 2)(env);
  auto pairs = left.IntervalJoin(right)
                   .Between(std::chrono::milliseconds(-15), std::chrono::milliseconds(15))
                   .Process<PairUp>()
                   .Uid("interval-join");
  pairs.SetParallelism(2);
  pairs
      .WriteAsText(out + "/pairs",
                   [](const JoinedPair& p) {
                     return std::to_string(p.left) + " " + std::to_string(p.right);
                   })
      .Uid("pair-files");
  auto rules = env.Generate([](int64_t r) { return r; }, records / 100, rate / 100)
                   .Uid("rules")
                   .SetParallelism(1);
  pairs.KeyBy([](const JoinedPair& p) { return p.key; })
      .Connect(rules.Broadcast(kRulesSeen))
      .Process<Summary>()
      .Uid("summary")
      .WriteAsText(out + "/summary")
      .Uid("summary-files");
}

// Two independent pipelined regions (forward edges only): --records numbers
// from 2 generators through a map that throws once at the middle number
// (--fail-once <file>, as CheckpointedSums) into the exactly-once file sink,
// one line per number. Only the failed region restarts.
SLUICE_JOB(RegionNumbers) {
  auto params = sluice::ParameterTool::FromArgs(args);
  const int64_t records = params.GetLong("records", 20000);
  const std::string marker = params.Get("fail-once", "");
  env.Generate([](int64_t i) { return i; }, records, params.GetDouble("rate", 2500))
      .Uid("numbers")
      .SetParallelism(2)
      .Map([records, marker](int64_t x) {
        FailOnceAt(records / 2, x, marker);
        return x;
      })
      .SetParallelism(2)
      .WriteAsText(params.GetRequired("out"))
      .Uid("files")
      .SetParallelism(2);
}

// Builds a different graph every time it runs.
SLUICE_JOB(Nondeterministic) {
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  env.Sequence(0, 10).Name("Numbers-" + std::to_string(now)).Discard();
}

// A fast source feeding a slow sink across a rebalance: subtask 1 of the sink
// runs on another TaskManager than the source when slots are spread.
SLUICE_JOB(SlowSink) {
  env.Generate([](int64_t i) { return std::string(100, static_cast<char>('a' + i % 26)); })
      .Name("FastSource")
      .SetParallelism(1)
      .Rebalance()
      .Sink([](const std::string&) { std::this_thread::sleep_for(std::chrono::microseconds(500)); })
      .Name("SlowSink")
      .SetParallelism(2);
}

// Misbehaves in its build function, as `--how` says, but only in the
// JobManager's graph builder: the CLI that submits it builds it fine.
SLUICE_JOB(MisbehavesInTheJobManager) {
  auto params = sluice::ParameterTool::FromArgs(args);
  std::error_code error;
  const bool in_graph_builder =
      std::filesystem::read_symlink("/proc/self/exe", error).filename() == "sluice-graph-builder";
  const std::string how = params.Get("how", "segfault");
  if (in_graph_builder) {
    if (how == "segfault") std::raise(SIGSEGV);
    if (how == "abort") std::abort();
    if (how == "exit") std::exit(0);
    if (how == "hang") std::this_thread::sleep_for(std::chrono::hours(1));
    if (how == "allocate") {
      std::vector<std::unique_ptr<char[]>> hoard;
      for (int i = 0; i < 64; ++i) hoard.emplace_back(new char[64 << 20]());  // 4 GiB
    }
  }
  env.Sequence(0, 10).Name("Numbers").Discard();
}
