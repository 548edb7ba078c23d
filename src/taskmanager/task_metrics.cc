#include "taskmanager/task_metrics.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace sluice {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Family(const char* name, const char* help, MetricType type) {
  return MetricFamily{name, help, type, {}};
}

void Add(MetricFamily& family, const std::vector<ClientMetric::Label>& labels, double value) {
  ClientMetric metric;
  metric.label = labels;
  if (family.type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
}

}  // namespace

std::vector<MetricFamily> TaskMetrics::Collect() const {
  std::vector<MetricFamily> families = {
      Family("sluice_task_records_in_total", "Records a subtask read from its input channels.",
             MetricType::Counter),
      Family("sluice_task_records_out_total", "Records a subtask wrote into its output channels.",
             MetricType::Counter),
      Family("sluice_task_bytes_in_total", "Bytes of record buffers a subtask received.",
             MetricType::Counter),
      Family("sluice_task_bytes_out_total", "Bytes of record buffers a subtask sent.",
             MetricType::Counter),
      Family("sluice_task_busy_time_ms_per_second",
             "Milliseconds per second a subtask worked (since the previous scrape).",
             MetricType::Gauge),
      Family("sluice_task_backpressured_time_ms_per_second",
             "Milliseconds per second a subtask waited for room downstream.", MetricType::Gauge),
      Family("sluice_task_idle_time_ms_per_second",
             "Milliseconds per second a subtask waited for input.", MetricType::Gauge),
      Family("sluice_task_input_pool_usage",
             "Queued input buffers / buffers the input channels may hold.", MetricType::Gauge),
  };
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  std::map<std::tuple<std::string, int, int>, Previous> seen;
  deployments_->ForEachTask([&](const std::string& job, const engine::Task& task) {
    const auto& stats = task.stats();
    std::vector<ClientMetric::Label> labels = {
        {"job_id", job}, {"task", task.task_name()}, {"subtask", std::to_string(task.subtask())}};
    Add(families[0], labels, static_cast<double>(stats.records_in.load()));
    Add(families[1], labels, static_cast<double>(task.records_out()));
    Add(families[2], labels, static_cast<double>(stats.bytes_in.load()));
    Add(families[3], labels, static_cast<double>(stats.bytes_out.load()));
    const auto key = std::make_tuple(job, task.vertex(), task.subtask());
    Previous& before = seen[key] = previous_[key];
    int64_t idle = stats.idle_ns.load(), pressured = stats.backpressured_ns.load();
    double elapsed_ms = before.at == absl::Time() ? 0 : absl::ToDoubleMilliseconds(now - before.at);
    if (elapsed_ms > 0) {
      double idle_ms = (idle - before.idle_ns) / 1e6,
             pressured_ms = (pressured - before.backpressured_ns) / 1e6;
      double scale = 1000.0 / elapsed_ms;
      double busy = std::max(0.0, elapsed_ms - idle_ms - pressured_ms);
      Add(families[4], labels, busy * scale);
      Add(families[5], labels, pressured_ms * scale);
      Add(families[6], labels, idle_ms * scale);
    }
    before = Previous{now, idle, pressured};
    Add(families[7], labels, task.input_pool_usage());
  });
  previous_ = std::move(seen);  // ended jobs' tasks are forgotten
  return families;
}

}  // namespace sluice
