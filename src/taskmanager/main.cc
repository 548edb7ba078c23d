// sluice-taskmanager: offers slots to the cluster and runs tasks in them.
#include "common/daemon.h"
#include "taskmanager/task_manager.h"

int main(int argc, char** argv) {
  return sluice::RunDaemon(argc, argv, "sluice-taskmanager", [](const sluice::Config& config)
                               -> absl::StatusOr<std::unique_ptr<sluice::Daemon>> {
    auto tm = sluice::TaskManager::Start(config);
    if (!tm.ok()) return tm.status();
    return std::unique_ptr<sluice::Daemon>(std::move(*tm));
  });
}
