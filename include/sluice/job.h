// Registering jobs in a job library (a shared object the CLI and the
// TaskManagers load):
//
//   #include <sluice/sluice.h>
//   SLUICE_JOB(WordCount) {   // (StreamEnvironment& env, const std::vector<std::string>& args)
//     env.ReadTextFiles(args.at(0)) ... .WriteAsText(args.at(1));
//   }
//
// The build function must be deterministic: TaskManagers run it again and
// compare the graph's hash with the submitted one.
#ifndef SLUICE_JOB_H_
#define SLUICE_JOB_H_

#include <map>
#include <string>
#include <vector>

#include "sluice/datastream.h"
#include "sluice/internal/abi.h"

namespace sluice {

using JobBuildFunction = void (*)(StreamEnvironment& env, const std::vector<std::string>& args);

struct JobRegistry {
  int api_version = internal::kAbiVersion;
  std::map<std::string, JobBuildFunction> jobs;
};

namespace internal {
// One registry per shared object: hidden, so a library never sees the host's.
__attribute__((visibility("hidden"))) inline JobRegistry& LibraryJobRegistry() {
  static JobRegistry registry;
  return registry;
}
struct JobRegistration {
  JobRegistration(const char* name, JobBuildFunction build, const void* anchor) {
    (void)anchor;
    LibraryJobRegistry().jobs[name] = build;
  }
};
}  // namespace internal
}  // namespace sluice

// The entry points the loader looks up: the ABI version first (a plain int,
// readable whatever else changed), then the registry.
extern "C" __attribute__((visibility("default"), used)) inline int sluice_job_abi_version() {
  return sluice::internal::kAbiVersion;
}
extern "C" __attribute__((visibility("default"), used)) inline const sluice::JobRegistry*
sluice_job_registry_v1() {
  return &sluice::internal::LibraryJobRegistry();
}

#define SLUICE_JOB(Name)                                                                   \
  static void SluiceBuild_##Name(::sluice::StreamEnvironment& env,                         \
                                 const std::vector<std::string>& args);                    \
  [[maybe_unused]] static ::sluice::internal::JobRegistration sluice_registration_##Name(  \
      #Name, &SluiceBuild_##Name, reinterpret_cast<const void*>(&sluice_job_registry_v1)); \
  static void SluiceBuild_##Name([[maybe_unused]] ::sluice::StreamEnvironment& env,        \
                                 [[maybe_unused]] const std::vector<std::string>& args)

#endif  // SLUICE_JOB_H_
