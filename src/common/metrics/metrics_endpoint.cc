#include "common/metrics/metrics_endpoint.h"

#include "common/metrics/process_collector.h"

namespace sluice {

MetricsEndpoint::MetricsEndpoint()
    : registry_(std::make_shared<prometheus::Registry>()),
      process_(std::make_shared<ProcessCollector>()) {}

absl::StatusOr<int> MetricsEndpoint::Start(const std::string& host, PortRange ports) {
  http_.ServeMetrics({registry_, process_});
  return http_.Start(host, ports);
}

}  // namespace sluice
