// The ResourceManager's book of registered TaskManagers (identity, address,
// resources, liveness), and the failure detector that declares silent ones
// lost. Their slots are the SlotManager's.
//
// Not thread-safe: it belongs to the ResourceManager's mailbox thread. Time
// comes from the injected Clock, so tests drive it with a FakeClock.
#ifndef SLUICE_RESOURCEMANAGER_TASK_MANAGER_REGISTRY_H_
#define SLUICE_RESOURCEMANAGER_TASK_MANAGER_REGISTRY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/process_stats.h"
#include "common/resource_profile.h"
#include "common/slot.h"

namespace sluice {

// Identifies one session stream; a reconnecting TaskManager gets a new one.
using SessionId = uint64_t;

struct TaskManagerInfo {
  std::string id;
  std::string rpc_address;
  int data_port = 0;
  std::string hostname;
  ResourceProfile total;
  std::vector<SlotState> slots;  // as registered
  std::string tenant;            // dedicated to this tenant; empty: shared
};

struct TaskManagerRecord {
  TaskManagerInfo info;
  SessionId session = 0;
  absl::Time registered_at;
  absl::Time last_heartbeat;
  ProcessUsage usage;
};

enum class RemovalReason { kStreamBroken, kHeartbeatTimeout, kDeregistered, kReplaced };
const char* RemovalReasonName(RemovalReason reason);

struct RemovedTaskManager {
  std::string id;
  SessionId session = 0;
  RemovalReason reason;
};

// Sums over the cluster: TaskManagers and capacity from the registry, slots
// and use from the SlotManager.
struct ClusterTotals {
  int task_managers = 0;
  int slots_total = 0;
  int slots_free = 0;
  ResourceProfile capacity;
  ResourceProfile used;
};

class TaskManagerRegistry {
 public:
  // A TaskManager announcing more than `max_slots` slots is refused
  // (resourcemanager.taskmanager.max-slots): a forged one cannot take over
  // placement with thousands of slots.
  TaskManagerRegistry(const Clock* clock, absl::Duration heartbeat_timeout, int max_slots = 4096);

  // Registers `info` on `session`. A live TaskManager with the same id and a
  // different address is refused (ALREADY_EXISTS) and kept; one with the same
  // address is a restart and is replaced (the replaced entry is returned).
  absl::StatusOr<std::optional<RemovedTaskManager>> Register(SessionId session,
                                                             TaskManagerInfo info);
  // Records a heartbeat; returns the TaskManager's id and the time since its
  // previous heartbeat. NOT_FOUND when the session has no registered
  // TaskManager (never registered, or already lost).
  struct HeartbeatResult {
    const std::string* id;
    absl::Duration gap;
  };
  absl::StatusOr<HeartbeatResult> Heartbeat(SessionId session, ProcessUsage usage);
  // Removes the TaskManager registered on `session`, if any.
  std::optional<RemovedTaskManager> Remove(SessionId session, RemovalReason reason);
  // Counts the TaskManager on `session` as heard now; false if none is.
  bool HeardNow(SessionId session);
  // Counts every TaskManager as heard at `at` at the latest (see
  // ResourceManager::ForgiveSilenceAfterStall).
  void HeardAtLeast(absl::Time at);
  // Removes every TaskManager silent for longer than the heartbeat timeout.
  std::vector<RemovedTaskManager> ExpireSilent();

  const TaskManagerRecord* Find(const std::string& id) const;
  std::vector<const TaskManagerRecord*> All() const;  // ordered by id
  int size() const { return static_cast<int>(by_id_.size()); }
  const ResourceProfile& capacity() const { return capacity_; }
  const Clock& clock() const { return *clock_; }

 private:
  absl::Status ValidateSlots(const std::string& id, const std::vector<SlotState>& slots) const;
  RemovedTaskManager Erase(std::map<std::string, TaskManagerRecord>::iterator it,
                           RemovalReason reason);

  const Clock* clock_;
  const absl::Duration heartbeat_timeout_;
  const int max_slots_;
  std::map<std::string, TaskManagerRecord> by_id_;
  std::map<SessionId, std::string> id_by_session_;
  ResourceProfile capacity_;
};

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_TASK_MANAGER_REGISTRY_H_
