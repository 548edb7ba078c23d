// `sluice run --local` and `sluice info`: load a job library, build the job's
// graph, and run it in this process or print its plan.
#ifndef SLUICE_CLIENT_JOB_COMMANDS_H_
#define SLUICE_CLIENT_JOB_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace sluice {

struct JobCommand {
  std::string library;
  std::string job;
  std::vector<std::string> args;
  int parallelism = 0;                                      // 0: the job's default
  absl::Duration buffer_timeout = absl::Milliseconds(100);  // execution.buffer-timeout
  absl::Duration auto_watermark_interval =
      absl::Milliseconds(200);     // pipeline.auto-watermark-interval
  int max_parallelism = 0;         // pipeline.max-parallelism; 0: the job's
  size_t segment_size = 32 << 10;  // taskmanager.memory.segment-size (--local only)
  // For a cluster.
  std::string target;  // JobManager host:port
  bool detached = false;
  std::string tenant;
  std::string token;
  int priority = 0;
  int num_task_managers = 0;
  std::string restore_path;  // -s: resume from a checkpoint or savepoint
  bool allow_non_restored_state = false;
  // -D keys of the job's own (checkpointing, restarts): sent along.
  std::vector<std::string> job_config;
};

// Runs the job in-process and follows it; returns the exit code (0 only if
// the job finished).
int RunLocal(const JobCommand& command, std::ostream& out, std::ostream& err);
// Submits the job (graph and library) to the JobManager at command.target and,
// unless detached, follows it to its end; 0 only if it finished.
int RunOnCluster(const JobCommand& command, std::ostream& out, std::ostream& err);
// Which jobs `sluice list` shows (Flink's -r, -s, -a); none set: running
// and scheduled, as Flink's list does.
struct ListFilter {
  bool running = false;
  bool scheduled = false;
  bool all = false;
};
int ListJobs(const std::string& target, const ListFilter& filter, std::ostream& out,
             std::ostream& err);
// sluice savepoint <job-id> [dir] / sluice stop [--savepoint-path dir] [--drain] <job-id>.
struct SavepointCommand {
  std::string job_id;
  std::string directory;  // empty: the JobManager's execution.checkpointing.savepoint-dir
  bool stop = false;
  bool drain = false;
  absl::Duration timeout = absl::Minutes(10);
};
int TriggerSavepoint(const std::string& target, const SavepointCommand& command, std::ostream& out,
                     std::ostream& err);
int CancelJob(const std::string& target, const std::string& job_id, std::ostream& out,
              std::ostream& err);
// Prints the plan: vertices, parallelism, chaining, partitioning.
int PrintPlan(const JobCommand& command, std::ostream& out, std::ostream& err);

}  // namespace sluice

#endif  // SLUICE_CLIENT_JOB_COMMANDS_H_
