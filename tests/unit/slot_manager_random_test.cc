// Thousands of random steps (fixed seeds) of TaskManagers joining and leaving,
// jobs declaring, freeing and ending, JobMasters vanishing and returning; after
// every step the SlotManager's invariants and the sharing rules are checked
// against an independent recomputation.
#include <gtest/gtest.h>

#include <random>

#include "common/clock.h"
#include "prometheus/registry.h"
#include "resourcemanager/rm_metrics.h"
#include "resourcemanager/slot_manager.h"

namespace sluice {
namespace {

constexpr int kReserved = 3;
constexpr int kUrgent = 100;
constexpr int kQuotaSlots = 12;

ResourceProfile Profile(int kind) {
  ResourceProfile p;
  p.cpu_cores = kind == 0 ? 1 : 2;
  p.memory_bytes = (kind == 0 ? 1LL : 4LL) << 30;
  if (kind == 2) p.extended["gpu"] = 1;
  return p;
}

class RandomScenario {
 public:
  RandomScenario(uint32_t seed, SchedulerKind scheduler, bool preemption) : rng_(seed) {
    Tenants tenants;
    TenantQuota quota;
    quota.max_slots = kQuotaSlots;
    tenants.Add(Tenant{"small", 1.0, quota, ""});
    tenants.Add(Tenant{"big", 2.0, {}, ""});
    SlotManagerOptions options;
    options.scheduler = scheduler;
    options.preemption = preemption;
    options.reserved_slots = kReserved;
    options.reserved_min_priority = kUrgent;
    sm_ = std::make_unique<SlotManager>(&clock_, options, tenants);
  }

  void Step() {
    SlotManagerEffects effects;
    int op = Uniform(0, 99);
    last_op_ = std::to_string(op);
    if (op < 12) {
      AddTaskManager(&effects);
    } else if (op < 18 && !tms_.empty()) {
      std::string tm = tms_[Uniform(0, tms_.size() - 1)];
      tms_.erase(std::find(tms_.begin(), tms_.end(), tm));
      sm_->RemoveTaskManager(tm, "random loss", &effects);
    } else if (op < 45) {
      Declare(&effects);
    } else if (op < 55) {
      FreeRandomSlot(&effects);
    } else if (op < 62 && !jobs_.empty()) {
      sm_->ReleaseJob(jobs_[Uniform(0, jobs_.size() - 1)].job_id, &effects);
    } else if (op < 66 && !jobs_.empty()) {
      sm_->JobMasterLost(jobs_[Uniform(0, jobs_.size() - 1)].job_master, &effects);
    } else if (op < 72 && !jobs_.empty()) {
      JobDeclaration again = jobs_[Uniform(0, jobs_.size() - 1)];
      (void)sm_->Declare(again, &effects);  // a returning JobMaster re-declares
    } else {
      clock_.Advance(absl::Seconds(Uniform(1, 40)));
      sm_->Tick(&effects);
    }
    for (const auto& grant : effects.requests) {
      if (Uniform(0, 9) < 9) sm_->SlotRequestAccepted(grant.allocation_id);  // most are taken
    }
    Check(effects);
    if (++steps_ % 25 == 0) CheckMetrics();
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  void AddTaskManager(SlotManagerEffects* effects) {
    std::string id = "tm-" + std::to_string(next_tm_++);
    int kind = Uniform(0, 2);
    int slots = Uniform(1, 8);
    std::string tenant = Uniform(0, 9) == 0 ? "small" : "";
    std::vector<SlotState> states;
    for (int i = 0; i < slots; ++i) states.push_back(SlotState{i, Profile(kind), "", ""});
    tms_.push_back(id);
    tm_tenant_[id] = tenant;
    sm_->AddTaskManager(id, tenant, states, effects);
  }

  void Declare(SlotManagerEffects* effects) {
    JobDeclaration d;
    d.job_id = "job-" + std::to_string(next_job_++);
    d.job_master = "jm-" + std::to_string(Uniform(0, 3));
    d.tenant = Uniform(0, 2) == 0 ? "small" : (Uniform(0, 1) ? "big" : "");
    d.priority = Uniform(0, 9) == 0 ? kUrgent : Uniform(0, 5);
    int desired = Uniform(1, 6);
    ResourceProfile profile = Uniform(0, 2) == 0 ? ResourceProfile{} : Profile(Uniform(0, 2));
    d.requirements.push_back({profile, desired, Uniform(1, desired)});
    if (Uniform(0, 3) == 0) d.placement = Placement::kPack;
    if (sm_->Declare(d, effects).ok()) jobs_.push_back(d);
  }

  void FreeRandomSlot(SlotManagerEffects* effects) {
    if (tms_.empty()) return;
    auto slots = sm_->SlotsOf(tms_[Uniform(0, tms_.size() - 1)]);
    for (const auto& s : slots) {
      if (!s.allocation_id.empty()) {
        sm_->FreeSlot(s.allocation_id, effects);
        return;
      }
    }
  }

  // Free slots that could serve `profile` for `tenant`, recomputed from scratch.
  int FreeFitting(const ResourceProfile& profile, const std::string& tenant) {
    int free = 0;
    for (const auto& tm : tms_) {
      const std::string& dedicated = tm_tenant_[tm];
      if ((!dedicated.empty() && dedicated != tenant) || !sm_->InPlacement(tm)) continue;
      for (const auto& s : sm_->SlotsOf(tm)) free += s.IsFree() && s.profile.Fits(profile);
    }
    return free;
  }

  void Check(const SlotManagerEffects& effects) {
    auto violation = sm_->CheckInvariants();
    ASSERT_FALSE(violation.has_value()) << *violation << " after op " << last_op_;
    std::map<std::string, int> priority, tenant_slots;
    for (const auto& d : jobs_) priority[d.job_id] = d.priority;
    int ordinary_held = 0;
    for (const auto& job : sm_->JobViews()) {
      if (job.priority < kUrgent) ordinary_held += job.slots;
      tenant_slots[job.tenant] += job.slots;
    }
    // Reserved slots only to eligible jobs.
    bool ordinary_grant = false;
    for (const auto& g : effects.requests) ordinary_grant |= priority[g.job_id] < kUrgent;
    if (ordinary_grant) {
      ASSERT_LE(ordinary_held, sm_->slots_total() - kReserved)
          << "an ordinary job got a reserved slot";
    }
    // Quotas hold, and tenant views agree with the jobs.
    for (const auto& t : sm_->TenantViews()) {
      ASSERT_EQ(t.slots, tenant_slots[t.name]) << t.name;
      if (t.name == "small") {
        ASSERT_LE(t.slots, kQuotaSlots);
      }
    }
    // Every waiting request that could be served has been, unless fair sharing
    // holds the free slots for a job that waits for more of them.
    auto waiting = sm_->Waiting();
    bool holder_exists = false;
    for (const auto& w : waiting) holder_exists |= w.reason == "no free slot fits";
    for (const auto& w : waiting) {
      if (w.reason == "free slots are held for a job with a smaller fair share" && holder_exists) {
        continue;
      }
      const JobDeclaration* d = nullptr;
      for (const auto& j : jobs_) {
        if (j.job_id == w.job_id) d = &j;
      }
      ASSERT_NE(d, nullptr);
      int held = 0;
      for (const auto& job : sm_->JobViews()) held = job.job_id == w.job_id ? job.slots : held;
      const auto& req = d->requirements[0];
      int need = held > 0 ? 1 : req.min;
      int usable = FreeFitting(req.profile, w.tenant);
      if (d->priority < kUrgent) usable = std::min(usable, sm_->slots_free() - kReserved);
      int quota_room = w.tenant == "small" ? kQuotaSlots - tenant_slots["small"] : need;
      ASSERT_FALSE(usable >= need && quota_room >= need)
          << "job " << w.job_id << " waits (" << w.reason << ") though " << usable
          << " usable free slots fit and it needs " << need << " (op " << last_op_ << ", held "
          << held << ", desired " << req.desired << ", min " << req.min << ", priority "
          << d->priority << ", cpu " << req.profile.cpu_cores << ", tenant " << w.tenant
          << ", free " << sm_->slots_free() << ")";
    }
  }

  // The published metrics say what the views say, and ended jobs leave no series.
  void CheckMetrics() {
    metrics_.PublishAllocation(sm_->TenantViews(), sm_->JobViews(), sm_->Waiting(), clock_.Now());
    std::map<std::string, double> job_slots, tenant_slots;
    double waiting = -1;
    for (const auto& family : registry_.Collect()) {
      for (const auto& metric : family.metric) {
        std::map<std::string, std::string> labels;
        for (const auto& label : metric.label) labels[label.name] = label.value;
        if (family.name == "sluice_resourcemanager_job_slots") {
          job_slots[labels["job_id"]] = metric.gauge.value;
        } else if (family.name == "sluice_resourcemanager_tenant_slots") {
          tenant_slots[labels["tenant"]] = metric.gauge.value;
        } else if (family.name == "sluice_resourcemanager_waiting_requests") {
          waiting = metric.gauge.value;
        }
      }
    }
    auto jobs = sm_->JobViews();
    ASSERT_EQ(job_slots.size(), jobs.size());
    for (const auto& job : jobs) ASSERT_EQ(job_slots[job.job_id], job.slots) << job.job_id;
    for (const auto& t : sm_->TenantViews()) ASSERT_EQ(tenant_slots[t.name], t.slots) << t.name;
    ASSERT_EQ(waiting, static_cast<double>(sm_->Waiting().size()));
  }

  FakeClock clock_;
  prometheus::Registry registry_;
  ResourceManagerMetrics metrics_{registry_};
  int steps_ = 0;
  std::string last_op_;
  std::mt19937 rng_;
  std::unique_ptr<SlotManager> sm_;
  std::vector<std::string> tms_;
  std::map<std::string, std::string> tm_tenant_;
  std::vector<JobDeclaration> jobs_;
  int next_tm_ = 0;
  int next_job_ = 0;
};

struct Params {
  uint32_t seed;
  SchedulerKind scheduler;
  bool preemption;
};

class SlotManagerRandomTest : public ::testing::TestWithParam<Params> {};

TEST_P(SlotManagerRandomTest, InvariantsHoldAfterEveryStep) {
  RandomScenario scenario(GetParam().seed, GetParam().scheduler, GetParam().preemption);
  for (int step = 0; step < 3000; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    scenario.Step();
    if (::testing::Test::HasFatalFailure()) return;
  }
}

void PrintTo(const Params& p, std::ostream* os) {
  *os << "seed " << p.seed << ", scheduler " << static_cast<int>(p.scheduler)
      << (p.preemption ? ", preemption" : "");
}

std::string CaseName(const ::testing::TestParamInfo<Params>& info) {
  static const char* kNames[] = {"fifo", "fair", "priority"};
  return "seed" + std::to_string(info.param.seed) + "_" +
         kNames[static_cast<int>(info.param.scheduler)] +
         (info.param.preemption ? "_preemption" : "");
}

INSTANTIATE_TEST_SUITE_P(Seeds, SlotManagerRandomTest,
                         ::testing::Values(Params{1, SchedulerKind::kFifo, false},
                                           Params{2, SchedulerKind::kFair, false},
                                           Params{3, SchedulerKind::kPriority, false},
                                           Params{4, SchedulerKind::kPriority, true},
                                           Params{5, SchedulerKind::kFair, false},
                                           Params{6, SchedulerKind::kPriority, true}),
                         CaseName);

}  // namespace
}  // namespace sluice
