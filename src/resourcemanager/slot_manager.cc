#include "resourcemanager/slot_manager.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/check.h"
#include "common/config/value_parsers.h"

namespace sluice {
namespace {

constexpr char kNoFit[] = "no free slot fits";
constexpr char kQuota[] = "tenant quota";
constexpr char kReserved[] = "the remaining free slots are reserved for urgent jobs";
constexpr char kHeldBack[] = "free slots are held for a job with a smaller fair share";
constexpr char kTooFewTms[] = "too few TaskManagers have a fitting free slot";

std::string DescribeProfile(const ResourceProfile& p) {
  if (p == ResourceProfile{}) return "{any}";
  std::vector<std::string> parts;
  if (p.cpu_cores > 0) parts.push_back(absl::StrCat("cpu ", p.cpu_cores));
  if (p.memory_bytes > 0) parts.push_back(absl::StrCat("memory ", FormatBytes(p.memory_bytes)));
  if (p.network_bytes_per_second > 0) {
    parts.push_back(absl::StrCat("network ", FormatBytes(p.network_bytes_per_second), "/s"));
  }
  for (const auto& [name, amount] : p.extended) parts.push_back(absl::StrCat(name, " ", amount));
  return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
}

ResourceProfile Times(const ResourceProfile& p, int n) {
  ResourceProfile out;
  for (int i = 0; i < n; ++i) out += p;
  return out;
}

}  // namespace

const char* SchedulerName(SchedulerKind kind) {
  switch (kind) {
    case SchedulerKind::kFifo:
      return "fifo";
    case SchedulerKind::kFair:
      return "fair";
    case SchedulerKind::kPriority:
      return "priority";
  }
  return "unknown";
}

std::optional<SchedulerKind> ParseScheduler(const std::string& name) {
  for (auto kind : {SchedulerKind::kFifo, SchedulerKind::kFair, SchedulerKind::kPriority}) {
    if (name == SchedulerName(kind)) return kind;
  }
  return std::nullopt;
}

const char* PlacementName(Placement placement) {
  return placement == Placement::kSpread ? "spread" : "pack";
}

std::optional<Placement> ParsePlacement(const std::string& name) {
  if (name == "spread") return Placement::kSpread;
  if (name == "pack") return Placement::kPack;
  return std::nullopt;
}

SlotManager::SlotManager(const Clock* clock, SlotManagerOptions options, Tenants tenants)
    : clock_(clock), options_(std::move(options)), tenants_(std::move(tenants)) {}

// ---------------------------------------------------------------------------
// Slot bookkeeping

void SlotManager::Occupy(const std::string& tm, int index, const std::string& allocation,
                         Phase phase) {
  Slot& slot = task_managers_.at(tm).slots.at(index);
  slot.phase = phase;
  slot.allocation = allocation;
  slot.pending_since = clock_->Now();
  if (InPlacement(tm)) index_.Adjust(slot.class_id, tm, -1);
  --slots_free_;
  used_ += slot.profile;
}

void SlotManager::Vacate(const std::string& tm, int index) {
  Slot& slot = task_managers_.at(tm).slots.at(index);
  slot.phase = Phase::kFree;
  slot.allocation.clear();
  if (InPlacement(tm)) index_.Adjust(slot.class_id, tm, +1);
  ++slots_free_;
  used_ -= slot.profile;
}

// Its free slots leave the index, so neither picks nor the counts of what
// could be served see them.
void SlotManager::TakeOutOfPlacement(const std::string& tm, SlotManagerEffects* effects) {
  if (!unresponsive_.insert(tm).second) return;
  effects->unresponsive.push_back(tm);
  for (const auto& [index, slot] : task_managers_.at(tm).slots) {
    if (slot.phase == Phase::kFree) index_.Adjust(slot.class_id, tm, -1);
  }
}

void SlotManager::Bind(Job& job, const Pick& pick, const std::string& allocation) {
  const ResourceProfile& profile =
      task_managers_.at(pick.task_manager).slots.at(pick.index).profile;
  allocations_[allocation] =
      Allocation{job.declaration.job_id, pick.task_manager, pick.index, pick.requirement};
  job.allocations.insert(allocation);
  ++job.slots;
  job.held += profile;
  if (pick.requirement >= 0) ++job.held_per_requirement[pick.requirement];
  TenantUsage& usage = tenant_usage_[job.tenant->name];
  ++usage.slots;
  usage.held += profile;
}

void SlotManager::Adopt(Job& job, const std::string& allocation) {
  Allocation& a = allocations_.at(allocation);
  const ResourceProfile& profile = task_managers_.at(a.task_manager).slots.at(a.index).profile;
  // Count it toward the first requirement it serves.
  const auto& reqs = job.declaration.requirements;
  for (int r = 0; r < static_cast<int>(reqs.size()); ++r) {
    if (job.held_per_requirement[r] < reqs[r].desired && profile.Fits(reqs[r].profile)) {
      a.requirement = r;
      break;
    }
  }
  Bind(job, Pick{a.task_manager, a.index, a.requirement}, allocation);
  job.started = true;
}

void SlotManager::Unbind(const std::string& allocation) {
  auto it = allocations_.find(allocation);
  if (it == allocations_.end()) return;
  const Allocation& a = it->second;
  if (auto orphans = orphans_.find(a.job); orphans != orphans_.end()) {
    orphans->second.erase(allocation);
    if (orphans->second.empty()) orphans_.erase(orphans);
  }
  auto job_it = jobs_.find(a.job);
  if (job_it != jobs_.end() && job_it->second.allocations.erase(allocation) > 0) {
    Job& job = job_it->second;
    const ResourceProfile& profile = task_managers_.at(a.task_manager).slots.at(a.index).profile;
    --job.slots;
    job.held -= profile;
    if (a.requirement >= 0 && a.requirement < static_cast<int>(job.held_per_requirement.size())) {
      --job.held_per_requirement[a.requirement];
    }
    TenantUsage& usage = tenant_usage_[job.tenant->name];
    --usage.slots;
    usage.held -= profile;
  }
  allocations_.erase(it);
}

SlotGrant SlotManager::GrantOf(const std::string& allocation) const {
  const Allocation& a = allocations_.at(allocation);
  SlotGrant grant;
  grant.allocation_id = allocation;
  grant.job_id = a.job;
  if (auto job = jobs_.find(a.job); job != jobs_.end()) {
    grant.tenant = job->second.tenant->name;
    grant.job_master = job->second.declaration.job_master;
  }
  grant.task_manager = a.task_manager;
  grant.slot_index = a.index;
  grant.profile = task_managers_.at(a.task_manager).slots.at(a.index).profile;
  return grant;
}

std::string SlotManager::NewAllocationId() {
  return absl::StrFormat("%s-%08d", options_.allocation_prefix, ++next_allocation_);
}

// ---------------------------------------------------------------------------
// TaskManagers

void SlotManager::AddTaskManager(const std::string& id, const std::string& tenant,
                                 const std::vector<SlotState>& slots, SlotManagerEffects* effects) {
  if (task_managers_.count(id) != 0) {
    RemoveTaskManager(id, "it registered again", effects, HeldIn(slots));
  }
  TaskManagerSlots& tm = task_managers_[id];
  tm.tenant = tenant;
  for (const auto& s : slots) {
    Slot slot;
    slot.profile = s.profile;
    slot.class_id = index_.ClassOf(s.profile, tenant);
    tm.slots.emplace(s.index, slot);
    index_.Adjust(slot.class_id, id, +1);
    ++slots_total_;
    ++slots_free_;
    capacity_ += s.profile;
  }
  ReconcileSlotReport(id, slots, effects);
  Schedule(effects);
}

std::set<std::string> SlotManager::HeldIn(const std::vector<SlotState>& report) {
  std::set<std::string> held;
  for (const SlotState& slot : report) {
    if (!slot.IsFree()) held.insert(slot.allocation_id);
  }
  return held;
}

void SlotManager::RemoveTaskManager(const std::string& id, const std::string& why,
                                    SlotManagerEffects* effects,
                                    const std::set<std::string>& still_held) {
  auto it = task_managers_.find(id);
  if (it == task_managers_.end()) return;
  for (auto& [index, slot] : it->second.slots) {
    if (slot.phase != Phase::kFree) {
      std::string allocation = slot.allocation;
      if (allocations_.count(allocation) && jobs_.count(allocations_.at(allocation).job) &&
          still_held.count(allocation) == 0) {
        effects->revocations.push_back(
            {GrantOf(allocation), absl::StrCat("TaskManager '", id, "' was lost: ", why), false});
      }
      Unbind(allocation);
      Vacate(id, index);
    }
    if (InPlacement(id)) index_.Adjust(slot.class_id, id, -1);
    --slots_total_;
    --slots_free_;
    capacity_ -= slot.profile;
  }
  task_managers_.erase(it);
  unresponsive_.erase(id);
  // Registering again: the registration schedules once its report is
  // adopted (now, the jobs would look short of the slots it still holds).
  if (still_held.empty()) Schedule(effects);
}

void SlotManager::ReconcileSlotReport(const std::string& id, const std::vector<SlotState>& report,
                                      SlotManagerEffects* effects, uint64_t version) {
  auto tm_it = task_managers_.find(id);
  if (tm_it == task_managers_.end()) return;
  if (version != 0) {
    if (version < tm_it->second.report_version) return;  // built before a change we know
    tm_it->second.report_version = version;
  }
  bool changed = false;
  for (const SlotState& reported : report) {
    auto slot_it = tm_it->second.slots.find(reported.index);
    if (slot_it == tm_it->second.slots.end()) continue;
    Slot& slot = slot_it->second;
    if (reported.IsFree()) {
      if (slot.phase != Phase::kAllocated) continue;  // free, or a request still in flight
      if (allocations_.count(slot.allocation) &&
          jobs_.count(allocations_.at(slot.allocation).job)) {
        effects->revocations.push_back(
            {GrantOf(slot.allocation), "the TaskManager freed the slot", false});
      }
      Unbind(slot.allocation);
      Vacate(id, reported.index);
      changed = true;
      continue;
    }
    if (slot.allocation == reported.allocation_id) {
      slot.phase = Phase::kAllocated;  // the report confirms a request in flight
      continue;
    }
    // The TaskManager runs another allocation there: it wins.
    if (slot.phase != Phase::kFree) {
      if (allocations_.count(slot.allocation) &&
          jobs_.count(allocations_.at(slot.allocation).job)) {
        effects->revocations.push_back(
            {GrantOf(slot.allocation),
             "the TaskManager reports the slot held by another allocation", false});
      }
      Unbind(slot.allocation);
      Vacate(id, reported.index);
    }
    Occupy(id, reported.index, reported.allocation_id, Phase::kAllocated);
    allocations_[reported.allocation_id] = Allocation{reported.job_id, id, reported.index, -1};
    auto job = jobs_.find(reported.job_id);
    if (job != jobs_.end()) {
      Adopt(job->second, reported.allocation_id);
    } else {
      // Its job may be declared again soon (a restarted ResourceManager).
      orphans_[reported.job_id].insert(reported.allocation_id);
    }
    changed = true;
  }
  if (changed) Schedule(effects);
}

// ---------------------------------------------------------------------------
// Jobs

absl::Status SlotManager::Declare(const JobDeclaration& declaration, SlotManagerEffects* effects) {
  if (declaration.job_id.empty()) return absl::InvalidArgumentError("declaration without a job id");
  auto tenant = tenants_.Authorize(declaration.tenant, declaration.token);
  if (!tenant.ok()) return tenant.status();
  int min_slots = 0;
  ResourceProfile min_held;
  for (const auto& r : declaration.requirements) {
    if (r.desired < 1 || r.min < 1 || r.min > r.desired) {
      return absl::InvalidArgumentError(absl::StrCat(
          "job '", declaration.job_id, "': a requirement needs 1 <= min <= desired, got min ",
          r.min, " and desired ", r.desired));
    }
    min_slots += r.min;
    min_held += Times(r.profile, r.min);
  }
  const TenantQuota& quota = (*tenant)->quota;
  if (!quota.Allows(min_slots, min_held)) {
    return absl::InvalidArgumentError(
        absl::StrCat("job '", declaration.job_id, "' needs at least ", min_slots, " slots (",
                     DescribeProfile(min_held), ") but the quota of tenant '", (*tenant)->name,
                     "' is ", quota.Describe(), ": it could never run"));
  }
  auto [it, inserted] = jobs_.try_emplace(declaration.job_id);
  Job& job = it->second;
  if (inserted) {
    job.sequence = ++next_sequence_;
    job.waiting_since = clock_->Now();
  } else if (job.tenant != *tenant && job.slots > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "job '", declaration.job_id, "' cannot change its tenant while holding slots"));
  }
  job.declaration = declaration;
  job.tenant = *tenant;
  job.master_lost_at.reset();
  job.held_per_requirement.resize(declaration.requirements.size(), 0);
  if (auto orphans = orphans_.extract(declaration.job_id)) {
    for (const auto& allocation : orphans.mapped()) Adopt(job, allocation);
  }
  Schedule(effects);
  return absl::OkStatus();
}

void SlotManager::ReleaseJob(const std::string& job_id, SlotManagerEffects* effects) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return;
  std::set<std::string> allocations = it->second.allocations;
  for (const auto& allocation : allocations) {
    effects->frees.push_back(GrantOf(allocation));
    const Allocation a = allocations_.at(allocation);
    Unbind(allocation);
    Vacate(a.task_manager, a.index);
  }
  jobs_.erase(it);
  Schedule(effects);
}

void SlotManager::DropJob(const std::string& job_id) {
  // Only jobs that never got their first grant are dropped: they hold nothing.
  SLUICE_CHECK(jobs_.at(job_id).allocations.empty(), "a dropped job must hold no slots");
  jobs_.erase(job_id);
}

void SlotManager::FreeSlot(const std::string& allocation_id, SlotManagerEffects* effects) {
  auto it = allocations_.find(allocation_id);
  if (it == allocations_.end()) return;  // already free: idempotent
  const Allocation a = it->second;
  Unbind(allocation_id);
  Vacate(a.task_manager, a.index);
  Schedule(effects);
}

void SlotManager::JobMasterLost(const std::string& job_master, SlotManagerEffects* effects) {
  for (auto& [id, job] : jobs_) {
    if (job.declaration.job_master == job_master && !job.master_lost_at) {
      job.master_lost_at = clock_->Now();
    }
  }
  Schedule(effects);  // slots held back for its jobs go to others
}

void SlotManager::SlotRequestAccepted(const std::string& allocation_id, uint64_t version) {
  auto it = allocations_.find(allocation_id);
  if (it == allocations_.end()) return;
  uint64_t& known = task_managers_.at(it->second.task_manager).report_version;
  known = std::max(known, version);
  Slot& slot = task_managers_.at(it->second.task_manager).slots.at(it->second.index);
  if (slot.allocation == allocation_id) slot.phase = Phase::kAllocated;
}

void SlotManager::SlotRequestRejected(const std::string& allocation_id,
                                      const std::string& occupant_job,
                                      const std::string& occupant_allocation,
                                      SlotManagerEffects* effects) {
  auto it = allocations_.find(allocation_id);
  if (it == allocations_.end()) return;
  const Allocation a = it->second;
  Unbind(allocation_id);
  Vacate(a.task_manager, a.index);
  if (!occupant_allocation.empty()) {
    // Correct the view with what the TaskManager really runs there.
    ReconcileSlotReport(
        a.task_manager,
        {SlotState{a.index, task_managers_.at(a.task_manager).slots.at(a.index).profile,
                   occupant_job, occupant_allocation}},
        effects);
  }
  Schedule(effects);
}

void SlotManager::Tick(SlotManagerEffects* effects) {
  const absl::Time now = clock_->Now();
  std::vector<std::string> gone;
  for (const auto& [id, job] : jobs_) {
    if (job.master_lost_at && now - *job.master_lost_at >= options_.job_timeout) gone.push_back(id);
  }
  for (const auto& id : gone) ReleaseJob(id, effects);
  // After the releases above (which may have served some), who still waits
  // for a first grant past the timeout fails with an explanation.
  std::vector<std::string> expired;
  for (const auto& [id, job] : jobs_) {
    if (!job.started && !job.master_lost_at && !job.declaration.requirements.empty() &&
        now - job.waiting_since >= options_.request_timeout) {
      expired.push_back(id);
    }
  }
  for (const auto& id : expired) {
    const Job& job = jobs_.at(id);
    effects->failures.push_back({id, job.declaration.job_master, DescribeShortage(job)});
    DropJob(id);
  }
  std::vector<std::string> stale;
  for (const auto& [allocation, a] : allocations_) {
    const Slot& slot = task_managers_.at(a.task_manager).slots.at(a.index);
    if (slot.phase == Phase::kPending && now - slot.pending_since >= options_.pending_timeout) {
      stale.push_back(allocation);
    }
  }
  for (const auto& allocation : stale) {
    if (allocations_.count(allocation) == 0) continue;  // settled meanwhile
    // A TaskManager that heartbeats but leaves requests unanswered (broken,
    // or claiming slots it does not serve) would get the retry too.
    TakeOutOfPlacement(allocations_.at(allocation).task_manager, effects);
    effects->frees.push_back(GrantOf(allocation));  // in case it arrives after all
    SlotRequestRejected(allocation, "", "", effects);
  }
  Schedule(effects);
}

// ---------------------------------------------------------------------------
// Scheduling

bool SlotManager::Usable(const Job& job) const {
  if (job.master_lost_at) return false;
  const auto& reqs = job.declaration.requirements;
  for (size_t r = 0; r < reqs.size(); ++r) {
    if (job.held_per_requirement[r] < reqs[r].desired) return true;
  }
  return false;
}

double SlotManager::DominantShare(int slots, const ResourceProfile& held, double weight) const {
  auto ratio = [](double used, double capacity) { return capacity > 0 ? used / capacity : 0.0; };
  double share = ratio(slots, slots_total_);
  share = std::max(share, ratio(held.cpu_cores, capacity_.cpu_cores));
  share = std::max(share, ratio(static_cast<double>(held.memory_bytes),
                                static_cast<double>(capacity_.memory_bytes)));
  share = std::max(share, ratio(static_cast<double>(held.network_bytes_per_second),
                                static_cast<double>(capacity_.network_bytes_per_second)));
  for (const auto& [name, amount] : held.extended) {
    auto cap = capacity_.extended.find(name);
    if (cap != capacity_.extended.end()) share = std::max(share, ratio(amount, cap->second));
  }
  return share / std::max(weight, 1e-9);
}

std::vector<SlotManager::Job*> SlotManager::SchedulingOrder() {
  using Key = std::tuple<double, double, double, uint64_t>;
  std::vector<std::pair<Key, Job*>> keyed;
  std::map<const Tenant*, double> tenant_share;
  for (auto& [id, job] : jobs_) {
    if (!Usable(job)) continue;
    Key key{0, 0, 0, job.sequence};
    if (options_.scheduler == SchedulerKind::kPriority) {
      std::get<0>(key) = -job.declaration.priority;
    } else if (options_.scheduler == SchedulerKind::kFair) {
      auto [share, fresh] = tenant_share.try_emplace(job.tenant, 0.0);
      if (fresh) {
        const TenantUsage& usage = tenant_usage_[job.tenant->name];
        share->second = DominantShare(usage.slots, usage.held, job.tenant->weight);
      }
      std::get<0>(key) = share->second;
      std::get<1>(key) = DominantShare(job.slots, job.held, 1.0);
    }
    keyed.emplace_back(key, &job);
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Job*> order;
  order.reserve(keyed.size());
  for (auto& [key, job] : keyed) order.push_back(job);
  return order;
}

void SlotManager::Schedule(SlotManagerEffects* effects) {
  // Preemption frees slots the victims may want back for their remaining
  // need; a few rounds settle it (a victim never preempts its preemptor).
  for (int round = 0; round < 4; ++round) {
    ServeWaiting(effects);
    if (!options_.preemption || options_.scheduler != SchedulerKind::kPriority) return;
    bool preempted = false;
    for (Job* job : SchedulingOrder()) {
      if (!job->started) preempted |= TryPreempt(*job, effects);
    }
    if (!preempted) return;
  }
  ServeWaiting(effects);
}

void SlotManager::ServeWaiting(SlotManagerEffects* effects) {
  bool progress = true;
  while (progress && slots_free_ > 0) {
    progress = false;
    hold_back_ = {};
    for (Job* job : SchedulingOrder()) {
      if (slots_free_ == 0) break;
      if (!TryServe(*job, effects)) {
        HoldBackFor(*job);
        continue;
      }
      progress = true;
      // Shares changed: fair sharing re-ranks after every grant.
      if (options_.scheduler == SchedulerKind::kFair) break;
    }
  }
  hold_back_ = {};
}

void SlotManager::HoldBackFor(const Job& job) {
  // Fair sharing: the most deserving job that cannot start for lack of free
  // slots keeps the free slots it needs from jobs of larger shares, so a big
  // gang is not starved by a stream of small ones.
  if (options_.scheduler != SchedulerKind::kFair || job.started || hold_back_.slots > 0 ||
      job.wait_reason != kNoFit) {
    return;
  }
  int min_slots = 0;
  for (const auto& r : job.declaration.requirements) min_slots += r.min;
  hold_back_ = HoldBack{job.declaration.job_id, std::min(slots_free_, min_slots)};
}

int SlotManager::SlotsToKeepFree(const Job& job) const {
  int keep =
      job.declaration.priority >= options_.reserved_min_priority ? 0 : options_.reserved_slots;
  if (hold_back_.slots > 0 && hold_back_.job != job.declaration.job_id) keep += hold_back_.slots;
  return keep;
}

bool SlotManager::PickSlots(Job& job, int requirement, int count, std::vector<Pick>& picks,
                            std::set<std::string>& used_tms) {
  const JobDeclaration& d = job.declaration;
  const ResourceProfile& profile = d.requirements[requirement].profile;
  const Placement placement = d.placement.value_or(options_.placement);
  const int keep_free = SlotsToKeepFree(job);
  const TenantQuota& quota = job.tenant->quota;
  int total_desired = 0;
  for (const auto& r : d.requirements) total_desired += r.desired;
  const int spread_over = job.started ? 0 : std::min(d.min_task_managers, total_desired);
  for (int n = 0; n < count; ++n) {
    if (keep_free > 0 && slots_free_ <= keep_free) {
      job.wait_reason = hold_back_.slots > 0 ? kHeldBack : kReserved;
      return false;
    }
    const bool distinct = static_cast<int>(used_tms.size()) < spread_over;
    auto choice = index_.Pick(profile, job.tenant->name, placement,
                              distinct ? used_tms : std::set<std::string>{});
    if (!choice) {
      job.wait_reason = distinct && !used_tms.empty() ? kTooFewTms : kNoFit;
      return false;
    }
    const auto& [class_id, tm] = *choice;
    int index = -1;
    for (const auto& [i, slot] : task_managers_.at(tm).slots) {
      if (slot.phase == Phase::kFree && slot.class_id == class_id) {
        index = i;
        break;
      }
    }
    const TenantUsage& usage = tenant_usage_[job.tenant->name];
    const ResourceProfile& slot_profile = task_managers_.at(tm).slots.at(index).profile;
    if (!quota.Allows(usage.slots + 1, usage.held + slot_profile)) {
      job.wait_reason = kQuota;
      return false;
    }
    std::string allocation = NewAllocationId();
    Occupy(tm, index, allocation, Phase::kPending);
    Pick pick{tm, index, requirement};
    Bind(job, pick, allocation);
    picks.push_back(pick);
    used_tms.insert(tm);
  }
  return true;
}

bool SlotManager::CannotStartYet(Job& job) {
  const JobDeclaration& d = job.declaration;
  int min_slots = 0;
  for (const auto& r : d.requirements) {
    min_slots += r.min;
    if (index_.FreeFitting(r.profile, job.tenant->name) < r.min) {
      job.wait_reason = kNoFit;
      return true;
    }
  }
  if (int keep = SlotsToKeepFree(job); keep > 0 && slots_free_ - keep < min_slots) {
    job.wait_reason = hold_back_.slots > 0 ? kHeldBack : kReserved;
    return true;
  }
  if (tenant_usage_[job.tenant->name].slots + min_slots > job.tenant->quota.max_slots) {
    job.wait_reason = kQuota;
    return true;
  }
  return false;
}

bool SlotManager::TryServe(Job& job, SlotManagerEffects* effects) {
  // Most waiting gangs cannot start; find out without tentative picks.
  if (!job.started && CannotStartYet(job)) return false;
  const auto& reqs = job.declaration.requirements;
  std::vector<Pick> picks;
  std::set<std::string> used_tms;
  bool enough = true;
  for (int r = 0; r < static_cast<int>(reqs.size()) && enough; ++r) {
    int want = reqs[r].desired - job.held_per_requirement[r];
    if (want <= 0) continue;
    PickSlots(job, r, want, picks, used_tms);
    if (!job.started && job.held_per_requirement[r] < reqs[r].min) enough = false;
  }
  if (!job.started && enough &&
      static_cast<int>(used_tms.size()) <
          std::min<int>(job.declaration.min_task_managers, picks.size())) {
    enough = false;
    job.wait_reason = kTooFewTms;
  }
  if (!enough || picks.empty()) {
    for (const Pick& pick : picks) {  // all or nothing for the first grant
      std::string allocation = task_managers_.at(pick.task_manager).slots.at(pick.index).allocation;
      Unbind(allocation);
      Vacate(pick.task_manager, pick.index);
    }
    return false;
  }
  for (const Pick& pick : picks) {
    effects->requests.push_back(
        GrantOf(task_managers_.at(pick.task_manager).slots.at(pick.index).allocation));
  }
  if (!job.started) {
    job.started = true;
    effects->grant_latencies.push_back(clock_->Now() - job.waiting_since);
  }
  job.waiting_since = clock_->Now();  // any remaining top-up waits from now
  job.wait_reason.clear();
  return true;
}

bool SlotManager::TryPreempt(Job& job, SlotManagerEffects* effects) {
  std::vector<std::tuple<int, int64_t, std::string>> candidates;  // (priority, -seq, allocation)
  for (const auto& [allocation, a] : allocations_) {
    auto victim = jobs_.find(a.job);
    if (victim == jobs_.end() || victim->second.declaration.priority >= job.declaration.priority) {
      continue;
    }
    candidates.emplace_back(victim->second.declaration.priority,
                            -static_cast<int64_t>(victim->second.sequence), allocation);
  }
  std::sort(candidates.begin(), candidates.end());
  std::set<std::string> chosen;
  for (const auto& r : job.declaration.requirements) {
    int missing = r.min - index_.FreeFitting(r.profile, job.tenant->name);
    for (const auto& [priority, seq, allocation] : candidates) {
      if (missing <= 0) break;
      if (chosen.count(allocation)) continue;
      const Allocation& a = allocations_.at(allocation);
      const TaskManagerSlots& tm = task_managers_.at(a.task_manager);
      if ((!tm.tenant.empty() && tm.tenant != job.tenant->name) ||
          !tm.slots.at(a.index).profile.Fits(r.profile)) {
        continue;
      }
      chosen.insert(allocation);
      --missing;
    }
    if (missing > 0) return false;  // even preemption cannot make room
  }
  // Take the victims' slots only if that really lets the job start (its quota
  // or the reserved slots may still stop it): otherwise put them back.
  struct Victim {
    std::string allocation;
    Allocation where;
    Phase phase;
    SlotGrant grant;
  };
  std::vector<Victim> victims;
  for (const auto& allocation : chosen) {
    const Allocation a = allocations_.at(allocation);
    victims.push_back({allocation, a, task_managers_.at(a.task_manager).slots.at(a.index).phase,
                       GrantOf(allocation)});
    Unbind(allocation);
    Vacate(a.task_manager, a.index);
  }
  SlotManagerEffects served;
  if (!TryServe(job, &served)) {
    for (const Victim& v : victims) {
      Occupy(v.where.task_manager, v.where.index, v.allocation, v.phase);
      Bind(jobs_.at(v.where.job), Pick{v.where.task_manager, v.where.index, v.where.requirement},
           v.allocation);
    }
    return false;
  }
  for (const Victim& v : victims) {
    effects->revocations.push_back({v.grant,
                                    absl::StrCat("preempted by job '", job.declaration.job_id,
                                                 "' (priority ", job.declaration.priority, ")"),
                                    true});
    effects->frees.push_back(v.grant);
  }
  effects->requests.insert(effects->requests.end(), served.requests.begin(), served.requests.end());
  effects->grant_latencies.insert(effects->grant_latencies.end(), served.grant_latencies.begin(),
                                  served.grant_latencies.end());
  return true;
}

std::string SlotManager::DescribeShortage(const Job& job) const {
  const JobDeclaration& d = job.declaration;
  std::vector<std::string> parts;
  for (size_t r = 0; r < d.requirements.size(); ++r) {
    const auto& req = d.requirements[r];
    parts.push_back(absl::StrCat(req.min == req.desired ? absl::StrCat(req.desired)
                                                        : absl::StrCat(req.min, "-", req.desired),
                                 " slots of ", DescribeProfile(req.profile), " (",
                                 index_.FreeFitting(req.profile, job.tenant->name),
                                 " free slots fit)"));
  }
  const TenantUsage empty;
  auto usage_it = tenant_usage_.find(job.tenant->name);
  const TenantUsage& usage = usage_it == tenant_usage_.end() ? empty : usage_it->second;
  std::string out =
      absl::StrCat("job '", d.job_id, "' of tenant '", job.tenant->name, "' could not get ",
                   absl::StrJoin(parts, " and "), " within ",
                   HumanDuration(options_.request_timeout), "; the cluster has ", slots_free_,
                   " free of ", slots_total_, " slots on ", task_managers_.size(), " TaskManagers");
  if (!job.wait_reason.empty()) absl::StrAppend(&out, "; waiting because: ", job.wait_reason);
  if (job.wait_reason == kQuota || job.tenant->quota.IsLimited()) {
    absl::StrAppend(&out, "; tenant '", job.tenant->name, "' holds ", usage.slots,
                    " slots of its quota of ", job.tenant->quota.Describe());
  }
  return out;
}

// ---------------------------------------------------------------------------
// Views

std::vector<SlotState> SlotManager::SlotsOf(const std::string& task_manager) const {
  std::vector<SlotState> out;
  auto tm = task_managers_.find(task_manager);
  if (tm == task_managers_.end()) return out;
  for (const auto& [index, slot] : tm->second.slots) {
    SlotState state{index, slot.profile, "", slot.allocation};
    auto a = allocations_.find(slot.allocation);
    if (a != allocations_.end()) state.job_id = a->second.job;
    out.push_back(std::move(state));
  }
  return out;
}

std::vector<WaitingRequest> SlotManager::Waiting() const {
  std::vector<WaitingRequest> out;
  for (const auto& [id, job] : jobs_) {
    if (!Usable(job)) continue;
    int missing = 0;
    const auto& reqs = job.declaration.requirements;
    for (size_t r = 0; r < reqs.size(); ++r) {
      missing += std::max(0, reqs[r].desired - job.held_per_requirement[r]);
    }
    out.push_back(WaitingRequest{id, job.tenant->name, job.declaration.priority, missing,
                                 job.waiting_since, job.wait_reason});
  }
  return out;
}

std::vector<TenantView> SlotManager::TenantViews() const {
  std::vector<TenantView> out;
  for (const auto& [name, tenant] : tenants_.all()) {
    TenantView view{name, tenant.weight, tenant.quota.Describe(), 0, {}, 0, 0};
    if (auto it = tenant_usage_.find(name); it != tenant_usage_.end()) {
      view.slots = it->second.slots;
      view.held = it->second.held;
    }
    view.dominant_share = DominantShare(view.slots, view.held, tenant.weight);
    out.push_back(view);
  }
  for (const auto& w : Waiting()) {
    for (auto& view : out) view.waiting_jobs += view.name == w.tenant ? 1 : 0;
  }
  return out;
}

std::vector<JobView> SlotManager::JobViews() const {
  std::vector<JobView> out;
  for (const auto& [id, job] : jobs_) {
    out.push_back(JobView{id, job.tenant->name, job.declaration.priority, job.slots, job.held});
  }
  return out;
}

std::optional<std::string> SlotManager::CheckInvariants() const {
  int free = 0, total = 0;
  ResourceProfile used;
  std::set<std::string> seen;
  for (const auto& [tm_id, tm] : task_managers_) {
    std::map<int, int> free_by_class;
    for (const auto& [index, slot] : tm.slots)
      free_by_class[slot.class_id] += slot.phase == Phase::kFree && InPlacement(tm_id);
    for (const auto& [class_id, count] : free_by_class) {
      if (index_.FreeCount(class_id, tm_id) != count) {
        return absl::StrCat("free-slot index disagrees for ", tm_id, ": ",
                            index_.FreeCount(class_id, tm_id), " indexed, ", count, " free");
      }
    }
    for (const auto& [index, slot] : tm.slots) {
      ++total;
      if (slot.phase == Phase::kFree) {
        ++free;
        if (!slot.allocation.empty()) return absl::StrCat(tm_id, "/", index, " free but allocated");
        continue;
      }
      used += slot.profile;
      if (!seen.insert(slot.allocation).second) {
        return absl::StrCat("allocation ", slot.allocation, " holds two slots");
      }
      auto a = allocations_.find(slot.allocation);
      if (a == allocations_.end() || a->second.task_manager != tm_id || a->second.index != index) {
        return absl::StrCat(tm_id, "/", index, " held by unknown allocation ", slot.allocation);
      }
    }
  }
  if (seen.size() != allocations_.size()) return "allocations without a slot";
  if (free != slots_free_ || total != slots_total_) return "slot counts drifted";
  if (std::abs(used.cpu_cores - used_.cpu_cores) > 1e-6 ||
      used.memory_bytes != used_.memory_bytes) {
    return "used resources drifted";
  }
  std::map<std::string, int> tenant_slots;
  for (const auto& [id, job] : jobs_) {
    if (job.slots != static_cast<int>(job.allocations.size())) return "job slot count drifted";
    tenant_slots[job.tenant->name] += job.slots;
    for (const auto& allocation : job.allocations) {
      if (!allocations_.count(allocation) || allocations_.at(allocation).job != id) {
        return absl::StrCat("job ", id, " lists allocation ", allocation, " it does not hold");
      }
    }
  }
  for (const auto& [name, usage] : tenant_usage_) {
    if (usage.slots != tenant_slots[name]) return absl::StrCat("tenant ", name, " usage drifted");
    const Tenant* tenant = tenants_.Find(name);
    if (tenant != nullptr && !tenant->quota.Allows(usage.slots, usage.held)) {
      return absl::StrCat("tenant ", name, " exceeds its quota");
    }
  }
  return std::nullopt;
}

}  // namespace sluice
