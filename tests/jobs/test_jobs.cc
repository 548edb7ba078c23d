// Jobs that misbehave on purpose, for the cluster tests.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

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

// Running sums per key for the fault tests: --records numbers from 2
// generators at --rate each per second, summed per x % 16, each new sum
// written as "<key> <sum>" to the files in --out. The last line of a key is
// its total: right only if every number was counted exactly once. With
// --fail-once <file>, the map throws at the middle number unless <file>
// exists (it creates it first), so exactly one attempt fails.
SLUICE_JOB(CheckpointedSums) {
  auto params = sluice::ParameterTool::FromArgs(args);
  const int64_t records = params.GetLong("records", 30000);
  const std::string marker = params.Get("fail-once", "");
  env.Generate([](int64_t i) { return i; }, records, params.GetDouble("rate", 3000))
      .SetParallelism(2)
      .Map([records, marker](int64_t x) {
        if (!marker.empty() && x == records / 2 && !std::filesystem::exists(marker)) {
          std::ofstream(marker) << "failed once\n";
          throw std::runtime_error("failing once, at " + std::to_string(x));
        }
        return std::pair<int64_t, int64_t>(x % 16, x);
      })
      .SetParallelism(2)
      .KeyBy([](const std::pair<int64_t, int64_t>& p) { return p.first; })
      .Reduce([](const std::pair<int64_t, int64_t>& a, const std::pair<int64_t, int64_t>& b) {
        return std::pair<int64_t, int64_t>(a.first, a.second + b.second);
      })
      .Map([](const std::pair<int64_t, int64_t>& sum) {
        return std::to_string(sum.first) + " " + std::to_string(sum.second);
      })
      .WriteAsText(params.GetRequired("out"));
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
