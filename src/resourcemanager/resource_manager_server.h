// A running ResourceManager: the core, its gRPC service and its metrics
// endpoint, wired from the configuration. The daemon's main() and the tests
// both start it through here.
#ifndef SLUICE_RESOURCEMANAGER_RESOURCE_MANAGER_SERVER_H_
#define SLUICE_RESOURCEMANAGER_RESOURCE_MANAGER_SERVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/config/config.h"
#include "common/daemon.h"
#include "common/metrics/metrics_endpoint.h"
#include "common/rpc/grpc_server.h"
#include "resourcemanager/resource_manager.h"
#include "resourcemanager/resource_manager_service.h"

namespace sluice {

// Slot allocation settings from resourcemanager.*, slot.request.timeout and
// friends. Allocation ids start with a per-start prefix, so they stay unique
// across ResourceManager restarts.
SlotManagerOptions SlotManagerOptionsFromConfig(const Config& config);

class ResourceManagerServer final : public Daemon {
 public:
  static absl::StatusOr<std::unique_ptr<ResourceManagerServer>> Start(
      const Config& config, const Clock* clock = SystemClock::Get());
  ~ResourceManagerServer() override;

  void Shutdown() override;
  int rpc_port() const { return grpc_.port; }
  int metrics_port() const { return metrics_.http().port(); }
  ResourceManager& core() { return *core_; }

 private:
  ResourceManagerServer() = default;

  MetricsEndpoint metrics_;
  std::unique_ptr<ResourceManager> core_;
  std::unique_ptr<ResourceManagerService> service_;
  RunningGrpcServer grpc_;
};

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_RESOURCE_MANAGER_SERVER_H_
