// A job's configuration: the cluster's, with the keys the job set for itself
// (common/config/job_config_keys.h) on top. Other keys belong to the daemons
// and are refused, naming the key.
#ifndef SLUICE_JOBMANAGER_JOB_CONFIG_H_
#define SLUICE_JOBMANAGER_JOB_CONFIG_H_

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/config/job_config_keys.h"
#include "sluice/v1/jobmanager.pb.h"

namespace sluice {

// The cluster's configuration with the submission's own keys on top;
// INVALID_ARGUMENT naming a key the job may not set or a bad value.
absl::StatusOr<Config> JobConfigOf(const Config& cluster, const v1::JobSubmission& submission);

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_JOB_CONFIG_H_
