// Runs a submitted job's build function outside the JobManager: in a
// short-lived sluice-graph-builder process with an address-space and CPU
// limit and a wall-clock deadline. The JobManager never loads a user's
// library, so a library that is truncated, crashes, exits or hangs in its
// build function fails only its own submission, named, and every other RPC
// goes on being served.
//
// The helper loads the library, builds the named job with the submission's
// arguments and parallelism, and writes the graph's hash to file descriptor 3
// ("ok <hash>") or why it could not ("error <message>"); whatever the user's
// code prints goes to the JobManager's own stdout and stderr.
#ifndef SLUICE_JOBMANAGER_GRAPH_BUILDER_PROCESS_H_
#define SLUICE_JOBMANAGER_GRAPH_BUILDER_PROCESS_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace sluice {

inline constexpr char kGraphBuilderName[] = "sluice-graph-builder";
inline constexpr int kGraphBuilderResultFd = 3;

struct GraphBuildRequest {
  std::string library_path;
  std::string job_name;
  std::vector<std::string> args;
  int parallelism = 0;
  int max_parallelism = 0;
};

struct GraphBuildLimits {
  absl::Duration timeout = absl::Seconds(60);
  int64_t memory_bytes = int64_t{1} << 30;
};

// The helper's command line, and its inverse (for the helper's main).
std::vector<std::string> GraphBuilderArguments(const GraphBuildRequest& request,
                                               const GraphBuildLimits& limits);
absl::StatusOr<std::pair<GraphBuildRequest, GraphBuildLimits>> ParseGraphBuilderArguments(
    const std::vector<std::string>& arguments);

// Where sluice-graph-builder is: next to this process's executable, else in
// the build tree's bin directory (tests that run a JobManager in-process).
std::string DefaultGraphBuilderPath();

class GraphBuilderProcess {
 public:
  using Done = std::function<void(absl::StatusOr<uint64_t> graph_hash)>;

  GraphBuilderProcess(std::string helper_path, GraphBuildLimits limits);
  // Kills the helpers still running (their `done` runs with CANCELLED) and
  // joins their waiters.
  ~GraphBuilderProcess();

  // Starts a helper; `done` runs on a thread of its own with the hash of the
  // graph built, or INVALID_ARGUMENT / DEADLINE_EXCEEDED saying what went wrong.
  void Build(GraphBuildRequest request, Done done);

 private:
  struct Waiter {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };
  void Wait(pid_t pid, int result_fd, const GraphBuildRequest& request, const Done& done);
  // Joins the waiters that have finished.
  void Reap() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string helper_path_;
  const GraphBuildLimits limits_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::list<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_GRAPH_BUILDER_PROCESS_H_
