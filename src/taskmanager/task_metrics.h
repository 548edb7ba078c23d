// Per-subtask and per-operator metrics of a TaskManager, read at scrape time
// (Flink's task and operator metrics). Subtasks are labelled with job_id,
// task and subtask, operators also with operator and operator_id (its node in
// the job graph, as names may repeat in a chain): records in/out and their
// rates, bytes in/out, busy / backpressured / idle milliseconds per second,
// input and output buffer pool usage. Rates and ms/s cover the time since
// the previous scrape. Also the bytes through the data port.
#ifndef SLUICE_TASKMANAGER_TASK_METRICS_H_
#define SLUICE_TASKMANAGER_TASK_METRICS_H_

#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "taskmanager/data_exchange.h"
#include "taskmanager/job_deployments.h"

namespace sluice {

class TaskMetrics final : public prometheus::Collectable {
 public:
  // Calls its visitor for every subtask running here and returns after the
  // last (the TaskManager runs JobDeployments::ForEachTask on its mailbox).
  using ForEachTask = std::function<void(const JobDeployments::TaskVisitor& visit)>;
  TaskMetrics(ForEachTask for_each_task, const DataExchange* exchange)
      : for_each_task_(std::move(for_each_task)), exchange_(exchange) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  // A subtask's counters at the previous scrape.
  struct Previous {
    absl::Time at;
    int64_t idle_ns = 0;
    int64_t backpressured_ns = 0;
    std::vector<engine::Task::OperatorCounts> operators;
  };
  class Families;
  void AddTask(const std::string& job, const engine::Task& task, absl::Time now, Previous& before,
               Families& out) const;

  const ForEachTask for_each_task_;
  const DataExchange* exchange_;
  mutable absl::Mutex mu_;
  mutable std::map<std::tuple<std::string, int, int>, Previous> previous_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_TASK_METRICS_H_
