// Which ended jobs the JobManager forgets: those ended longer than
// `jobstore.expiration-time` ago, and beyond `jobstore.max-capacity` ended
// jobs the ones that ended first (Flink's job store settings). Running jobs
// are always kept.
#ifndef SLUICE_JOBMANAGER_JOB_HISTORY_H_
#define SLUICE_JOBMANAGER_JOB_HISTORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/job_state.h"
#include "sluice/v1/jobmanager.pb.h"

namespace sluice {

struct JobHistoryLimits {
  int max_ended_jobs = 1000;                   // jobstore.max-capacity
  absl::Duration expiration = absl::Hours(1);  // jobstore.expiration-time
};

// The ids of the jobs to forget at `now`.
std::vector<std::string> JobsToForget(const std::vector<v1::JobStatus>& jobs, absl::Time now,
                                      const JobHistoryLimits& limits);

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_JOB_HISTORY_H_
