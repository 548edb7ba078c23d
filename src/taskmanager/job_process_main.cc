// sluice-job-process: one job's tasks on one TaskManager, started by the
// TaskManager when taskmanager.isolation is `process` (see job_process.h).
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/daemon.h"
#include "spdlog/spdlog.h"
#include "taskmanager/crash_report.h"
#include "taskmanager/job_process.h"

int main(int argc, char** argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // the job's tasks never outlive their TaskManager
  sluice::InstallCrashReporter(sluice::kCrashReportFd);
  auto options = sluice::ParseJobProcessArguments(std::vector<std::string>(argv + 1, argv + argc));
  if (!options.ok()) {
    std::fprintf(stderr, "%s\n", std::string(options.status().message()).c_str());
    sluice::ExpectExit();
    return 2;
  }
  if (getppid() != options->parent_pid) return 1;  // the TaskManager died before prctl
  // Into the TaskManager's log (the inherited stderr), not the .out file of
  // what user code prints.
  sluice::SetUpLogging("job " + options->job_id.substr(0, 8), "info");
  if (options->memory_bytes > 0) {
    // The slots' memory bounds what the job's code may allocate: beyond it
    // an allocation fails (std::bad_alloc fails the task), and the
    // TaskManager's memory is untouched. RLIMIT_DATA counts heap and
    // private writable mappings, not the address space reserved by threads'
    // arenas, so it bounds what is used rather than what is mapped.
    rlimit limit{static_cast<rlim_t>(options->memory_bytes),
                 static_cast<rlim_t>(options->memory_bytes)};
    setrlimit(RLIMIT_DATA, &limit);
  }
  // Every thread created from here on blocks SIGTERM and SIGINT: main waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  auto server = sluice::JobProcessServer::Start(*options, sluice::kHandOffFd);
  if (!server.ok()) {
    spdlog::error("The job process cannot start: {}", std::string(server.status().message()));
    sluice::ExpectExit();
    return 1;
  }
  int signal = 0;
  sigwait(&stop, &signal);
  (*server)->Shutdown();
  sluice::ExpectExit();
  return 0;
}
