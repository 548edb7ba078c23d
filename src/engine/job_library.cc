#include "engine/job_library.h"

#include <dlfcn.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sluice::engine {

absl::StatusOr<std::unique_ptr<JobLibrary>> JobLibrary::Load(const std::string& path) {
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return absl::InvalidArgumentError(absl::StrCat("cannot load job library '", path,
                                                   "': ", why != nullptr ? why : "unknown error"));
  }
  using Entry = const JobRegistry* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, "sluice_job_registry_v1"));
  if (entry == nullptr) {
    dlclose(handle);
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path, "' is not a Sluice job library: it registers no jobs (use SLUICE_JOB)"));
  }
  const JobRegistry* registry = entry();
  if (registry == nullptr || registry->api_version != 1) {
    dlclose(handle);
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' was built for another Sluice job API version"));
  }
  return std::unique_ptr<JobLibrary>(new JobLibrary(path, handle, registry));
}

std::vector<std::string> JobLibrary::jobs() const {
  std::vector<std::string> names;
  for (const auto& [name, build] : registry_->jobs) names.push_back(name);
  return names;
}

absl::StatusOr<JobGraph> JobLibrary::Build(const std::string& job,
                                           const std::vector<std::string>& args,
                                           int parallelism) const {
  auto it = registry_->jobs.find(job);
  if (it == registry_->jobs.end()) {
    return absl::NotFoundError(absl::StrCat("'", path_, "' has no job named '", job,
                                            "'; it has: ", absl::StrJoin(jobs(), ", ")));
  }
  try {
    StreamEnvironment env(job);
    if (parallelism > 0) env.SetParallelism(parallelism);
    it->second(env, args);
    return env.Build();
  } catch (const GraphError& e) {
    return absl::InvalidArgumentError(absl::StrCat("job '", job, "': ", e.what()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("job '", job, "': its build function threw: ", e.what()));
  } catch (...) {
    return absl::InvalidArgumentError(
        absl::StrCat("job '", job, "': its build function threw an unknown exception"));
  }
}

}  // namespace sluice::engine
