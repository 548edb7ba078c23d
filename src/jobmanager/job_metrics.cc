#include "jobmanager/job_metrics.h"

#include <map>
#include <string>

#include "jobmanager/job_history.h"

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
  prometheus::MetricFamily state{
      "sluice_job_state",
      "1 for the state each job is in (CREATED, RUNNING, RESTARTING, FINISHED, "
      "CANCELING, CANCELED, FAILED).",
      MetricType::Gauge,
      {}};
  prometheus::MetricFamily uptime{"sluice_job_uptime_seconds",
                                  "Time since the job was submitted (until it ended).",
                                  MetricType::Gauge,
                                  {}};
  prometheus::MetricFamily running{
      "sluice_job_running_tasks", "Subtasks of the job running now.", MetricType::Gauge, {}};
  prometheus::MetricFamily restarts{
      "sluice_job_restarts",
      "Times the job restarted from a checkpoint (Flink: numRestarts).",
      MetricType::Gauge,
      {}};
  prometheus::MetricFamily completed{"sluice_job_checkpoints_completed",
                                     "Completed checkpoints (Flink: numberOfCompletedCheckpoints).",
                                     MetricType::Gauge,
                                     {}};
  prometheus::MetricFamily failed{"sluice_job_checkpoints_failed",
                                  "Failed checkpoints (Flink: numberOfFailedCheckpoints).",
                                  MetricType::Gauge,
                                  {}};
  prometheus::MetricFamily in_progress{
      "sluice_job_checkpoints_in_progress",
      "Checkpoints in progress (Flink: numberOfInProgressCheckpoints).",
      MetricType::Gauge,
      {}};
  prometheus::MetricFamily last_duration{
      "sluice_job_last_checkpoint_duration_seconds",
      "Duration of the latest completed checkpoint (Flink: lastCheckpointDuration).",
      MetricType::Gauge,
      {}};
  prometheus::MetricFamily last_size{
      "sluice_job_last_checkpoint_size_bytes",
      "State size of the latest completed checkpoint (Flink: lastCheckpointSize).",
      MetricType::Gauge,
      {}};
  prometheus::MetricFamily last_restore{
      "sluice_job_last_checkpoint_restore_timestamp_seconds",
      "When the job last started from a checkpoint or savepoint (Flink: "
      "lastCheckpointRestoreTimestamp); absent if it never did.",
      MetricType::Gauge,
      {}};
  prometheus::MetricFamily jobs{
      "sluice_jobmanager_jobs",
      "Jobs the JobManager knows by state: running ones and ended ones still in its history "
      "(jobstore.expiration-time). Per-job series are only for jobs that have not ended.",
      MetricType::Gauge,
      {}};
  std::map<std::string, int> by_state = {{"CREATED", 0},   {"RUNNING", 0},  {"RESTARTING", 0},
                                         {"CANCELING", 0}, {"FINISHED", 0}, {"CANCELED", 0},
                                         {"FAILED", 0}};
  for (const auto& job : dispatcher_->List()) {
    ++by_state[job.state()];
    // An ended job's series go at once (as Flink's): dashboards show what runs.
    if (IsTerminalJobState(job.state())) continue;
    std::vector<prometheus::ClientMetric::Label> labels = {{"job_id", job.job_id()},
                                                           {"job_name", job.name()}};
    auto with_state = labels;
    with_state.push_back({"state", job.state()});
    Add(state, with_state, 1);
    Add(uptime, labels, static_cast<double>(job.duration_ms()) / 1000.0);
    Add(running, labels, job.running_tasks());
    Add(restarts, labels, job.restarts());
    if (job.has_checkpoints()) {
      const auto& c = job.checkpoints();
      Add(completed, labels, static_cast<double>(c.completed()));
      Add(failed, labels, static_cast<double>(c.failed()));
      Add(in_progress, labels, c.in_progress());
      Add(last_duration, labels, static_cast<double>(c.last_duration_ms()) / 1000.0);
      Add(last_size, labels, static_cast<double>(c.last_size_bytes()));
      if (c.last_restore_time_ms() > 0) {
        Add(last_restore, labels, static_cast<double>(c.last_restore_time_ms()) / 1000.0);
      }
    }
  }
  for (const auto& [name, count] : by_state) Add(jobs, {{"state", name}}, count);
  return {jobs,   state,       uptime,        running,   restarts,    completed,
          failed, in_progress, last_duration, last_size, last_restore};
}

}  // namespace sluice
