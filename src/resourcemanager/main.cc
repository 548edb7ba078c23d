// sluice-resourcemanager: owns the cluster's TaskManagers and slots.
#include "common/daemon.h"
#include "resourcemanager/resource_manager_server.h"

int main(int argc, char** argv) {
  return sluice::RunDaemon<sluice::ResourceManagerServer>(argc, argv, "sluice-resourcemanager");
}
