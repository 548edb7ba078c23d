// sluice-taskmanager: offers slots to the cluster and runs tasks in them.
#include "common/daemon.h"
#include "taskmanager/task_manager.h"

int main(int argc, char** argv) {
  return sluice::RunDaemon<sluice::TaskManager>(argc, argv, "sluice-taskmanager");
}
