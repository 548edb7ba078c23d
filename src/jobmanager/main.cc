// sluice-jobmanager: runs jobs; serves the REST API and metrics on rest.port.
#include "common/daemon.h"
#include "jobmanager/job_manager.h"

int main(int argc, char** argv) {
  return sluice::RunDaemon(argc, argv, "sluice-jobmanager", [](const sluice::Config& config)
                               -> absl::StatusOr<std::unique_ptr<sluice::Daemon>> {
    auto jm = sluice::JobManager::Start(config);
    if (!jm.ok()) return jm.status();
    return std::unique_ptr<sluice::Daemon>(std::move(*jm));
  });
}
