// Which ended jobs the JobManager forgets (jobstore.max-capacity and
// jobstore.expiration-time).
#include "jobmanager/job_history.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice {
namespace {

using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

v1::JobStatus Job(const std::string& id, const std::string& state, absl::Duration ended_ago) {
  v1::JobStatus job;
  job.set_job_id(id);
  job.set_state(state);
  job.set_start_time_ms(absl::ToUnixMillis(kNow - ended_ago - absl::Seconds(10)));
  job.set_duration_ms(10'000);
  return job;
}

TEST(JobHistoryTest, BeyondCapacityTheJobsThatEndedFirstGo) {
  std::vector<v1::JobStatus> jobs = {
      Job("old", "FINISHED", absl::Minutes(30)), Job("older", "FAILED", absl::Minutes(40)),
      Job("new", "CANCELED", absl::Minutes(1)), Job("running", "RUNNING", absl::Hours(5))};
  JobHistoryLimits limits{/*max_ended_jobs=*/1, /*expiration=*/absl::Hours(1)};
  EXPECT_THAT(JobsToForget(jobs, kNow, limits), UnorderedElementsAre("old", "older"));
  limits.max_ended_jobs = 3;
  EXPECT_THAT(JobsToForget(jobs, kNow, limits), IsEmpty());
}

TEST(JobHistoryTest, EndedJobsExpireButRunningOnesNeverDo) {
  std::vector<v1::JobStatus> jobs = {
      Job("expired", "FINISHED", absl::Minutes(61)), Job("fresh", "FINISHED", absl::Minutes(59)),
      Job("running", "RUNNING", absl::Hours(2)), Job("canceling", "CANCELING", absl::Hours(2))};
  JobHistoryLimits limits{/*max_ended_jobs=*/1000, /*expiration=*/absl::Hours(1)};
  EXPECT_THAT(JobsToForget(jobs, kNow, limits), UnorderedElementsAre("expired"));
}

TEST(JobHistoryTest, CapacityZeroKeepsNoEndedJob) {
  std::vector<v1::JobStatus> jobs = {Job("a", "FINISHED", absl::Seconds(1)),
                                     Job("b", "RUNNING", absl::Seconds(1))};
  EXPECT_THAT(JobsToForget(jobs, kNow, {0, absl::Hours(1)}), UnorderedElementsAre("a"));
}

}  // namespace
}  // namespace sluice
