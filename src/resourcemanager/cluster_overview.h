// What the ResourceManager reports about the whole cluster: totals, the
// utilization of every resource, and a full status snapshot for the CLI.
#ifndef SLUICE_RESOURCEMANAGER_CLUSTER_OVERVIEW_H_
#define SLUICE_RESOURCEMANAGER_CLUSTER_OVERVIEW_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/metrics/utilization_gauges.h"
#include "resourcemanager/slot_manager.h"
#include "resourcemanager/task_manager_registry.h"

namespace sluice {

// One entry per resource: slots, cpu and memory always; network when any
// TaskManager declares it; every extended resource ever registered.
std::vector<ResourceUtilization> ComputeUtilization(const ClusterTotals& totals);

struct ClusterOverview {
  ClusterTotals totals;
  std::vector<ResourceUtilization> utilization;
  int64_t task_managers_lost_total = 0;
};

struct ClusterStatusSnapshot {
  std::string resource_manager_id;
  absl::Time taken_at;
  std::vector<TaskManagerRecord> task_managers;  // info.slots: the RM's current view
  ClusterOverview overview;
  int job_managers = 0;
  std::string scheduler;
  std::vector<TenantView> tenants;
  std::vector<WaitingRequest> waiting;
};

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_CLUSTER_OVERVIEW_H_
