// The ResourceManager's Prometheus metrics.
#ifndef SLUICE_RESOURCEMANAGER_RM_METRICS_H_
#define SLUICE_RESOURCEMANAGER_RM_METRICS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/metrics/utilization_gauges.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "resourcemanager/cluster_overview.h"
#include "resourcemanager/slot_manager.h"

namespace sluice {

class ResourceManagerMetrics {
 public:
  explicit ResourceManagerMetrics(prometheus::Registry& registry);

  void Publish(const ClusterOverview& overview);
  void Registered() { registrations_.Increment(); }
  void RegistrationRefused() { refused_.Increment(); }
  void TaskManagerLost(RemovalReason reason);
  void HeartbeatReceived(absl::Duration since_previous);
  void SetJobManagers(int count) { job_managers_.Set(count); }

  // Slot allocation, per tenant and per job.
  void PublishAllocation(const std::vector<TenantView>& tenants, const std::vector<JobView>& jobs,
                         const std::vector<WaitingRequest>& waiting, absl::Time now);
  void AllocationLatency(absl::Duration latency) {
    allocation_latency_.Observe(absl::ToDoubleSeconds(latency));
  }
  void Preempted(const std::string& tenant);

 private:
  prometheus::Gauge& task_managers_;
  prometheus::Family<prometheus::Gauge>& slots_;
  prometheus::Family<prometheus::Gauge>& capacity_;
  prometheus::Family<prometheus::Gauge>& used_;
  UtilizationGauges utilization_;
  prometheus::Family<prometheus::Counter>& lost_;
  prometheus::Counter& registrations_;
  prometheus::Counter& refused_;
  prometheus::Histogram& heartbeat_interval_;
  prometheus::Gauge& job_managers_;
  prometheus::Family<prometheus::Gauge>& tenant_slots_;
  prometheus::Family<prometheus::Gauge>& tenant_held_;
  prometheus::Family<prometheus::Gauge>& tenant_share_;
  prometheus::Family<prometheus::Gauge>& tenant_waiting_;
  prometheus::Family<prometheus::Gauge>& tenant_oldest_wait_;
  prometheus::Family<prometheus::Gauge>& job_slots_;
  prometheus::Family<prometheus::Gauge>& job_held_;
  prometheus::Gauge& waiting_requests_;
  prometheus::Histogram& allocation_latency_;
  prometheus::Family<prometheus::Counter>& preemptions_;
  struct JobSeries {
    prometheus::Gauge* slots;
    prometheus::Gauge* cpu;
    prometheus::Gauge* memory;
  };
  std::map<std::string, JobSeries> job_series_;
};

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_RM_METRICS_H_
