// Nexmark the way its suite measures it: a fixed number of events per query,
// events per second per core (the process's CPU time, every thread), with
// the source alone (NexmarkSource: the events generated, stamped and
// discarded) in the same run as the baseline. Each query is an example job
// (examples/nexmark.cc) loaded from the examples library as the CLI loads it,
// with the benchmark's blackhole sink.
//
//   build/bin/nexmark_bench [--events 10000000] [--rate 10000000] [--rounds 3]
//       [--parallelism 1] [--queries source,q0,q1,...]
//
// Rounds interleave the queries, and the median per query is reported, as
// the machine is shared.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "engine/job_library.h"
#include "engine/local_job.h"

namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Measured {
  double cpu_seconds = 0;
  double wall_seconds = 0;
};

Measured RunQuery(sluice::engine::JobLibrary& library, const std::string& job,
                  const std::vector<std::string>& args, int parallelism) {
  auto graph = library.Build(job, args, parallelism);
  if (!graph.ok()) {
    std::fprintf(stderr, "%s: %s\n", job.c_str(), std::string(graph.status().message()).c_str());
    std::exit(1);
  }
  sluice::engine::LocalJobOptions options;
  const double cpu = CpuSeconds();
  const absl::Time start = absl::Now();
  auto running = sluice::engine::LocalJob::Start(*std::move(graph), options);
  if (!running.ok()) std::exit(1);
  sluice::engine::JobResult result = (*running)->Wait();
  if (result.state != sluice::engine::JobState::kFinished) {
    std::fprintf(stderr, "%s: %s\n", job.c_str(), result.error.c_str());
    std::exit(1);
  }
  return {CpuSeconds() - cpu, absl::ToDoubleSeconds(absl::Now() - start)};
}

std::string JobOf(const std::string& query) {
  if (query == "source") return "NexmarkSource";
  return "NexmarkQ" + query.substr(1);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string events = "10000000", rate = "10000000";
  int rounds = 3, parallelism = 1;
  std::string queries = "source,q0,q1,q2,q3,q4,q5,q6,q7,q8,q9,q11";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--events") events = argv[i + 1];
    if (flag == "--rate") rate = argv[i + 1];
    if (flag == "--rounds") rounds = std::max(1, std::atoi(argv[i + 1]));
    if (flag == "--parallelism") parallelism = std::max(1, std::atoi(argv[i + 1]));
    if (flag == "--queries") queries = argv[i + 1];
  }
  auto library =
      sluice::engine::JobLibrary::Load(SLUICE_BINARY_DIR "/examples/libsluice_examples.so");
  if (!library.ok()) {
    std::fprintf(stderr, "%s\n", std::string(library.status().message()).c_str());
    return 1;
  }
  std::vector<std::string> list;
  std::stringstream split(queries);
  for (std::string q; std::getline(split, q, ',');) list.push_back(q);
  const std::vector<std::string> args = {"--events", events, "--rate", rate};
  std::map<std::string, std::vector<double>> per_core, per_second;
  for (int round = 0; round < rounds; ++round) {
    for (const std::string& q : list) {
      Measured m = RunQuery(**library, JobOf(q), args, parallelism);
      per_core[q].push_back(std::atof(events.c_str()) / m.cpu_seconds);
      per_second[q].push_back(std::atof(events.c_str()) / m.wall_seconds);
    }
  }
  const double source = per_core.count("source") ? Median(per_core["source"]) : 0;
  std::printf("%s events, rate %s events/s of event time, parallelism %d, median of %d rounds\n\n",
              events.c_str(), rate.c_str(), parallelism, rounds);
  std::printf("| query | events/s per core | events/s (wall) | vs the source alone |\n");
  std::printf("|---|---|---|---|\n");
  for (const std::string& q : list) {
    const double core = Median(per_core[q]);
    std::printf("| %s | %.0f | %.0f | %s |\n", q.c_str(), core, Median(per_second[q]),
                source > 0
                    ? (std::to_string(static_cast<int>(100 * core / source + 0.5)) + "%").c_str()
                    : "-");
  }
  return 0;
}
