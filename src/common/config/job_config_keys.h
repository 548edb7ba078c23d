// The configuration keys a job may set for itself (sluice run -D key=value),
// over the cluster's, as Flink's per-job configuration: its checkpointing
// and its restart strategy. The CLI sends them with the job; the JobManager
// applies them (jobmanager/job_config.h).
#ifndef SLUICE_COMMON_CONFIG_JOB_CONFIG_KEYS_H_
#define SLUICE_COMMON_CONFIG_JOB_CONFIG_KEYS_H_

#include <string>
#include <vector>

#include "absl/strings/match.h"

namespace sluice {

inline bool IsJobConfigKey(const std::string& key) {
  return absl::StartsWith(key, "execution.checkpointing.") ||
         absl::StartsWith(key, "restart-strategy.") || key == "state.checkpoints.dir" ||
         key == "state.savepoints.dir";
}

// The key of "key=value".
inline std::string AssignedKey(const std::string& assignment) {
  return assignment.substr(0, assignment.find('='));
}

// The "key=value" overrides among `overrides` that a job may set.
inline std::vector<std::string> JobConfigOverrides(const std::vector<std::string>& overrides) {
  std::vector<std::string> job;
  for (const auto& assignment : overrides) {
    if (IsJobConfigKey(AssignedKey(assignment))) job.push_back(assignment);
  }
  return job;
}

}  // namespace sluice

#endif  // SLUICE_COMMON_CONFIG_JOB_CONFIG_KEYS_H_
