#include "common/metrics/utilization_gauges.h"

namespace sluice {

UtilizationGauges::UtilizationGauges(prometheus::Registry& registry)
    : utilization_(prometheus::BuildGauge()
                       .Name("sluice_cluster_resource_utilization")
                       .Help("Cluster resource utilization in percent: used / capacity x 100, "
                             "one series per resource.")
                       .Register(registry)) {}

void UtilizationGauges::Publish(const std::vector<ResourceUtilization>& utilization) {
  for (const auto& u : utilization) utilization_.Add({{"resource", u.resource}}).Set(u.percent);
}

}  // namespace sluice
