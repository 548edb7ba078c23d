#include "jobmanager/job_metrics.h"

namespace sluice {
namespace {

void Add(prometheus::MetricFamily& family, std::vector<prometheus::ClientMetric::Label> labels,
         double value) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
}

}  // namespace

std::vector<prometheus::MetricFamily> JobMetrics::Collect() const {
  using prometheus::MetricType;
  prometheus::MetricFamily state{"sluice_job_state",
                                 "1 for the state each job is in (CREATED, RUNNING, FINISHED, "
                                 "CANCELING, CANCELED, FAILED).",
                                 MetricType::Gauge,
                                 {}};
  prometheus::MetricFamily uptime{"sluice_job_uptime_seconds",
                                  "Time since the job was submitted (until it ended).",
                                  MetricType::Gauge,
                                  {}};
  prometheus::MetricFamily running{
      "sluice_job_running_tasks", "Subtasks of the job running now.", MetricType::Gauge, {}};
  for (const auto& job : dispatcher_->List()) {
    std::vector<prometheus::ClientMetric::Label> labels = {{"job_id", job.job_id()},
                                                           {"job_name", job.name()}};
    auto with_state = labels;
    with_state.push_back({"state", job.state()});
    Add(state, with_state, 1);
    Add(uptime, labels, static_cast<double>(job.duration_ms()) / 1000.0);
    Add(running, labels, job.running_tasks());
  }
  return {state, uptime, running};
}

}  // namespace sluice
