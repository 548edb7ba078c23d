#include "jobmanager/job_history.h"

#include <algorithm>
#include <utility>

namespace sluice {

std::vector<std::string> JobsToForget(const std::vector<v1::JobStatus>& jobs, absl::Time now,
                                      const JobHistoryLimits& limits) {
  std::vector<std::pair<int64_t, std::string>> ended;  // (end in ms, id)
  for (const auto& job : jobs) {
    if (IsTerminalJobState(job.state())) {
      ended.emplace_back(job.start_time_ms() + job.duration_ms(), job.job_id());
    }
  }
  std::sort(ended.begin(), ended.end());  // the first to end first
  const int64_t expired_before = absl::ToUnixMillis(now - limits.expiration);
  const size_t over_capacity =
      ended.size() > static_cast<size_t>(std::max(0, limits.max_ended_jobs))
          ? ended.size() - static_cast<size_t>(std::max(0, limits.max_ended_jobs))
          : 0;
  std::vector<std::string> forget;
  for (size_t i = 0; i < ended.size(); ++i) {
    if (i < over_capacity || ended[i].first < expired_before) forget.push_back(ended[i].second);
  }
  return forget;
}

}  // namespace sluice
