// sluice-jobmanager: runs jobs; serves the REST API and metrics on rest.port.
#include "common/daemon.h"
#include "jobmanager/job_manager.h"

int main(int argc, char** argv) {
  return sluice::RunDaemon<sluice::JobManager>(argc, argv, "sluice-jobmanager");
}
