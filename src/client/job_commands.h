// `sluice run --local` and `sluice info`: load a job library, build the job's
// graph, and run it in this process or print its plan.
#ifndef SLUICE_CLIENT_JOB_COMMANDS_H_
#define SLUICE_CLIENT_JOB_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

namespace sluice {

struct JobCommand {
  std::string library;
  std::string job;
  std::vector<std::string> args;
  int parallelism = 0;  // 0: the job's default
};

// Runs the job in-process and follows it; returns the exit code (0 only if
// the job finished).
int RunLocal(const JobCommand& command, std::ostream& out, std::ostream& err);
// Prints the plan: vertices, parallelism, chaining, partitioning.
int PrintPlan(const JobCommand& command, std::ostream& out, std::ostream& err);

}  // namespace sluice

#endif  // SLUICE_CLIENT_JOB_COMMANDS_H_
