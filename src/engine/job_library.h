// A loaded job library: the named jobs it registers and a way to run their
// build functions. Loading anything else (not a shared object, not a Sluice
// job library, a missing job, a build function that throws) is an error
// value, never a crash of the caller.
#ifndef SLUICE_ENGINE_JOB_LIBRARY_H_
#define SLUICE_ENGINE_JOB_LIBRARY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sluice/internal/graph.h"
#include "sluice/job.h"

namespace sluice::engine {

class JobLibrary {
 public:
  static absl::StatusOr<std::unique_ptr<JobLibrary>> Load(const std::string& path);

  const std::string& path() const { return path_; }
  std::vector<std::string> jobs() const;
  // Runs the build function of `job` with `args` and finalizes the graph
  // (`parallelism` > 0 overrides the default parallelism, `max_parallelism`
  // > 0 is pipeline.max-parallelism: the default the build function may override).
  absl::StatusOr<JobGraph> Build(const std::string& job, const std::vector<std::string>& args,
                                 int parallelism = 0, int max_parallelism = 0) const;

 private:
  JobLibrary(std::string path, void* handle, const JobRegistry* registry)
      : path_(std::move(path)), handle_(handle), registry_(registry) {}

  std::string path_;
  // Never dlclose()d: operator code from it may still run in other threads.
  void* handle_;
  const JobRegistry* registry_;
};

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_JOB_LIBRARY_H_
