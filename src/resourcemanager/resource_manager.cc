#include "resourcemanager/resource_manager.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/config/value_parsers.h"
#include "spdlog/spdlog.h"

namespace sluice {
namespace {

std::string Describe(const ResourceProfile& p) {
  std::string out = absl::StrCat(p.cpu_cores, " cpu, ", FormatBytes(p.memory_bytes), " memory");
  for (const auto& [name, amount] : p.extended) absl::StrAppend(&out, ", ", amount, " ", name);
  return out;
}

}  // namespace

ResourceManager::ResourceManager(ResourceManagerOptions options, const Clock* clock,
                                 prometheus::Registry& metrics_registry)
    : options_(std::move(options)),
      clock_(clock),
      registry_(clock, options_.heartbeat_timeout, options_.max_slots_per_task_manager),
      slots_(clock, options_.slots, options_.tenants),
      metrics_(metrics_registry),
      mailbox_("resourcemanager") {
  PublishTotals();
  ScheduleHeartbeatCheck();
}

ResourceManager::~ResourceManager() { mailbox_.Stop(); }

// ---------------------------------------------------------------------------
// TaskManagers

void ResourceManager::RegisterTaskManager(SessionId session, std::shared_ptr<SessionPeer> peer,
                                          TaskManagerInfo info) {
  mailbox_.Post([this, session, peer = std::move(peer), info = std::move(info)]() mutable {
    const std::string id = info.id;
    const std::string address = info.rpc_address;
    const std::string tenant = info.tenant;
    const std::vector<SlotState> slots = info.slots;
    const ResourceProfile total = info.total;
    auto result = registry_.Register(session, std::move(info));
    if (!result.ok()) {
      spdlog::warn("Refused registration of TaskManager '{}' from {}: {}", id, address,
                   std::string(result.status().message()));
      metrics_.RegistrationRefused();
      peer->Close(result.status());
      return;
    }
    if (result->has_value()) {
      OnTaskManagerRemoved(**result, "a new registration of the same id",
                           SlotManager::HeldIn(slots));
    }
    task_manager_peers_[session] = peer;
    metrics_.Registered();
    spdlog::info("TaskManager '{}' registered from {}: {} slots, {}{}", id, address, slots.size(),
                 Describe(total), tenant.empty() ? "" : absl::StrCat(", dedicated to ", tenant));
    peer->SendAccepted(absl::StrCat(id, "#", session), options_.id);
    SlotManagerEffects effects;
    slots_.AddTaskManager(id, tenant, slots, &effects);
    Execute(effects);
  });
}

void ResourceManager::TaskManagerHeartbeat(SessionId session, uint64_t sequence,
                                           std::vector<SlotState> slots,
                                           uint64_t slot_report_version, ProcessUsage usage) {
  mailbox_.Post(
      [this, session, sequence, slots = std::move(slots), slot_report_version, usage]() mutable {
        auto peer = task_manager_peers_.find(session);
        if (peer == task_manager_peers_.end())
          return;  // lost or never registered: stream is closing
        auto heartbeat = registry_.Heartbeat(session, usage);
        if (!heartbeat.ok()) {
          peer->second->Close(heartbeat.status());
          return;
        }
        metrics_.HeartbeatReceived(heartbeat->gap);
        peer->second->SendHeartbeatAck(sequence, nullptr);
        SlotManagerEffects effects;
        int free_before = slots_.slots_free();
        slots_.ReconcileSlotReport(*heartbeat->id, slots, &effects, slot_report_version);
        // Most heartbeats change nothing: then there is nothing to tell anyone.
        if (slots_.slots_free() != free_before || !effects.requests.empty() ||
            !effects.revocations.empty()) {
          Execute(effects);
        }
      });
}

void ResourceManager::SlotRequestAnswered(SessionId session, SlotRequestAnswer answer) {
  mailbox_.Post([this, session, answer = std::move(answer)] {
    if (task_manager_peers_.count(session) == 0) return;
    SlotManagerEffects effects;
    if (answer.accepted) {
      slots_.SlotRequestAccepted(answer.allocation_id, answer.slot_report_version);
      return;
    }
    spdlog::info("TaskManager refused allocation {}: slot held by allocation {} of job '{}'",
                 answer.allocation_id, answer.occupant_allocation_id, answer.occupant_job_id);
    slots_.SlotRequestRejected(answer.allocation_id, answer.occupant_job_id,
                               answer.occupant_allocation_id, &effects);
    Execute(effects);
  });
}

void ResourceManager::DeregisterTaskManager(SessionId session, std::string reason) {
  mailbox_.Post([this, session, reason = std::move(reason)] {
    auto removed = registry_.Remove(session, RemovalReason::kDeregistered);
    if (removed) OnTaskManagerRemoved(*removed, reason);
  });
}

void ResourceManager::TaskManagerSessionClosed(SessionId session) {
  mailbox_.Post([this, session] {
    if (RecentlyStalled() && registry_.HeardNow(session)) {
      // It gave up on this silent process and reconnects: registering again,
      // it reports its allocations, which stay with their jobs meanwhile
      // (else it is declared lost after heartbeat.timeout).
      task_manager_peers_.erase(session);
      spdlog::info(
          "A TaskManager's session broke while the ResourceManager was stalled; "
          "waiting for it to register again");
      return;
    }
    auto removed = registry_.Remove(session, RemovalReason::kStreamBroken);
    if (removed) OnTaskManagerRemoved(*removed, "its session stream broke");
    task_manager_peers_.erase(session);
  });
}

void ResourceManager::OnTaskManagerRemoved(const RemovedTaskManager& removed,
                                           const std::string& detail,
                                           const std::set<std::string>& still_held) {
  auto peer = task_manager_peers_.find(removed.session);
  if (peer != task_manager_peers_.end()) {
    if (removed.reason == RemovalReason::kDeregistered) {
      peer->second->Close(absl::OkStatus());
    } else {
      peer->second->Close(absl::UnavailableError(
          absl::StrCat("TaskManager '", removed.id, "' was declared lost: ", detail)));
    }
    task_manager_peers_.erase(peer);
  }
  if (removed.reason == RemovalReason::kDeregistered) {
    spdlog::info("TaskManager '{}' deregistered ({}); its slots left the pool", removed.id, detail);
  } else if (removed.reason == RemovalReason::kReplaced) {
    spdlog::info("TaskManager '{}' restarted: its old entry and slots are replaced", removed.id);
  } else {
    ++task_managers_lost_;
    metrics_.TaskManagerLost(removed.reason);
    spdlog::warn("TaskManager '{}' lost ({}): {}; its slots left the pool", removed.id,
                 RemovalReasonName(removed.reason), detail);
  }
  SlotManagerEffects effects;
  slots_.RemoveTaskManager(removed.id, detail, &effects, still_held);
  Execute(effects);
}

// ---------------------------------------------------------------------------
// JobManagers

void ResourceManager::RegisterJobManager(SessionId session, std::shared_ptr<SessionPeer> peer,
                                         JobManagerInfo info) {
  mailbox_.Post([this, session, peer = std::move(peer), info = std::move(info)]() mutable {
    if (info.id.empty()) {
      peer->Close(absl::InvalidArgumentError("registration without a JobManager id"));
      return;
    }
    spdlog::info("JobManager '{}' registered from {}", info.id, info.rpc_address);
    peer->SendAccepted(absl::StrCat(info.id, "#", session), options_.id);
    job_managers_[session] = JobManagerSession{std::move(info), std::move(peer), clock_->Now()};
    metrics_.SetJobManagers(static_cast<int>(job_managers_.size()));
  });
}

void ResourceManager::JobManagerHeartbeat(SessionId session, uint64_t sequence) {
  mailbox_.Post([this, session, sequence] {
    auto it = job_managers_.find(session);
    if (it == job_managers_.end()) return;
    it->second.last_heartbeat = clock_->Now();
    ClusterOverview overview = Overview();
    it->second.peer->SendHeartbeatAck(sequence, &overview);
  });
}

void ResourceManager::DeclareResources(SessionId session, JobDeclaration declaration) {
  mailbox_.Post([this, session, declaration = std::move(declaration)]() mutable {
    auto it = job_managers_.find(session);
    if (it == job_managers_.end()) return;
    declaration.job_master = it->second.info.id;
    SlotManagerEffects effects;
    absl::Status status = slots_.Declare(declaration, &effects);
    if (!status.ok()) {
      spdlog::warn("Refused the resource declaration of job '{}': {}", declaration.job_id,
                   std::string(status.message()));
    }
    it->second.peer->SendDeclarationResult(declaration.job_id, status);
    Execute(effects);
  });
}

void ResourceManager::FreeSlot(SessionId session, std::string allocation_id) {
  mailbox_.Post([this, session, allocation_id = std::move(allocation_id)] {
    if (job_managers_.count(session) == 0) return;
    SlotManagerEffects effects;
    slots_.FreeSlot(allocation_id, &effects);
    Execute(effects);
  });
}

void ResourceManager::ReleaseJob(SessionId session, std::string job_id) {
  mailbox_.Post([this, session, job_id = std::move(job_id)] {
    if (job_managers_.count(session) == 0) return;
    SlotManagerEffects effects;
    slots_.ReleaseJob(job_id, &effects);
    Execute(effects);
  });
}

void ResourceManager::JobManagerSessionClosed(SessionId session) {
  mailbox_.Post([this, session] {
    auto it = job_managers_.find(session);
    if (it == job_managers_.end()) return;
    spdlog::warn("JobManager '{}' disconnected; its jobs keep their slots for {}",
                 it->second.info.id, HumanDuration(options_.slots.job_timeout));
    SlotManagerEffects effects;
    slots_.JobMasterLost(it->second.info.id, &effects);
    job_managers_.erase(it);
    metrics_.SetJobManagers(static_cast<int>(job_managers_.size()));
    Execute(effects);
  });
}

// ---------------------------------------------------------------------------
// Effects of slot decisions

SessionPeer* ResourceManager::TaskManagerPeer(const std::string& task_manager_id) {
  const TaskManagerRecord* record = registry_.Find(task_manager_id);
  if (record == nullptr) return nullptr;
  auto peer = task_manager_peers_.find(record->session);
  return peer == task_manager_peers_.end() ? nullptr : peer->second.get();
}

const ResourceManager::JobManagerSession* ResourceManager::JobManagerById(
    const std::string& job_manager_id) const {
  for (const auto& [session, jm] : job_managers_) {
    if (jm.info.id == job_manager_id) return &jm;
  }
  return nullptr;
}

void ResourceManager::Execute(SlotManagerEffects& effects) {
  for (const SlotGrant& grant : effects.requests) {
    const JobManagerSession* jm = JobManagerById(grant.job_master);
    SessionPeer* tm = TaskManagerPeer(grant.task_manager);
    if (tm != nullptr && jm != nullptr) tm->SendSlotRequest(grant, jm->info.rpc_address);
  }
  for (const SlotGrant& grant : effects.frees) {
    if (SessionPeer* tm = TaskManagerPeer(grant.task_manager)) {
      tm->SendFreeAllocation(grant.allocation_id, "released by the ResourceManager");
    }
  }
  std::map<std::string, std::vector<SlotManagerEffects::Revocation>> by_master;
  for (const auto& revocation : effects.revocations) {
    by_master[revocation.slot.job_master].push_back(revocation);
    if (revocation.preempted) metrics_.Preempted(revocation.slot.tenant);
    spdlog::info("Job '{}' loses allocation {} on '{}': {}", revocation.slot.job_id,
                 revocation.slot.allocation_id, revocation.slot.task_manager, revocation.reason);
  }
  for (const auto& [master, revoked] : by_master) {
    if (const JobManagerSession* jm = JobManagerById(master)) jm->peer->SendSlotsRevoked(revoked);
  }
  for (const auto& failure : effects.failures) {
    spdlog::warn("{}", failure.message);
    if (const JobManagerSession* jm = JobManagerById(failure.job_master)) {
      jm->peer->SendRequestFailed(failure.job_id, failure.message);
    }
  }
  for (const std::string& tm : effects.unresponsive) {
    spdlog::warn(
        "TaskManager '{}' did not answer a slot request within rpc.timeout: no more slots are "
        "placed on it until it registers again",
        tm);
  }
  for (absl::Duration latency : effects.grant_latencies) metrics_.AllocationLatency(latency);
  PublishTotals();
}

// ---------------------------------------------------------------------------
// Status, timers, metrics

void ResourceManager::GetClusterStatus(std::function<void(ClusterStatusSnapshot)> done) {
  mailbox_.Post([this, done = std::move(done)] {
    ClusterStatusSnapshot snapshot;
    snapshot.resource_manager_id = options_.id;
    snapshot.taken_at = clock_->Now();
    for (const TaskManagerRecord* record : registry_.All()) {
      snapshot.task_managers.push_back(*record);
      snapshot.task_managers.back().info.slots = slots_.SlotsOf(record->info.id);
    }
    snapshot.overview = Overview();
    snapshot.job_managers = static_cast<int>(job_managers_.size());
    snapshot.scheduler = SchedulerName(options_.slots.scheduler);
    snapshot.tenants = slots_.TenantViews();
    snapshot.waiting = slots_.Waiting();
    done(std::move(snapshot));
  });
}

std::future<ClusterStatusSnapshot> ResourceManager::GetClusterStatus() {
  auto promise = std::make_shared<std::promise<ClusterStatusSnapshot>>();
  GetClusterStatus([promise](ClusterStatusSnapshot s) { promise->set_value(std::move(s)); });
  return promise->get_future();
}

void ResourceManager::ScheduleHeartbeatCheck() {
  // Checking a few times per interval bounds the detection delay to the
  // timeout plus a fraction of an interval.
  absl::Duration period =
      std::clamp(options_.heartbeat_interval / 4, absl::Milliseconds(10), absl::Milliseconds(250));
  mailbox_.PostAfter(period, [this, period] {
    ForgiveSilenceAfterStall(period);
    CheckHeartbeats();
    SlotManagerEffects effects;
    slots_.Tick(&effects);
    if (!effects.requests.empty() || !effects.frees.empty() || !effects.revocations.empty() ||
        !effects.failures.empty()) {
      Execute(effects);
    }
    // A waiting request ages while nothing else changes: its gauge must too.
    if (!slots_.Waiting().empty()) PublishTotals();
    ScheduleHeartbeatCheck();
  });
}

bool ResourceManager::RecentlyStalled() const {
  const absl::Time now = clock_->Now();
  const bool stalled_now = last_check_ != absl::InfinitePast() &&
                           now - last_check_ > check_period_ + options_.heartbeat_interval;
  return stalled_now || now - last_stall_ < options_.heartbeat_timeout;
}

void ResourceManager::ForgiveSilenceAfterStall(absl::Duration check_period) {
  const absl::Time now = clock_->Now();
  const absl::Duration gap = now - last_check_;
  last_check_ = now;
  check_period_ = check_period;
  if (gap <= check_period + options_.heartbeat_interval || gap == absl::InfiniteDuration()) return;
  last_stall_ = now;
  // Their heartbeats wait in the sockets and the mailbox; two intervals to
  // arrive. A peer that really is gone is declared lost right after.
  const absl::Duration grace =
      std::min(2 * options_.heartbeat_interval, options_.heartbeat_timeout);
  const absl::Time heard = now - options_.heartbeat_timeout + grace;
  spdlog::warn("The ResourceManager did not run for {}: its peers have {} to be heard again",
               absl::FormatDuration(gap), absl::FormatDuration(grace));
  registry_.HeardAtLeast(heard);
  for (auto& [session, jm] : job_managers_) jm.last_heartbeat = std::max(jm.last_heartbeat, heard);
}

void ResourceManager::CheckHeartbeats() {
  for (const auto& removed : registry_.ExpireSilent()) {
    OnTaskManagerRemoved(removed, absl::StrCat("no heartbeat for more than ",
                                               absl::FormatDuration(options_.heartbeat_timeout)));
  }
  absl::Time deadline = clock_->Now() - options_.heartbeat_timeout;
  for (auto it = job_managers_.begin(); it != job_managers_.end();) {
    if (it->second.last_heartbeat >= deadline) {
      ++it;
      continue;
    }
    spdlog::warn("JobManager '{}' lost: no heartbeat for more than {}", it->second.info.id,
                 absl::FormatDuration(options_.heartbeat_timeout));
    it->second.peer->Close(absl::UnavailableError("JobManager declared lost: heartbeat timeout"));
    SlotManagerEffects effects;
    slots_.JobMasterLost(it->second.info.id, &effects);
    it = job_managers_.erase(it);
    metrics_.SetJobManagers(static_cast<int>(job_managers_.size()));
    Execute(effects);
  }
}

ClusterOverview ResourceManager::Overview() const {
  ClusterTotals totals{registry_.size(), slots_.slots_total(), slots_.slots_free(),
                       registry_.capacity(), slots_.used()};
  return ClusterOverview{totals, ComputeUtilization(totals), task_managers_lost_};
}

void ResourceManager::PublishTotals() {
  metrics_.Publish(Overview());
  metrics_.PublishAllocation(slots_.TenantViews(), slots_.JobViews(), slots_.Waiting(),
                             clock_->Now());
}

}  // namespace sluice
