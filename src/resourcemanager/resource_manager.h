// The ResourceManager core: TaskManager and JobManager sessions, the failure
// detector, slot allocation (SlotManager) and the cluster overview. Everything
// runs on one mailbox thread; the public methods may be called from any
// thread and post to it.
#ifndef SLUICE_RESOURCEMANAGER_RESOURCE_MANAGER_H_
#define SLUICE_RESOURCEMANAGER_RESOURCE_MANAGER_H_

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/mailbox.h"
#include "resourcemanager/cluster_overview.h"
#include "resourcemanager/rm_metrics.h"
#include "resourcemanager/session_peer.h"
#include "resourcemanager/slot_manager.h"
#include "resourcemanager/task_manager_registry.h"
#include "resourcemanager/tenants.h"

namespace sluice {

struct ResourceManagerOptions {
  std::string id = "resourcemanager";
  absl::Duration heartbeat_interval = absl::Seconds(1);
  absl::Duration heartbeat_timeout = absl::Seconds(5);
  SlotManagerOptions slots;
  Tenants tenants;
  int max_slots_per_task_manager = 4096;  // resourcemanager.taskmanager.max-slots
};

struct JobManagerInfo {
  std::string id;
  std::string rpc_address;
  std::string rest_address;
};

// A TaskManager's answer to a slot request.
struct SlotRequestAnswer {
  std::string allocation_id;
  bool accepted = false;
  std::string occupant_job_id;
  std::string occupant_allocation_id;
  uint64_t slot_report_version = 0;
};

class ResourceManager {
 public:
  ResourceManager(ResourceManagerOptions options, const Clock* clock,
                  prometheus::Registry& metrics_registry);
  ~ResourceManager();

  SessionId NewSessionId() { return next_session_id_++; }

  // TaskManager sessions.
  void RegisterTaskManager(SessionId session, std::shared_ptr<SessionPeer> peer,
                           TaskManagerInfo info);
  void TaskManagerHeartbeat(SessionId session, uint64_t sequence, std::vector<SlotState> slots,
                            uint64_t slot_report_version, ProcessUsage usage);
  void SlotRequestAnswered(SessionId session, SlotRequestAnswer answer);
  void DeregisterTaskManager(SessionId session, std::string reason);
  void TaskManagerSessionClosed(SessionId session);

  // JobManager sessions.
  void RegisterJobManager(SessionId session, std::shared_ptr<SessionPeer> peer,
                          JobManagerInfo info);
  void JobManagerHeartbeat(SessionId session, uint64_t sequence);
  void DeclareResources(SessionId session, JobDeclaration declaration);
  void FreeSlot(SessionId session, std::string allocation_id);
  void ReleaseJob(SessionId session, std::string job_id);
  void JobManagerSessionClosed(SessionId session);

  // Calls `done` on the mailbox thread with a snapshot of the cluster.
  void GetClusterStatus(std::function<void(ClusterStatusSnapshot)> done);
  std::future<ClusterStatusSnapshot> GetClusterStatus();

 private:
  struct JobManagerSession {
    JobManagerInfo info;
    std::shared_ptr<SessionPeer> peer;
    absl::Time last_heartbeat;
  };

  // `still_held`: see SlotManager::RemoveTaskManager.
  void OnTaskManagerRemoved(const RemovedTaskManager& removed, const std::string& detail,
                            const std::set<std::string>& still_held = {});
  void Execute(SlotManagerEffects& effects);
  SessionPeer* TaskManagerPeer(const std::string& task_manager_id);
  const JobManagerSession* JobManagerById(const std::string& job_manager_id) const;
  void CheckHeartbeats();
  // After this process did not run for a while (paused, starved), its
  // peers' silence is its own: each gets a moment to be heard again.
  void ForgiveSilenceAfterStall(absl::Duration check_period);
  // Whether this process is, or was within heartbeat.timeout, stalled: a
  // peer's broken stream is then likely its own doing.
  bool RecentlyStalled() const;
  void ScheduleHeartbeatCheck();
  ClusterOverview Overview() const;
  void PublishTotals();

  const ResourceManagerOptions options_;
  const Clock* const clock_;
  std::atomic<SessionId> next_session_id_{1};
  // Mailbox-thread state.
  TaskManagerRegistry registry_;
  SlotManager slots_;
  std::map<SessionId, std::shared_ptr<SessionPeer>> task_manager_peers_;
  std::map<SessionId, JobManagerSession> job_managers_;
  int64_t task_managers_lost_ = 0;
  absl::Time last_check_ = absl::InfinitePast();  // of heartbeats
  absl::Duration check_period_ = absl::Milliseconds(250);
  absl::Time last_stall_ = absl::InfinitePast();  // when one was last noticed
  ResourceManagerMetrics metrics_;
  Mailbox mailbox_;  // last: its thread stops before the state above is destroyed
};

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_RESOURCE_MANAGER_H_
