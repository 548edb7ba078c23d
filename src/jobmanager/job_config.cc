#include "jobmanager/job_config.h"

#include "absl/strings/str_cat.h"
#include "jobmanager/checkpoint_coordinator.h"

namespace sluice {
absl::StatusOr<Config> JobConfigOf(const Config& cluster, const v1::JobSubmission& submission) {
  // -D first, then the job's code: the later assignment wins, as in Flink.
  std::vector<std::string> overrides(submission.job_config().begin(),
                                     submission.job_config().end());
  const size_t from_code = overrides.size();
  overrides.insert(overrides.end(), submission.graph().config().begin(),
                   submission.graph().config().end());
  for (size_t i = 0; i < overrides.size(); ++i) {
    const std::string& assignment = overrides[i];
    const char* where = i < from_code ? "job configuration" : "the job's code sets";
    if (assignment.find('=') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " '", assignment, "': expected key=value"));
    }
    if (!IsJobConfigKey(AssignedKey(assignment))) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": key '", AssignedKey(assignment),
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
