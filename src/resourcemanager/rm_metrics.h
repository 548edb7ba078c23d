// The ResourceManager's Prometheus metrics.
#ifndef SLUICE_RESOURCEMANAGER_RM_METRICS_H_
#define SLUICE_RESOURCEMANAGER_RM_METRICS_H_

#include "absl/time/time.h"
#include "common/metrics/utilization_gauges.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "resourcemanager/cluster_overview.h"

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
};

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_RM_METRICS_H_
