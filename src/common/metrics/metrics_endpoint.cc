#include "common/metrics/metrics_endpoint.h"

#include "common/metrics/process_collector.h"

namespace sluice {

MetricsEndpoint::MetricsEndpoint()
    : registry_(std::make_shared<prometheus::Registry>()),
      process_(std::make_shared<ProcessCollector>()) {}

absl::StatusOr<int> MetricsEndpoint::Start(const std::string& host, PortRange ports,
                                           std::optional<HttpTls> tls) {
  std::vector<std::weak_ptr<prometheus::Collectable>> all = {registry_, process_};
  all.insert(all.end(), extra_.begin(), extra_.end());
  http_.ServeMetrics(std::move(all));
  return http_.Start(host, ports, std::move(tls));
}

}  // namespace sluice
