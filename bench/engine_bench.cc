// Engine throughput against a hand-written loop doing the same work, in one
// run: records of ~100 bytes from a generator, mapped, then either discarded
// in the same chain, or keyed, summed per key and discarded (across a channel).
// Reports records per second per core (process CPU time), parallelism 1 and 2.
//
//   build/bin/engine_bench [--records 4000000] [--rounds 3]
//
// Each round runs the hand-written loop and then the engine; the ratio is
// taken per round and the median reported, as the machine is shared.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/local_job.h"
#include "sluice/sluice.h"

struct Event {
  std::string key;
  int64_t value = 0;
  std::string payload;
};
SLUICE_SERIALIZABLE(Event, key, value, payload);

namespace {

constexpr int kKeys = 10000;

Event MakeEvent(int64_t i) {
  return Event{"key-" + std::to_string(i % kKeys), i,
               std::string(80, static_cast<char>('a' + i % 26))};
}

Event Enrich(const Event& e) { return Event{e.key, e.value * 3 + 1, e.payload}; }

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

template <typename F>
double PerCpuSecond(int64_t records, F run) {
  double before = CpuSeconds();
  run();
  return static_cast<double>(records) / (CpuSeconds() - before);
}

volatile int64_t sink_guard = 0;

double HandChained(int64_t n) {
  return PerCpuSecond(n, [n] {
    int64_t guard = 0;
    for (int64_t i = 0; i < n; ++i) {
      Event e = Enrich(MakeEvent(i));
      guard += e.value;
    }
    sink_guard = guard;
  });
}

double HandKeyed(int64_t n) {
  return PerCpuSecond(n, [n] {
    std::unordered_map<std::string, Event> sums;
    int64_t guard = 0;
    for (int64_t i = 0; i < n; ++i) {
      Event e = Enrich(MakeEvent(i));
      auto [it, fresh] = sums.try_emplace(e.key, e);
      if (!fresh) it->second.value += e.value;
      Event out = it->second;  // what the engine emits downstream
      guard += out.value;
    }
    sink_guard = guard;
  });
}

double EngineRun(int64_t n, int parallelism, bool keyed) {
  sluice::StreamEnvironment env(keyed ? "keyed" : "chained");
  env.SetParallelism(parallelism);
  auto mapped = env.Generate([](int64_t i) { return MakeEvent(i); }, n).Map(Enrich);
  if (keyed) {
    mapped.KeyBy([](const Event& e) { return e.key; })
        .Reduce([](const Event& a, const Event& b) {
          Event r = a;
          r.value += b.value;
          return r;
        })
        .Discard();
  } else {
    mapped.Discard();
  }
  return PerCpuSecond(n, [&] {
    sluice::engine::LocalJobOptions options;
    auto job = sluice::engine::LocalJob::Start(env.Build(), options);
    if (!job.ok() || (*job)->Wait().state != sluice::engine::JobState::kFinished) std::abort();
  });
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t records = 4'000'000;
  int rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--records") records = std::atoll(argv[i + 1]);
    if (std::string(argv[i]) == "--rounds") rounds = std::max(1, std::atoi(argv[i + 1]));
  }
  std::printf("Median of %d rounds, each running the loop and the engine back to back.\n\n",
              rounds);
  std::printf("| pipeline | runner | records/s per core | vs hand-written |\n|---|---|---|---|\n");
  for (bool keyed : {false, true}) {
    const char* name = keyed ? "generator -> map -> keyBy -> sum -> discard"
                             : "generator -> map -> discard (chained)";
    std::vector<double> hand;
    std::vector<std::vector<double>> engine(2), ratio(2);
    for (int round = 0; round < rounds; ++round) {
      hand.push_back(keyed ? HandKeyed(records) : HandChained(records));
      for (int p : {1, 2}) {
        engine[p - 1].push_back(EngineRun(records, p, keyed));
        ratio[p - 1].push_back(engine[p - 1].back() / hand.back());
      }
    }
    std::printf("| %s | hand-written loop | %.0f | 100%% |\n", name, Median(hand));
    for (int p : {1, 2}) {
      std::printf("| %s | engine, parallelism %d | %.0f | %.0f%% |\n", name, p,
                  Median(engine[p - 1]), Median(ratio[p - 1]) * 100);
    }
    std::fflush(stdout);
  }
  return 0;
}
