#include "taskmanager/task_metrics.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace sluice {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

class TaskMetrics::Families {
 public:
  MetricFamily records_in =
      Counter("sluice_task_records_in_total", "Records a subtask read from its input channels.");
  MetricFamily records_out =
      Counter("sluice_task_records_out_total", "Records a subtask wrote into its output channels.");
  MetricFamily records_in_rate =
      Gauge("sluice_task_records_in_per_second",
            "Records per second a subtask read, over the TaskManager's last 5 s.");
  MetricFamily records_out_rate =
      Gauge("sluice_task_records_out_per_second",
            "Records per second a subtask wrote, over the TaskManager's last 5 s.");
  MetricFamily bytes_in =
      Counter("sluice_task_bytes_in_total", "Bytes of record buffers a subtask received.");
  MetricFamily bytes_out =
      Counter("sluice_task_bytes_out_total", "Bytes of record buffers a subtask sent.");
  MetricFamily busy_seconds = Counter("sluice_task_busy_time_seconds_total",
                                      "Seconds a subtask worked (Flink: accumulated busy time).");
  MetricFamily backpressured_seconds = Counter("sluice_task_backpressured_time_seconds_total",
                                               "Seconds a subtask waited for room downstream.");
  MetricFamily idle_seconds =
      Counter("sluice_task_idle_time_seconds_total",
              "Seconds a subtask waited for input (a source: for its next record).");
  MetricFamily busy = Gauge("sluice_task_busy_time_ratio",
                            "Share of the last 5 s a subtask worked (Flink: busyTimeMsPerSecond "
                            "/ 1000).");
  MetricFamily backpressured = Gauge("sluice_task_backpressured_time_ratio",
                                     "Share of the last 5 s a subtask waited for room downstream.");
  MetricFamily idle =
      Gauge("sluice_task_idle_time_ratio", "Share of the last 5 s a subtask waited for input.");
  MetricFamily start_delay =
      Gauge("sluice_task_checkpoint_start_delay_seconds",
            "From the latest checkpoint's trigger to its barrier's first arrival at the subtask "
            "(Flink: checkpointStartDelayNanos).");
  MetricFamily alignment = Gauge("sluice_task_checkpoint_alignment_time_seconds",
                                 "How long the subtask's inputs waited for the latest barrier "
                                 "on every channel (Flink: checkpointAlignmentTime).");
  MetricFamily input_watermark =
      Gauge("sluice_task_current_input_watermark_seconds",
            "Event time at the subtask's input: the minimum over its active input channels, as "
            "seconds since the epoch (Flink: currentInputWatermark). Absent before the first.");
  MetricFamily output_watermark =
      Gauge("sluice_task_current_output_watermark_seconds",
            "The watermark the subtask last sent downstream (Flink: currentOutputWatermark).");
  MetricFamily watermark_lag =
      Gauge("sluice_task_watermark_lag_seconds",
            "How far the subtask's output watermark is behind the wall clock (Flink: "
            "watermarkLag).");
  MetricFamily late_dropped =
      Counter("sluice_task_late_records_dropped_total",
              "Records the subtask's windows dropped as later than their allowed lateness "
              "(Flink: numLateRecordsDropped).");
  MetricFamily operator_watermark =
      Gauge("sluice_operator_current_input_watermark_seconds",
            "Event time at an operator's input (Flink: currentInputWatermark of the operator).");
  MetricFamily input_pool = Gauge("sluice_task_input_pool_usage",
                                  "Share of the input channels' buffers holding data (0..1).");
  MetricFamily output_pool =
      Gauge("sluice_task_output_pool_usage",
            "Share of the output channels' buffers in use: queued downstream or in flight (0..1).");
  MetricFamily operator_in = Counter("sluice_operator_records_in_total",
                                     "Records an operator of a subtask's chain received.");
  MetricFamily operator_out = Counter("sluice_operator_records_out_total",
                                      "Records an operator of a subtask's chain emitted.");
  MetricFamily operator_in_rate =
      Gauge("sluice_operator_records_in_per_second",
            "Records per second an operator received, over the TaskManager's last 5 s.");
  MetricFamily operator_out_rate =
      Gauge("sluice_operator_records_out_per_second",
            "Records per second an operator emitted, over the TaskManager's last 5 s.");
  MetricFamily data_bytes =
      Counter("sluice_taskmanager_data_bytes_total",
              "Bytes through the data port to and from other TaskManagers, framing included.");

  std::vector<MetricFamily> All() && {
    return {std::move(records_in),         std::move(records_out),
            std::move(records_in_rate),    std::move(records_out_rate),
            std::move(bytes_in),           std::move(bytes_out),
            std::move(busy_seconds),       std::move(backpressured_seconds),
            std::move(idle_seconds),       std::move(busy),
            std::move(backpressured),      std::move(idle),
            std::move(start_delay),        std::move(alignment),
            std::move(input_watermark),    std::move(output_watermark),
            std::move(watermark_lag),      std::move(late_dropped),
            std::move(operator_watermark), std::move(input_pool),
            std::move(output_pool),        std::move(operator_in),
            std::move(operator_out),       std::move(operator_in_rate),
            std::move(operator_out_rate),  std::move(data_bytes)};
  }

  static void Add(MetricFamily& family, const Labels& labels, double value) {
    ClientMetric metric;
    metric.label = labels;
    if (family.type == MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    family.metric.push_back(std::move(metric));
  }

 private:
  static MetricFamily Counter(const char* name, const char* help) {
    return MetricFamily{name, help, MetricType::Counter, {}};
  }
  static MetricFamily Gauge(const char* name, const char* help) {
    return MetricFamily{name, help, MetricType::Gauge, {}};
  }
};

namespace {

// A chain may hold two operators of one name: operator_id tells them apart.
// A watermark that stands for a time (not "none yet" or "the end").
bool IsEventTime(int64_t watermark) {
  return watermark != internal::kNoWatermark && watermark != internal::kMaxWatermark;
}

Labels OperatorLabels(const Labels& task, const engine::Task::OperatorCounts& op) {
  Labels labels = task;
  labels.push_back({"operator", op.name});
  labels.push_back({"operator_id", std::to_string(op.node_id)});
  return labels;
}

}  // namespace

std::vector<MetricFamily> TaskMetrics::Collect() const {
  Families out;
  const int64_t now_ns = absl::GetCurrentTimeNanos();
  for_each_task_([&](const std::string& job, const engine::Task& task, const TaskSampler& rates) {
    AddTask(job, task, now_ns, rates, out);
  });
  const data::Traffic& traffic = exchange_->traffic();
  Families::Add(out.data_bytes, {{"direction", "sent"}}, static_cast<double>(traffic.sent.load()));
  Families::Add(out.data_bytes, {{"direction", "received"}},
                static_cast<double>(traffic.received.load()));
  return std::move(out).All();
}

void TaskMetrics::AddTask(const std::string& job, const engine::Task& task, int64_t now_ns,
                          const TaskSampler& sampler, Families& out) const {
  const auto& stats = task.stats();
  Labels labels = {{"job_id", job},
                   {"task_name", task.vertex_name()},
                   {"subtask_index", std::to_string(task.subtask())}};
  labels.insert(labels.end(), identity_.begin(), identity_.end());
  auto operators = task.operator_counts();
  Families::Add(out.records_in, labels, static_cast<double>(operators.front().records_in));
  Families::Add(out.records_out, labels, static_cast<double>(operators.back().records_out));
  Families::Add(out.bytes_in, labels, static_cast<double>(stats.bytes_in.load()));
  Families::Add(out.bytes_out, labels, static_cast<double>(stats.bytes_out.load()));
  const TaskTimes times = TimesOf(task, now_ns);
  Families::Add(out.busy_seconds, labels, times.busy_ns / 1e9);
  Families::Add(out.idle_seconds, labels, times.idle_ns / 1e9);
  Families::Add(out.backpressured_seconds, labels, times.backpressured_ns / 1e9);
  Families::Add(out.input_pool, labels, task.input_pool_usage());
  Families::Add(out.start_delay, labels, stats.checkpoint_start_delay_ns.load() / 1e9);
  Families::Add(out.alignment, labels, stats.checkpoint_alignment_ns.load() / 1e9);
  Families::Add(out.output_pool, labels, task.output_pool_usage());
  Families::Add(out.late_dropped, labels, static_cast<double>(stats.late_records_dropped.load()));
  const int64_t input_watermark = stats.input_watermark.load();
  const int64_t output_watermark = stats.output_watermark.load();
  if (IsEventTime(input_watermark)) {
    Families::Add(out.input_watermark, labels, input_watermark / 1e3);
  }
  if (IsEventTime(output_watermark)) {
    Families::Add(out.output_watermark, labels, output_watermark / 1e3);
    Families::Add(out.watermark_lag, labels,
                  static_cast<double>(now_ns / 1000000 - output_watermark) / 1e3);
  }
  for (const auto& op : operators) {
    Labels with_operator = OperatorLabels(labels, op);
    if (IsEventTime(op.input_watermark)) {
      Families::Add(out.operator_watermark, with_operator, op.input_watermark / 1e3);
    }
    Families::Add(out.operator_in, with_operator, static_cast<double>(op.records_in));
    Families::Add(out.operator_out, with_operator, static_cast<double>(op.records_out));
  }
  auto rates = sampler.RatesOf(job, task.vertex(), task.subtask());
  if (!rates) return;  // until it was sampled twice
  Families::Add(out.records_in_rate, labels, rates->records_in_per_second);
  Families::Add(out.records_out_rate, labels, rates->records_out_per_second);
  Families::Add(out.busy, labels, rates->busy_ratio);
  Families::Add(out.backpressured, labels, rates->backpressured_ratio);
  Families::Add(out.idle, labels, rates->idle_ratio);
  for (size_t k = 0; k < operators.size() && k < rates->operator_in_per_second.size(); ++k) {
    Labels with_operator = OperatorLabels(labels, operators[k]);
    Families::Add(out.operator_in_rate, with_operator, rates->operator_in_per_second[k]);
    Families::Add(out.operator_out_rate, with_operator, rates->operator_out_per_second[k]);
  }
}

}  // namespace sluice
