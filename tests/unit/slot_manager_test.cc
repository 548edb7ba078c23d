// Slot allocation rules, driven step by step with a fake clock.
#include "resourcemanager/slot_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/clock.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

ResourceProfile Cpu(double cores, double gpu = 0) {
  ResourceProfile p;
  p.cpu_cores = cores;
  p.memory_bytes = static_cast<int64_t>(cores * (1 << 30));
  if (gpu > 0) p.extended["gpu"] = gpu;
  return p;
}

class SlotManagerTest : public ::testing::Test {
 protected:
  void Make(SlotManagerOptions options = {}, Tenants tenants = {}) {
    sm_ = std::make_unique<SlotManager>(&clock_, options, std::move(tenants));
  }
  void SetUp() override { Make(); }
  void TearDown() override {
    auto violation = sm_->CheckInvariants();
    EXPECT_FALSE(violation.has_value()) << *violation;
  }

  SlotManagerEffects AddTm(const std::string& id, int slots, ResourceProfile per_slot = Cpu(1),
                           const std::string& tenant = "") {
    std::vector<SlotState> states;
    for (int i = 0; i < slots; ++i) states.push_back(SlotState{i, per_slot, "", ""});
    SlotManagerEffects effects;
    sm_->AddTaskManager(id, tenant, states, &effects);
    return effects;
  }

  static JobDeclaration Job(const std::string& id, int desired, int min = -1,
                            ResourceProfile profile = {}, const std::string& tenant = "",
                            int priority = 0) {
    JobDeclaration d;
    d.job_id = id;
    d.job_master = "jm-1";
    d.tenant = tenant;
    d.priority = priority;
    d.requirements.push_back({profile, desired, min < 0 ? desired : min});
    return d;
  }

  SlotManagerEffects Declare(const JobDeclaration& d) {
    SlotManagerEffects effects;
    absl::Status status = sm_->Declare(d, &effects);
    EXPECT_TRUE(status.ok()) << status;
    return effects;
  }

  // The TaskManagers take every requested slot.
  void Accept(const SlotManagerEffects& effects) {
    for (const auto& r : effects.requests) sm_->SlotRequestAccepted(r.allocation_id);
  }

  int Held(const std::string& job) {
    for (const auto& view : sm_->JobViews()) {
      if (view.job_id == job) return view.slots;
    }
    return 0;
  }

  static std::map<std::string, int> PerTm(const SlotManagerEffects& effects) {
    std::map<std::string, int> out;
    for (const auto& r : effects.requests) ++out[r.task_manager];
    return out;
  }

  FakeClock clock_;
  std::unique_ptr<SlotManager> sm_;
};

TEST_F(SlotManagerTest, UnspecifiedProfileFitsAnySlotAndEveryDimensionMustFit) {
  AddTm("plain", 2, Cpu(1));
  AddTm("gpu", 2, Cpu(1, 1));
  auto any = Declare(Job("any", 1));
  ASSERT_EQ(any.requests.size(), 1u);
  EXPECT_EQ(any.requests[0].task_manager, "plain") << "a plain request keeps GPU slots free";
  auto gpu = Declare(Job("gpu-job", 2, 2, Cpu(0.5, 1)));
  EXPECT_EQ(PerTm(gpu), (std::map<std::string, int>{{"gpu", 2}}));
  auto big = Declare(Job("big", 1, 1, Cpu(2)));
  EXPECT_TRUE(big.requests.empty());
  ASSERT_EQ(sm_->Waiting().size(), 1u);
  EXPECT_EQ(sm_->Waiting()[0].reason, "no free slot fits");
}

TEST_F(SlotManagerTest, SpreadTakesTheTaskManagerWithTheMostFreeSlots) {
  AddTm("a", 4);
  AddTm("b", 4);
  AddTm("c", 4);
  auto first = Declare(Job("j1", 3));
  EXPECT_EQ(PerTm(first), (std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}}));
  auto second = Declare(Job("j2", 4));
  EXPECT_EQ(PerTm(second), (std::map<std::string, int>{{"a", 2}, {"b", 1}, {"c", 1}}))
      << "ties go to the smallest id, then the most free";
}

TEST_F(SlotManagerTest, PackFillsTheMostUsedTaskManagerFirst) {
  SlotManagerOptions options;
  options.placement = Placement::kPack;
  Make(options);
  AddTm("a", 4);
  AddTm("b", 4);
  AddTm("c", 4);
  EXPECT_EQ(PerTm(Declare(Job("j1", 3))), (std::map<std::string, int>{{"a", 3}}));
  EXPECT_EQ(PerTm(Declare(Job("j2", 3))), (std::map<std::string, int>{{"a", 1}, {"b", 2}}));
  // A per-job override, and a minimum number of TaskManagers.
  JobDeclaration spread = Job("j3", 2);
  spread.placement = Placement::kSpread;
  EXPECT_EQ(PerTm(Declare(spread)), (std::map<std::string, int>{{"c", 2}}));
  JobDeclaration wide = Job("j4", 2);
  wide.min_task_managers = 2;
  EXPECT_EQ(PerTm(Declare(wide)), (std::map<std::string, int>{{"b", 1}, {"c", 1}}));
}

TEST_F(SlotManagerTest, MinTaskManagersThatCannotBeMetWaits) {
  AddTm("a", 4);
  JobDeclaration wide = Job("wide", 2);
  wide.min_task_managers = 2;
  EXPECT_TRUE(Declare(wide).requests.empty());
  EXPECT_EQ(sm_->Waiting().at(0).reason, "too few TaskManagers have a fitting free slot");
  EXPECT_EQ(PerTm(AddTm("b", 4)), (std::map<std::string, int>{{"a", 1}, {"b", 1}}));
}

TEST_F(SlotManagerTest, GangsAreGrantedWholeOrNotAtAll) {
  AddTm("a", 4);
  EXPECT_EQ(Declare(Job("first", 3)).requests.size(), 3u);
  auto second = Declare(Job("second", 3));
  EXPECT_TRUE(second.requests.empty()) << "no partial grant that would deadlock";
  EXPECT_EQ(Held("second"), 0);
  EXPECT_EQ(sm_->slots_free(), 1);
  EXPECT_EQ(AddTm("b", 2).requests.size(), 3u);
  EXPECT_EQ(Held("second"), 3);
}

TEST_F(SlotManagerTest, AJobStartsWithItsMinimumAndTopsUpLater) {
  AddTm("a", 4);
  EXPECT_EQ(Declare(Job("elastic", 6, 2)).requests.size(), 4u);
  EXPECT_EQ(Held("elastic"), 4);
  EXPECT_EQ(AddTm("b", 4).requests.size(), 2u);
  EXPECT_EQ(Held("elastic"), 6);
}

TEST_F(SlotManagerTest, WaitingRequestsAreServedWhenATaskManagerJoins) {
  auto effects = Declare(Job("j", 2));
  EXPECT_TRUE(effects.requests.empty());
  clock_.Advance(absl::Seconds(3));
  auto joined = AddTm("a", 2);
  ASSERT_EQ(joined.requests.size(), 2u);
  EXPECT_EQ(joined.requests[0].job_master, "jm-1");
  ASSERT_EQ(joined.grant_latencies.size(), 1u);
  EXPECT_EQ(joined.grant_latencies[0], absl::Seconds(3));
}

TEST_F(SlotManagerTest, RequestTimeoutExplainsWhatIsMissing) {
  AddTm("a", 2);
  Declare(Job("greedy", 5, 5, Cpu(1)));
  clock_.Advance(absl::Minutes(5) - absl::Seconds(1));
  SlotManagerEffects effects;
  sm_->Tick(&effects);
  EXPECT_TRUE(effects.failures.empty());
  clock_.Advance(absl::Seconds(1));
  sm_->Tick(&effects);
  ASSERT_EQ(effects.failures.size(), 1u);
  const std::string& message = effects.failures[0].message;
  EXPECT_THAT(message,
              HasSubstr("job 'greedy' of tenant 'default' could not get 5 slots of {cpu 1, "
                        "memory 1.0 GiB} (2 free slots fit) within 5 min"));
  EXPECT_THAT(message, HasSubstr("the cluster has 2 free of 2 slots on 1 TaskManagers"));
  EXPECT_THAT(message, HasSubstr("waiting because: no free slot fits"));
  EXPECT_TRUE(sm_->Waiting().empty());
}

TEST_F(SlotManagerTest, ActiveReleaseFreesAtOnceForWaitingJobs) {
  AddTm("a", 2);
  auto first = Declare(Job("first", 2));
  Declare(Job("second", 1));
  SlotManagerEffects effects;
  sm_->FreeSlot(first.requests[0].allocation_id, &effects);
  ASSERT_EQ(effects.requests.size(), 1u);
  EXPECT_EQ(effects.requests[0].job_id, "second");
  EXPECT_EQ(effects.requests[0].slot_index, first.requests[0].slot_index);
  sm_->FreeSlot(first.requests[0].allocation_id, &effects);  // idempotent
  SlotManagerEffects released;
  sm_->ReleaseJob("first", &released);
  EXPECT_EQ(released.frees.size(), 1u);
  EXPECT_EQ(sm_->slots_free(), 1);
}

TEST_F(SlotManagerTest, LostTaskManagerReportsAllocationsLostAndJobsTopUpElsewhere) {
  AddTm("a", 2);
  AddTm("b", 2);
  Declare(Job("j", 2, 1));
  SlotManagerEffects effects;
  sm_->RemoveTaskManager("a", "heartbeat timeout", &effects);
  ASSERT_EQ(effects.revocations.size(), 1u);
  EXPECT_EQ(effects.revocations[0].slot.job_id, "j");
  EXPECT_THAT(effects.revocations[0].reason, HasSubstr("TaskManager 'a' was lost"));
  EXPECT_FALSE(effects.revocations[0].preempted);
  ASSERT_EQ(effects.requests.size(), 1u);
  EXPECT_EQ(effects.requests[0].task_manager, "b");
  EXPECT_EQ(Held("j"), 2);
  EXPECT_EQ(sm_->slots_total(), 2);
}

TEST_F(SlotManagerTest, LostJobMasterKeepsSlotsUntilJobTimeoutUnlessItReturns) {
  AddTm("a", 4);
  Accept(Declare(Job("j", 2)));
  SlotManagerEffects effects;
  sm_->JobMasterLost("jm-1", &effects);
  clock_.Advance(absl::Seconds(59));
  sm_->Tick(&effects);
  EXPECT_EQ(Held("j"), 2);
  Declare(Job("j", 2));  // the JobMaster came back and re-declared
  clock_.Advance(absl::Minutes(2));
  sm_->Tick(&effects);
  EXPECT_EQ(Held("j"), 2);
  sm_->JobMasterLost("jm-1", &effects);
  clock_.Advance(absl::Minutes(1));
  sm_->Tick(&effects);
  EXPECT_EQ(Held("j"), 0);
  EXPECT_EQ(effects.frees.size(), 2u);
  EXPECT_EQ(sm_->slots_free(), 4);
}

TEST_F(SlotManagerTest, ReservedSlotsGoOnlyToUrgentJobs) {
  SlotManagerOptions options;
  options.reserved_slots = 2;
  options.reserved_min_priority = 100;
  Make(options);
  AddTm("a", 4);
  EXPECT_EQ(Declare(Job("ordinary", 4, 1, {}, "", 10)).requests.size(), 2u);
  EXPECT_EQ(sm_->Waiting().at(0).reason, "the remaining free slots are reserved for urgent jobs");
  EXPECT_EQ(Declare(Job("urgent", 2, 2, {}, "", 100)).requests.size(), 2u);
}

TEST_F(SlotManagerTest, FifoServesInDeclarationOrder) {
  SlotManagerOptions options;
  options.scheduler = SchedulerKind::kFifo;
  Make(options);
  Declare(Job("early", 1, 1, {}, "", 0));
  Declare(Job("late", 1, 1, {}, "", 50));
  EXPECT_EQ(AddTm("a", 1).requests.at(0).job_id, "early");
}

TEST_F(SlotManagerTest, PriorityServesHigherFirstAndFifoWithinALevel) {
  SlotManagerOptions options;
  options.scheduler = SchedulerKind::kPriority;
  Make(options);
  Declare(Job("low", 1, 1, {}, "", 1));
  Declare(Job("high-early", 1, 1, {}, "", 5));
  Declare(Job("high-late", 1, 1, {}, "", 5));
  EXPECT_EQ(AddTm("a", 1).requests.at(0).job_id, "high-early");
  EXPECT_EQ(AddTm("b", 1).requests.at(0).job_id, "high-late");
  EXPECT_EQ(AddTm("c", 1).requests.at(0).job_id, "low");
}

TEST_F(SlotManagerTest, PreemptionTakesSlotsFromLowerPriorityJobsLowestFirst) {
  SlotManagerOptions options;
  options.scheduler = SchedulerKind::kPriority;
  options.preemption = true;
  Make(options);
  AddTm("a", 4);
  Declare(Job("lowest", 2, 1, {}, "", 1));
  Declare(Job("middle", 2, 1, {}, "", 2));
  auto urgent = Declare(Job("urgent", 2, 2, {}, "", 3));
  ASSERT_EQ(urgent.revocations.size(), 2u);
  for (const auto& r : urgent.revocations) {
    EXPECT_EQ(r.slot.job_id, "lowest");
    EXPECT_TRUE(r.preempted);
    EXPECT_EQ(r.reason, "preempted by job 'urgent' (priority 3)");
  }
  EXPECT_EQ(urgent.frees.size(), 2u);
  EXPECT_EQ(urgent.requests.size(), 2u);
  EXPECT_EQ(Held("urgent"), 2);
  EXPECT_EQ(Held("middle"), 2);
  EXPECT_EQ(Held("lowest"), 0);
  // Equal priority never preempts: "middle" keeps its slots.
  EXPECT_TRUE(Declare(Job("peer", 1, 1, {}, "", 2)).revocations.empty());
  EXPECT_EQ(Held("middle"), 2);
}

TEST_F(SlotManagerTest, FairSharingGivesFreedSlotsToTheSmallestWeightedDominantShare) {
  Tenants tenants;
  tenants.Add(Tenant{"a", 1.0, {}, ""});
  tenants.Add(Tenant{"b", 1.0, {}, ""});
  tenants.Add(Tenant{"c", 3.0, {}, ""});
  Make({}, tenants);
  AddTm("tm", 6);
  Declare(Job("a1", 4, 1, {}, "a"));
  EXPECT_EQ(Held("a1"), 4);
  Declare(Job("b1", 2, 1, {}, "b"));
  EXPECT_EQ(Held("b1"), 2);
  Declare(Job("a2", 1, 1, {}, "a"));
  Declare(Job("b2", 1, 1, {}, "b"));
  // One slot comes free: tenant b (share 2/6) is below tenant a (4/6).
  SlotManagerEffects effects;
  sm_->ReleaseJob("a1", &effects);
  // Four slots free: a2, b2 and a1's left-overs split by share; both waiting jobs get one.
  EXPECT_EQ(Held("a2"), 1);
  EXPECT_EQ(Held("b2"), 1);
  // Weight: c (weight 3) with 3 slots has a smaller weighted share than b with 2.
  Declare(Job("c1", 3, 1, {}, "c"));
  Declare(Job("b3", 3, 1, {}, "b"));
  AddTm("tm2", 1);
  EXPECT_EQ(Held("c1"), 3);
  EXPECT_EQ(Held("b3"), 0);
  AddTm("tm3", 1);
  EXPECT_EQ(Held("c1"), 3) << "c1 is satisfied";
  EXPECT_EQ(Held("b3"), 1);
}

TEST_F(SlotManagerTest, FairSharingHoldsFreeSlotsForABlockedGangOfASmallerShare) {
  Tenants tenants;
  tenants.Add(Tenant{"a", 1.0, {}, ""});
  tenants.Add(Tenant{"b", 1.0, {}, ""});
  Make({}, tenants);
  AddTm("tm", 4);
  Declare(Job("a1", 3, 3, {}, "a"));
  EXPECT_TRUE(Declare(Job("b-big", 3, 3, {}, "b")).requests.empty());
  EXPECT_TRUE(Declare(Job("a-small", 1, 1, {}, "a")).requests.empty())
      << "the free slot is held for tenant b's gang";
  EXPECT_EQ(sm_->slots_free(), 1);
  SlotManagerEffects effects;
  sm_->ReleaseJob("a1", &effects);
  EXPECT_EQ(Held("b-big"), 3);
  EXPECT_EQ(Held("a-small"), 1);
}

TEST_F(SlotManagerTest, DrfComparesTheDominantResource) {
  Tenants tenants;
  tenants.Add(Tenant{"cpu-heavy", 1.0, {}, ""});
  tenants.Add(Tenant{"gpu-heavy", 1.0, {}, ""});
  Make({}, tenants);
  AddTm("plain", 6, Cpu(1));
  AddTm("gpus", 2, Cpu(1, 1));
  Declare(Job("g", 1, 1, Cpu(1, 1), "gpu-heavy"));  // 1 of 2 GPUs: dominant share 50%
  Declare(Job("c", 3, 1, Cpu(1), "cpu-heavy"));     // 3 of 8 slots: 37.5%
  EXPECT_EQ(Held("c"), 3);
  Declare(Job("g2", 1, 1, Cpu(1), "gpu-heavy"));
  Declare(Job("c2", 1, 1, Cpu(1), "cpu-heavy"));
  // One plain slot left (plus a GPU slot): cpu-heavy's 37.5% < gpu-heavy's 50%.
  SlotManagerEffects effects;
  sm_->RemoveTaskManager("gpus", "test", &effects);
  AddTm("one-more", 1, Cpu(1));
  EXPECT_EQ(Held("c2"), 1);
}

TEST_F(SlotManagerTest, QuotasWaitRefuseAndCheckTokens) {
  Tenants tenants;
  TenantQuota quota;
  quota.max_slots = 2;
  tenants.Add(Tenant{"team", 1.0, quota, "s3cret"});
  Make({}, tenants);
  AddTm("a", 4);
  SlotManagerEffects effects;
  JobDeclaration too_big = Job("too-big", 3, 3, {}, "team");
  too_big.token = "s3cret";
  absl::Status refused = sm_->Declare(too_big, &effects);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("needs at least 3 slots ({any}) but the quota of tenant 'team' is 2 "
                        "slots: it could never run"));
  JobDeclaration wrong = Job("j", 1, 1, {}, "team");
  wrong.token = "guess";
  EXPECT_EQ(sm_->Declare(wrong, &effects).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(sm_->Declare(Job("j", 1, 1, {}, "nobody"), &effects).code(),
            absl::StatusCode::kNotFound);
  JobDeclaration elastic = Job("elastic", 3, 1, {}, "team");
  elastic.token = "s3cret";
  EXPECT_EQ(Declare(elastic).requests.size(), 2u);
  EXPECT_EQ(sm_->Waiting().at(0).reason, "tenant quota");
  EXPECT_EQ(sm_->slots_free(), 2);
}

TEST_F(SlotManagerTest, DedicatedTaskManagersServeOnlyTheirTenant) {
  Tenants tenants;
  tenants.Add(Tenant{"gold", 1.0, {}, ""});
  Make({}, tenants);
  AddTm("shared", 2);
  AddTm("gold-only", 2, Cpu(1), "gold");
  EXPECT_TRUE(Declare(Job("other", 3)).requests.empty())
      << "the gang waits rather than landing on another tenant's TaskManager";
  EXPECT_EQ(Held("other"), 0);
  EXPECT_EQ(PerTm(Declare(Job("mine", 1, 1, {}, "gold"))),
            (std::map<std::string, int>{{"gold-only", 1}}))
      << "a tenant's own TaskManagers come first";
}

TEST_F(SlotManagerTest, SlotAlreadyTakenOnTheTaskManagerCorrectsTheViewAndPicksAgain) {
  AddTm("a", 1);
  AddTm("b", 1);
  auto first = Declare(Job("j", 1));
  ASSERT_EQ(first.requests.size(), 1u);
  const SlotGrant taken = first.requests[0];
  SlotManagerEffects effects;
  sm_->SlotRequestRejected(taken.allocation_id, "ghost-job", "ghost-alloc", &effects);
  ASSERT_EQ(effects.requests.size(), 1u);
  EXPECT_NE(effects.requests[0].task_manager, taken.task_manager);
  auto slots = sm_->SlotsOf(taken.task_manager);
  EXPECT_EQ(slots.at(0).allocation_id, "ghost-alloc");
  EXPECT_EQ(slots.at(0).job_id, "ghost-job");
}

TEST_F(SlotManagerTest, UnansweredSlotRequestIsRetriedElsewhere) {
  AddTm("a", 1);
  AddTm("b", 1);
  auto first = Declare(Job("j", 1));
  SlotManagerEffects effects;
  clock_.Advance(absl::Seconds(10));
  sm_->Tick(&effects);
  ASSERT_EQ(effects.frees.size(), 1u);
  EXPECT_EQ(effects.frees[0].allocation_id, first.requests[0].allocation_id);
  ASSERT_EQ(effects.requests.size(), 1u);
  EXPECT_EQ(Held("j"), 1);
}

TEST_F(SlotManagerTest, ATaskManagerLeavingARequestUnansweredGetsNoMoreUntilItRegistersAgain) {
  AddTm("silent", 2);
  auto first = Declare(Job("j", 1));
  ASSERT_EQ(first.requests.size(), 1u);
  EXPECT_EQ(first.requests[0].task_manager, "silent");
  SlotManagerEffects effects;
  clock_.Advance(absl::Seconds(10));
  sm_->Tick(&effects);
  EXPECT_EQ(effects.unresponsive, std::vector<std::string>{"silent"});
  EXPECT_TRUE(effects.requests.empty()) << "its other free slot is not tried either";
  EXPECT_EQ(Held("j"), 0);

  auto joined = AddTm("b", 1);
  ASSERT_EQ(joined.requests.size(), 1u) << "a responsive TaskManager serves the job";
  EXPECT_EQ(joined.requests[0].task_manager, "b");
  AddTm("silent", 2);
  Declare(Job("k", 1));
  EXPECT_EQ(Held("k"), 1) << "registered again, it is placed on again";
}

TEST_F(SlotManagerTest, ARestartedResourceManagerAdoptsRunningAllocations) {
  std::vector<SlotState> report;
  for (int i = 0; i < 3; ++i) report.push_back(SlotState{i, Cpu(1), "", ""});
  report[0].job_id = report[1].job_id = "survivor";
  report[0].allocation_id = "old-1";
  report[1].allocation_id = "old-2";
  SlotManagerEffects effects;
  sm_->AddTaskManager("a", "", report, &effects);
  EXPECT_EQ(sm_->slots_free(), 1) << "running allocations are not handed out again";
  auto declared = Declare(Job("survivor", 2));
  EXPECT_TRUE(declared.requests.empty()) << "the job already holds what it needs";
  EXPECT_EQ(Held("survivor"), 2);
  EXPECT_TRUE(sm_->Waiting().empty());
}

TEST_F(SlotManagerTest, AReportOlderThanTheTaskManagersAnswerIsIgnored) {
  AddTm("a", 1);
  auto granted = Declare(Job("j", 1));
  ASSERT_EQ(granted.requests.size(), 1u);
  std::vector<SlotState> stale = sm_->SlotsOf("a");
  stale[0].allocation_id.clear();
  stale[0].job_id.clear();
  SlotManagerEffects effects;
  sm_->ReconcileSlotReport("a", stale, &effects, 4);
  sm_->SlotRequestAccepted(granted.requests[0].allocation_id, 6);
  // A heartbeat built before the TaskManager took the slot arrives late.
  sm_->ReconcileSlotReport("a", stale, &effects, 5);
  EXPECT_TRUE(effects.revocations.empty());
  EXPECT_EQ(Held("j"), 1);
  // A newer report that shows the slot free does free it.
  sm_->ReconcileSlotReport("a", stale, &effects, 7);
  EXPECT_EQ(effects.revocations.size(), 1u);
}

TEST_F(SlotManagerTest, SlotReportsRepairDrift) {
  AddTm("a", 3);
  auto granted = Declare(Job("j", 2));
  ASSERT_EQ(granted.requests.size(), 2u);
  std::vector<SlotState> report = sm_->SlotsOf("a");
  // The report still shows both requested slots free: requests in flight stay.
  for (auto& s : report) s.allocation_id.clear(), s.job_id.clear();
  SlotManagerEffects effects;
  sm_->ReconcileSlotReport("a", report, &effects);
  EXPECT_EQ(Held("j"), 2);
  // Confirmed, then the TaskManager frees one and runs an unknown allocation in another.
  sm_->SlotRequestAccepted(granted.requests[0].allocation_id);
  sm_->SlotRequestAccepted(granted.requests[1].allocation_id);
  report = sm_->SlotsOf("a");
  int freed = granted.requests[0].slot_index;
  int spare = 3 - granted.requests[0].slot_index - granted.requests[1].slot_index;
  report[freed].allocation_id.clear();
  report[freed].job_id.clear();
  report[spare].allocation_id = "foreign";
  report[spare].job_id = "other";
  sm_->ReconcileSlotReport("a", report, &effects);
  ASSERT_EQ(effects.revocations.size(), 1u);
  EXPECT_EQ(effects.revocations[0].slot.allocation_id, granted.requests[0].allocation_id);
  // j re-requests its second slot: the freed one is the only free slot left.
  ASSERT_EQ(effects.requests.size(), 1u);
  EXPECT_EQ(effects.requests[0].slot_index, freed);
  EXPECT_EQ(sm_->slots_free(), 0);
}

TEST_F(SlotManagerTest, ATaskManagerRegisteringAgainWithItsAllocationsKeepsThemForTheirJobs) {
  AddTm("a", 2);
  auto granted = Declare(Job("j", 2));
  Accept(granted);
  ASSERT_EQ(granted.requests.size(), 2u);
  // Its stream broke (or this ResourceManager was paused): it registers
  // again, reporting one allocation still held and one freed meanwhile.
  std::vector<SlotState> report;
  for (const auto& r : granted.requests) {
    report.push_back(SlotState{r.slot_index, Cpu(1), "", ""});
  }
  report[0].allocation_id = granted.requests[0].allocation_id;
  report[0].job_id = "j";
  SlotManagerEffects effects;
  sm_->RemoveTaskManager("a", "it registered again", &effects, SlotManager::HeldIn(report));
  sm_->AddTaskManager("a", "", report, &effects);
  ASSERT_EQ(effects.revocations.size(), 1u) << "only the freed one is lost to the job";
  EXPECT_EQ(effects.revocations[0].slot.allocation_id, granted.requests[1].allocation_id);
  EXPECT_EQ(Held("j"), 2) << "the kept one, and a new request for the other";
}

}  // namespace
}  // namespace sluice
