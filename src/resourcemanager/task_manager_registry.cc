#include "resourcemanager/task_manager_registry.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sluice {

const char* RemovalReasonName(RemovalReason reason) {
  switch (reason) {
    case RemovalReason::kStreamBroken:
      return "stream_broken";
    case RemovalReason::kHeartbeatTimeout:
      return "heartbeat_timeout";
    case RemovalReason::kDeregistered:
      return "deregistered";
    case RemovalReason::kReplaced:
      return "replaced";
  }
  return "unknown";
}

TaskManagerRegistry::TaskManagerRegistry(const Clock* clock, absl::Duration heartbeat_timeout,
                                         int max_slots)
    : clock_(clock), heartbeat_timeout_(heartbeat_timeout), max_slots_(max_slots) {}

absl::Status TaskManagerRegistry::ValidateSlots(const std::string& id,
                                                const std::vector<SlotState>& slots) const {
  std::set<int> seen;
  for (const auto& slot : slots) {
    if (slot.index < 0 || !seen.insert(slot.index).second) {
      return absl::InvalidArgumentError(absl::StrCat("TaskManager '", id,
                                                     "' reported an invalid or repeated slot "
                                                     "index ",
                                                     slot.index));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<RemovedTaskManager>> TaskManagerRegistry::Register(
    SessionId session, TaskManagerInfo info) {
  if (info.id.empty()) return absl::InvalidArgumentError("registration without a TaskManager id");
  if (info.slots.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("TaskManager '", info.id, "' offers no slots"));
  }
  if (static_cast<int64_t>(info.slots.size()) > max_slots_) {
    return absl::InvalidArgumentError(
        absl::StrCat("TaskManager '", info.id, "' announces ", info.slots.size(),
                     " slots; resourcemanager.taskmanager.max-slots allows ", max_slots_));
  }
  if (auto status = ValidateSlots(info.id, info.slots); !status.ok()) return status;
  if (id_by_session_.count(session) != 0) {
    return absl::FailedPreconditionError("this session has already registered a TaskManager");
  }
  std::optional<RemovedTaskManager> replaced;
  if (auto it = by_id_.find(info.id); it != by_id_.end()) {
    const TaskManagerRecord& existing = it->second;
    if (existing.info.rpc_address != info.rpc_address) {
      return absl::AlreadyExistsError(absl::StrCat(
          "TaskManager id '", info.id, "' is already registered from ", existing.info.rpc_address,
          " (last heartbeat ", absl::FormatDuration(clock_->Now() - existing.last_heartbeat),
          " ago); give each TaskManager its own taskmanager.resource-id"));
    }
    replaced = Erase(it, RemovalReason::kReplaced);
  }
  TaskManagerRecord record;
  record.session = session;
  record.registered_at = record.last_heartbeat = clock_->Now();
  record.info = std::move(info);
  capacity_ += record.info.total;
  id_by_session_[session] = record.info.id;
  by_id_.emplace(record.info.id, std::move(record));
  return replaced;
}

absl::StatusOr<TaskManagerRegistry::HeartbeatResult> TaskManagerRegistry::Heartbeat(
    SessionId session, ProcessUsage usage) {
  auto session_it = id_by_session_.find(session);
  if (session_it == id_by_session_.end()) {
    return absl::NotFoundError("no TaskManager is registered on this session");
  }
  TaskManagerRecord& record = by_id_.at(session_it->second);
  absl::Time now = clock_->Now();
  absl::Duration gap = now - record.last_heartbeat;
  record.last_heartbeat = now;
  record.usage = usage;
  return HeartbeatResult{&record.info.id, gap};
}

std::optional<RemovedTaskManager> TaskManagerRegistry::Remove(SessionId session,
                                                              RemovalReason reason) {
  auto session_it = id_by_session_.find(session);
  if (session_it == id_by_session_.end()) return std::nullopt;
  return Erase(by_id_.find(session_it->second), reason);
}

bool TaskManagerRegistry::HeardNow(SessionId session) {
  auto it = id_by_session_.find(session);
  if (it == id_by_session_.end()) return false;
  by_id_.at(it->second).last_heartbeat = clock_->Now();
  return true;
}

void TaskManagerRegistry::HeardAtLeast(absl::Time at) {
  for (auto& [id, record] : by_id_) record.last_heartbeat = std::max(record.last_heartbeat, at);
}

std::vector<RemovedTaskManager> TaskManagerRegistry::ExpireSilent() {
  std::vector<RemovedTaskManager> lost;
  absl::Time deadline = clock_->Now() - heartbeat_timeout_;
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    auto current = it++;
    if (current->second.last_heartbeat < deadline) {
      lost.push_back(Erase(current, RemovalReason::kHeartbeatTimeout));
    }
  }
  return lost;
}

const TaskManagerRecord* TaskManagerRegistry::Find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::vector<const TaskManagerRecord*> TaskManagerRegistry::All() const {
  std::vector<const TaskManagerRecord*> out;
  out.reserve(by_id_.size());
  for (const auto& [id, record] : by_id_) out.push_back(&record);
  return out;
}

RemovedTaskManager TaskManagerRegistry::Erase(std::map<std::string, TaskManagerRecord>::iterator it,
                                              RemovalReason reason) {
  RemovedTaskManager removed{it->first, it->second.session, reason};
  capacity_ -= it->second.info.total;
  id_by_session_.erase(it->second.session);
  by_id_.erase(it);
  return removed;
}

}  // namespace sluice
