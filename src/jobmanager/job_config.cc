#include "jobmanager/job_config.h"

#include "absl/strings/str_cat.h"
#include "jobmanager/checkpoint_coordinator.h"

namespace sluice {
absl::StatusOr<Config> JobConfigOf(const Config& cluster, const v1::JobSubmission& submission) {
  std::vector<std::string> overrides(submission.job_config().begin(),
                                     submission.job_config().end());
  for (const auto& assignment : overrides) {
    if (assignment.find('=') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("job configuration '", assignment, "': expected key=value"));
    }
    if (!IsJobConfigKey(AssignedKey(assignment))) {
      return absl::InvalidArgumentError(
          absl::StrCat("job configuration: key '", AssignedKey(assignment),
                       "' belongs to the cluster; a job sets only execution.checkpointing.* and "
                       "restart-strategy.*"));
    }
  }
  auto config = cluster.WithOverrides(overrides);
  if (!config.ok()) return config.status();
  // What the JobMaster will derive from it must hold too.
  if (auto checkpointing = CheckpointingOptionsFromConfig(*config); !checkpointing.ok()) {
    return checkpointing.status();
  }
  return config;
}

}  // namespace sluice
