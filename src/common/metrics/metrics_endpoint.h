// A daemon's metrics: a Prometheus registry plus process metrics, served at
// /metrics by an HttpServer that the daemon may extend with more endpoints.
#ifndef SLUICE_COMMON_METRICS_METRICS_ENDPOINT_H_
#define SLUICE_COMMON_METRICS_METRICS_ENDPOINT_H_

#include <memory>
#include <string>

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
  // Binds the first free port of `ports` and serves; returns the port.
  absl::StatusOr<int> Start(const std::string& host, PortRange ports);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_;
  HttpServer http_;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_METRICS_METRICS_ENDPOINT_H_
