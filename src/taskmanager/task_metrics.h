// Per-subtask metrics of a TaskManager, read at scrape time, labelled with
// job, task and subtask (Flink's task metrics): records and bytes in/out,
// busy / backpressured / idle milliseconds per second since the last scrape,
// and input buffer pool usage.
#ifndef SLUICE_TASKMANAGER_TASK_METRICS_H_
#define SLUICE_TASKMANAGER_TASK_METRICS_H_

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "taskmanager/job_deployments.h"

namespace sluice {

class TaskMetrics final : public prometheus::Collectable {
 public:
  explicit TaskMetrics(JobDeployments* deployments) : deployments_(deployments) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Previous {
    absl::Time at;
    int64_t idle_ns = 0;
    int64_t backpressured_ns = 0;
  };
  JobDeployments* deployments_;
  mutable absl::Mutex mu_;
  mutable std::map<std::tuple<std::string, int, int>, Previous> previous_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_TASK_METRICS_H_
