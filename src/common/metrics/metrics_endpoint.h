// A daemon's metrics: a Prometheus registry plus process metrics, served at
// /metrics by an HttpServer that the daemon may extend with more endpoints.
#ifndef SLUICE_COMMON_METRICS_METRICS_ENDPOINT_H_
#define SLUICE_COMMON_METRICS_METRICS_ENDPOINT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/http/http_server.h"
#include "prometheus/registry.h"

namespace sluice {

class MetricsEndpoint {
 public:
  MetricsEndpoint();
  prometheus::Registry& registry() { return *registry_; }
  HttpServer& http() { return http_; }
  const HttpServer& http() const { return http_; }
  // More metrics, read at scrape time. Call before Start().
  void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
    extra_.push_back(std::move(collectable));
  }
  // Binds the first free port of `ports` and serves; returns the port.
  absl::StatusOr<int> Start(const std::string& host, PortRange ports,
                            std::optional<HttpTls> tls = std::nullopt);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_;
  std::vector<std::shared_ptr<prometheus::Collectable>> extra_;
  HttpServer http_;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_METRICS_METRICS_ENDPOINT_H_
