// Utilization of one cluster resource, and the gauge family
// sluice_cluster_resource_utilization{resource} that publishes it. Both the
// ResourceManager and the JobManager serve it.
#ifndef SLUICE_COMMON_METRICS_UTILIZATION_GAUGES_H_
#define SLUICE_COMMON_METRICS_UTILIZATION_GAUGES_H_

#include <string>
#include <vector>

#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace sluice {

struct ResourceUtilization {
  std::string resource;  // "slots", "cpu", "memory", "network" or an extended name
  double capacity = 0;
  double used = 0;
  double percent = 0;  // used / capacity * 100; 0 when capacity is 0
};

class UtilizationGauges {
 public:
  explicit UtilizationGauges(prometheus::Registry& registry);
  void Publish(const std::vector<ResourceUtilization>& utilization);

 private:
  prometheus::Family<prometheus::Gauge>& utilization_;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_METRICS_UTILIZATION_GAUGES_H_
