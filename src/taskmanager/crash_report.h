// In a job process: when user code crashes it (a fatal signal) or ends it
// (exit() from a task thread), one line naming the cause and the task goes
// to a descriptor the TaskManager reads, before the process dies. The
// TaskManager adds how the process ended (waitpid) and fails the job with it.
#ifndef SLUICE_TASKMANAGER_CRASH_REPORT_H_
#define SLUICE_TASKMANAGER_CRASH_REPORT_H_

namespace sluice {

// Installs handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT and an
// exit hook; both write to `fd`. Call once, early.
void InstallCrashReporter(int fd);
// The process is ending on purpose (told to stop): exit() reports nothing.
void ExpectExit();

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_CRASH_REPORT_H_
