// sluice-resourcemanager: owns the cluster's TaskManagers and slots.
#include "common/daemon.h"
#include "resourcemanager/resource_manager_server.h"

int main(int argc, char** argv) {
  return sluice::RunDaemon(argc, argv, "sluice-resourcemanager", [](const sluice::Config& config)
                               -> absl::StatusOr<std::unique_ptr<sluice::Daemon>> {
    auto server = sluice::ResourceManagerServer::Start(config);
    if (!server.ok()) return server.status();
    return std::unique_ptr<sluice::Daemon>(std::move(*server));
  });
}
