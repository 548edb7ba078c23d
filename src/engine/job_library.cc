#include "engine/job_library.h"

#include <dlfcn.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/elf_check.h"

namespace sluice::engine {

absl::StatusOr<std::unique_ptr<JobLibrary>> JobLibrary::Load(const std::string& path) {
  // A bare name is a system library found on the loader's search path.
  if (path.find('/') != std::string::npos) {
    if (absl::Status whole = CheckSharedObjectFile(path); !whole.ok()) return whole;
  }
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return absl::InvalidArgumentError(absl::StrCat("cannot load job library '", path,
                                                   "': ", why != nullptr ? why : "unknown error"));
  }
  using Entry = const JobRegistry* (*)();
  using Version = int (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, "sluice_job_registry_v1"));
  if (entry == nullptr) {
    dlclose(handle);
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path, "' is not a Sluice job library: it registers no jobs (use SLUICE_JOB)"));
  }
  // Libraries from before the runtime left the job API have no version entry: ABI 1.
  auto version = reinterpret_cast<Version>(dlsym(handle, "sluice_job_abi_version"));
  const int abi = version == nullptr ? 1 : version();
  if (abi != internal::kAbiVersion) {
    dlclose(handle);
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path, "' was built for Sluice job ABI version ", abi, ", but this runtime runs ABI ",
        "version ", internal::kAbiVersion, ": rebuild it against this Sluice SDK"));
  }
  const JobRegistry* registry = entry();
  if (registry == nullptr) {
    dlclose(handle);
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' returned no job registry"));
  }
  return std::unique_ptr<JobLibrary>(new JobLibrary(path, handle, registry));
}

std::vector<std::string> JobLibrary::jobs() const {
  std::vector<std::string> names;
  for (const auto& [name, build] : registry_->jobs) names.push_back(name);
  return names;
}

absl::StatusOr<JobGraph> JobLibrary::Build(const std::string& job,
                                           const std::vector<std::string>& args, int parallelism,
                                           int max_parallelism) const {
  auto it = registry_->jobs.find(job);
  if (it == registry_->jobs.end()) {
    return absl::NotFoundError(absl::StrCat("'", path_, "' has no job named '", job,
                                            "'; it has: ", absl::StrJoin(jobs(), ", ")));
  }
  try {
    StreamEnvironment env(job);
    if (parallelism > 0) env.SetParallelism(parallelism);
    // As in Flink: the configuration's value is the default the job's code may override.
    if (max_parallelism > 0) env.SetMaxParallelism(max_parallelism);
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
