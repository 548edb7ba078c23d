// Benchmark jobs for runs on a cluster (bench/cluster_bench.sh). KeyedPipeline
// is the engine benchmark's pipeline: generator -> map -> keyBy -> sum ->
// discard with ~100-byte records, as fast as it goes.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sluice/parameter_tool.h"
#include "sluice/sluice.h"

struct BenchEvent {
  std::string key;
  int64_t value = 0;
  std::string payload;
};
SLUICE_SERIALIZABLE(BenchEvent, key, value, payload);

SLUICE_JOB(KeyedPipeline) {
  auto flags = sluice::ParameterTool::FromArgs(args);
  auto records = static_cast<int64_t>(flags.GetDouble("records", 10'000'000));
  env.Generate(
         [](int64_t i) {
           return BenchEvent{"key-" + std::to_string(i % 10000), i,
                             std::string(80, static_cast<char>('a' + i % 26))};
         },
         records)
      .Name("Events")
      .Map([](const BenchEvent& e) {
        return BenchEvent{e.key, e.value * 3 + 1, e.payload};
      })
      .KeyBy([](const BenchEvent& e) { return e.key; })
      .Reduce([](const BenchEvent& a, const BenchEvent& b) {
        BenchEvent r = a;
        r.value += b.value;
        return r;
      })
      .Discard();
}

// End-to-end latency: each record carries its creation time; the sink
// records now - created into a histogram of 1 us buckets and, at the end of
// its input, writes the non-empty buckets ("<us> <count>" lines) to
// <--latency-dir>/latency-<pid>-<n>.txt for bench/cluster_bench.sh to merge.
struct TimedEvent {
  std::string key;
  int64_t value = 0;
  int64_t created_ns = 0;
  std::string payload;
};
SLUICE_SERIALIZABLE(TimedEvent, key, value, created_ns, payload);

namespace {

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class LatencyRecorder {
 public:
  explicit LatencyRecorder(std::string directory) : directory_(std::move(directory)) {}
  void operator()(const TimedEvent& event) {
    if (buckets_.empty()) buckets_.assign(kBuckets + 1, 0);
    int64_t us = std::max<int64_t>(0, (WallNs() - event.created_ns) / 1000);
    ++buckets_[static_cast<size_t>(std::min<int64_t>(us, kBuckets))];
  }
  void Finish() {
    static std::atomic<int> instances{0};
    std::ofstream out(directory_ + "/latency-" + std::to_string(getpid()) + "-" +
                      std::to_string(instances++) + ".txt");
    for (size_t us = 0; us < buckets_.size(); ++us) {
      if (buckets_[us] > 0) out << us << " " << buckets_[us] << "\n";
    }
    if (!out) throw std::runtime_error("cannot write latencies to " + directory_);
  }

 private:
  static constexpr int64_t kBuckets = 1'000'000;  // 1 s (8 MB); later ones land in the last
  std::string directory_;
  std::vector<uint64_t> buckets_;
};

}  // namespace

SLUICE_JOB(LatencyPipeline) {
  auto flags = sluice::ParameterTool::FromArgs(args);
  double rate = flags.GetDouble("rate", 1'000'000);
  auto records = static_cast<int64_t>(rate * flags.GetDouble("seconds", 10));
  env.Generate(
         [](int64_t i) {
           return TimedEvent{"key-" + std::to_string(i % 10000), i, WallNs(),
                             std::string(72, static_cast<char>('a' + i % 26))};
         },
         records, rate)
      .Name("TimedEvents")
      .Map([](const TimedEvent& e) {
        TimedEvent r = e;
        r.value = e.value * 3 + 1;
        return r;
      })
      .KeyBy([](const TimedEvent& e) { return e.key; })
      .Reduce([](const TimedEvent& a, const TimedEvent& b) {
        TimedEvent r = a;
        r.value += b.value;
        r.created_ns = b.created_ns;  // the latest record's age
        return r;
      })
      .Sink(LatencyRecorder(flags.Get("latency-dir", "/tmp")))
      .Name("LatencySink");
}

// Full backpressure: an endless generator into a keyed operator that spends
// --work-us of CPU on each record (a slow enrichment, say), so every queue
// in front of it stays full. For bench/unaligned_checkpoints.sh.
SLUICE_JOB(Backpressured) {
  auto flags = sluice::ParameterTool::FromArgs(args);
  const auto work = std::chrono::microseconds(flags.GetLong("work-us", 500));
  env.Generate(
         [](int64_t i) {
           return BenchEvent{"key-" + std::to_string(i % 1000), i, ""};
         },
         static_cast<int64_t>(flags.GetDouble("records", 1e12)))
      .Name("Events")
      .KeyBy([](const BenchEvent& e) { return e.key; })
      .Reduce([work](const BenchEvent& sum, const BenchEvent& e) {
        const auto until = std::chrono::steady_clock::now() + work;
        while (std::chrono::steady_clock::now() < until) {
        }
        return BenchEvent{sum.key, sum.value + e.value, ""};
      })
      .Discard();
}
