// Slot allocation at scale, in-process (no network): 10,000 TaskManagers x 8
// slots, 1,000 jobs of 10 tenants with mixed profiles arriving and leaving.
// Reports decisions/s and p50/p99 decision latency (one Declare or ReleaseJob
// call, including the scheduling it triggers), slot utilization, and Jain's
// fairness index over the tenants' weighted dominant shares, per scheduler and
// placement.
//
//   build/bin/slot_manager_bench [--taskmanagers 10000] [--jobs 1000] [--events 4000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "resourcemanager/slot_manager.h"

namespace sluice::bench {
namespace {

struct Options {
  int task_managers = 10000;
  int slots_per_tm = 8;
  int jobs = 1000;
  int tenants = 10;
  int events = 4000;
};

ResourceProfile SlotProfile(bool gpu) {
  ResourceProfile p;
  p.cpu_cores = 1;
  p.memory_bytes = 2LL << 30;
  if (gpu) p.extended["gpu"] = 1;
  return p;
}

class Simulation {
 public:
  Simulation(const Options& options, SchedulerKind scheduler, Placement placement)
      : options_(options), rng_(42) {
    Tenants tenants;
    for (int t = 0; t < options.tenants; ++t) {
      tenants.Add(Tenant{"tenant-" + std::to_string(t), 1.0 + t % 3, {}, ""});
    }
    SlotManagerOptions sm_options;
    sm_options.scheduler = scheduler;
    sm_options.placement = placement;
    sm_ = std::make_unique<SlotManager>(&clock_, sm_options, tenants);
    for (int i = 0; i < options.task_managers; ++i) {
      std::vector<SlotState> slots;
      for (int s = 0; s < options.slots_per_tm; ++s) {
        slots.push_back(SlotState{s, SlotProfile(i % 10 == 0), "", ""});
      }
      SlotManagerEffects effects;
      sm_->AddTaskManager("tm-" + std::to_string(i), "", slots, &effects);
    }
  }

  void Run() {
    for (int j = 0; j < options_.jobs; ++j) Timed([&](SlotManagerEffects* e) { DeclareNew(e); });
    for (int e = 0; e < options_.events; ++e) {
      if (!running_.empty()) {
        size_t pick = std::uniform_int_distribution<size_t>(0, running_.size() - 1)(rng_);
        std::string job = running_[pick];
        running_[pick] = running_.back();
        running_.pop_back();
        Timed([&](SlotManagerEffects* effects) { sm_->ReleaseJob(job, effects); });
      }
      Timed([&](SlotManagerEffects* effects) { DeclareNew(effects); });
      if (e >= options_.events / 2) Sample();
    }
  }

  void Report(const char* scheduler, const char* placement) {
    std::sort(latencies_us_.begin(), latencies_us_.end());
    auto pct = [&](double p) {
      return latencies_us_[std::min(latencies_us_.size() - 1,
                                    static_cast<size_t>(p * latencies_us_.size()))];
    };
    double total_s = 0;
    for (double l : latencies_us_) total_s += l / 1e6;
    std::printf("| %-8s | %-6s | %9.0f | %8.1f | %8.1f | %7.1f%% | %5.3f |\n", scheduler, placement,
                latencies_us_.size() / total_s, pct(0.5), pct(0.99),
                utilization_sum_ / samples_ * 100, jain_sum_ / samples_);
    std::fflush(stdout);
  }

 private:
  template <typename F>
  void Timed(F&& decide) {
    SlotManagerEffects effects;
    auto start = std::chrono::steady_clock::now();
    decide(&effects);
    auto end = std::chrono::steady_clock::now();
    latencies_us_.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    for (const auto& grant : effects.requests) sm_->SlotRequestAccepted(grant.allocation_id);
    for (const auto& grant : effects.requests) Started(grant.job_id);
  }

  void Started(const std::string& job) {
    if (started_.insert(job).second) running_.push_back(job);
  }

  void DeclareNew(SlotManagerEffects* effects) {
    JobDeclaration d;
    d.job_id = "job-" + std::to_string(next_job_++);
    d.job_master = "jm";
    d.tenant = "tenant-" + std::to_string(Uniform(0, options_.tenants - 1));
    d.priority = Uniform(0, 9);
    int desired = Uniform(20, 180);
    int kind = Uniform(0, 9);
    ResourceProfile profile;
    if (kind >= 6) profile.cpu_cores = 1;
    if (kind == 9) profile.extended["gpu"] = 1;
    d.requirements.push_back({profile, desired, Uniform(0, 1) ? desired : desired / 2});
    (void)sm_->Declare(d, effects);
  }

  void Sample() {
    utilization_sum_ += 1.0 - static_cast<double>(sm_->slots_free()) / sm_->slots_total();
    double sum = 0, squares = 0;
    auto tenants = sm_->TenantViews();
    int n = 0;
    for (const auto& t : tenants) {
      // Fairness is judged among tenants that want more than they have.
      if (t.name == kDefaultTenant || t.waiting_jobs == 0) continue;
      sum += t.dominant_share;
      squares += t.dominant_share * t.dominant_share;
      ++n;
    }
    jain_sum_ += squares > 0 ? sum * sum / (n * squares) : 1.0;  // Jain's index
    ++samples_;
  }

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  Options options_;
  FakeClock clock_;
  std::mt19937 rng_;
  std::unique_ptr<SlotManager> sm_;
  std::vector<double> latencies_us_;
  std::vector<std::string> running_;
  std::set<std::string> started_;
  int next_job_ = 0;
  double utilization_sum_ = 0, jain_sum_ = 0;
  int samples_ = 0;
};

Options Parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int value = std::atoi(argv[i + 1]);
    if (flag == "--taskmanagers")
      options.task_managers = value;
    else if (flag == "--jobs")
      options.jobs = value;
    else if (flag == "--events")
      options.events = value;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  return options;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice;
  auto options = bench::Parse(argc, argv);
  std::printf("| scheduler | placement | decisions/s | p50 µs | p99 µs | utilization | Jain |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  struct Case {
    const char* scheduler_name;
    SchedulerKind scheduler;
    const char* placement_name;
    Placement placement;
  };
  for (const Case& c : {Case{"fifo", SchedulerKind::kFifo, "spread", Placement::kSpread},
                        Case{"fair", SchedulerKind::kFair, "spread", Placement::kSpread},
                        Case{"priority", SchedulerKind::kPriority, "spread", Placement::kSpread},
                        Case{"fifo", SchedulerKind::kFifo, "pack", Placement::kPack},
                        Case{"fair", SchedulerKind::kFair, "pack", Placement::kPack}}) {
    bench::Simulation simulation(options, c.scheduler, c.placement);
    simulation.Run();
    simulation.Report(c.scheduler_name, c.placement_name);
  }
  return 0;
}
