#include "resourcemanager/resource_manager.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
      registry_(clock, options_.heartbeat_timeout),
      metrics_(metrics_registry),
      mailbox_("resourcemanager") {
  PublishTotals();
  ScheduleHeartbeatCheck();
}

ResourceManager::~ResourceManager() { mailbox_.Stop(); }

void ResourceManager::RegisterTaskManager(SessionId session, std::shared_ptr<SessionPeer> peer,
                                          TaskManagerInfo info) {
  mailbox_.Post([this, session, peer = std::move(peer), info = std::move(info)]() mutable {
    std::string id = info.id;
    std::string address = info.rpc_address;
    size_t slots = info.slots.size();
    ResourceProfile total = info.total;
    auto result = registry_.Register(session, std::move(info));
    if (!result.ok()) {
      spdlog::warn("Refused registration of TaskManager '{}' from {}: {}", id, address,
                   std::string(result.status().message()));
      metrics_.RegistrationRefused();
      peer->Close(result.status());
      return;
    }
    if (result->has_value()) OnTaskManagerRemoved(**result, "a new registration of the same id");
    task_manager_peers_[session] = peer;
    metrics_.Registered();
    PublishTotals();
    spdlog::info("TaskManager '{}' registered from {}: {} slots, {}", id, address, slots,
                 Describe(total));
    peer->SendAccepted(absl::StrCat(id, "#", session), options_.id);
  });
}

void ResourceManager::TaskManagerHeartbeat(SessionId session, uint64_t sequence,
                                           std::vector<SlotState> slots, ProcessUsage usage) {
  mailbox_.Post([this, session, sequence, slots = std::move(slots), usage]() mutable {
    auto peer = task_manager_peers_.find(session);
    if (peer == task_manager_peers_.end()) return;  // lost or never registered: stream is closing
    int free_before = registry_.totals().slots_free;
    auto gap = registry_.Heartbeat(session, std::move(slots), usage);
    if (!gap.ok()) {
      peer->second->Close(gap.status());
      return;
    }
    metrics_.HeartbeatReceived(*gap);
    if (registry_.totals().slots_free != free_before) PublishTotals();
    peer->second->SendHeartbeatAck(sequence, nullptr);
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
    auto removed = registry_.Remove(session, RemovalReason::kStreamBroken);
    if (removed) OnTaskManagerRemoved(*removed, "its session stream broke");
    task_manager_peers_.erase(session);
  });
}

void ResourceManager::OnTaskManagerRemoved(const RemovedTaskManager& removed,
                                           const std::string& detail) {
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
  PublishTotals();
}

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

void ResourceManager::JobManagerSessionClosed(SessionId session) {
  mailbox_.Post([this, session] {
    auto it = job_managers_.find(session);
    if (it == job_managers_.end()) return;
    spdlog::warn("JobManager '{}' disconnected", it->second.info.id);
    job_managers_.erase(it);
    metrics_.SetJobManagers(static_cast<int>(job_managers_.size()));
  });
}

void ResourceManager::GetClusterStatus(std::function<void(ClusterStatusSnapshot)> done) {
  mailbox_.Post([this, done = std::move(done)] {
    ClusterStatusSnapshot snapshot;
    snapshot.resource_manager_id = options_.id;
    snapshot.taken_at = clock_->Now();
    for (const TaskManagerRecord* record : registry_.All()) {
      snapshot.task_managers.push_back(*record);
    }
    snapshot.overview = Overview();
    snapshot.job_managers = static_cast<int>(job_managers_.size());
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
  mailbox_.PostAfter(period, [this] {
    CheckHeartbeats();
    ScheduleHeartbeatCheck();
  });
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
    it = job_managers_.erase(it);
    metrics_.SetJobManagers(static_cast<int>(job_managers_.size()));
  }
}

ClusterOverview ResourceManager::Overview() const {
  return ClusterOverview{registry_.totals(), ComputeUtilization(registry_.totals()),
                         task_managers_lost_};
}

void ResourceManager::PublishTotals() { metrics_.Publish(Overview()); }

}  // namespace sluice
