// Per-subtask and per-operator metrics of a TaskManager, read at scrape time
// (Flink's task and operator metrics). Subtasks are labelled as Flink's
// Prometheus reporter does — job_id, task_name (the vertex), subtask_index,
// tm_id, host — operators also with operator and operator_id (its node in
// the job graph, as names may repeat in a chain): records in/out and their
// rates, bytes in/out, busy / backpressured / idle seconds (counters) and
// shares, input and output buffer pool usage. Rates and shares cover the
// TaskSampler's window, the same for every scraper. Also the bytes through
// the data port.
#ifndef SLUICE_TASKMANAGER_TASK_METRICS_H_
#define SLUICE_TASKMANAGER_TASK_METRICS_H_

#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "taskmanager/data_exchange.h"
#include "taskmanager/job_deployments.h"
#include "taskmanager/task_sampler.h"

namespace sluice {

class TaskMetrics final : public prometheus::Collectable {
 public:
  // Calls its visitor for every subtask running here, with the sampler that
  // knows its rates, and returns after the last (the TaskManager runs it on
  // its mailbox, which owns the deployments and the sampler).
  using TaskVisitor = std::function<void(const std::string& job_id, const engine::Task& task,
                                         const TaskSampler& rates)>;
  using ForEachTask = std::function<void(const TaskVisitor& visit)>;
  // `identity`: the labels naming this TaskManager (tm_id, host).
  TaskMetrics(ForEachTask for_each_task, const DataExchange* exchange,
              std::vector<prometheus::ClientMetric::Label> identity)
      : for_each_task_(std::move(for_each_task)),
        exchange_(exchange),
        identity_(std::move(identity)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  class Families;
  void AddTask(const std::string& job, const engine::Task& task, int64_t now_ns,
               const TaskSampler& sampler, Families& out) const;

  const ForEachTask for_each_task_;
  const DataExchange* exchange_;
  const std::vector<prometheus::ClientMetric::Label> identity_;
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_TASK_METRICS_H_
