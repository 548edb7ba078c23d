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
            "Records per second a subtask read (since the last scrape).");
  MetricFamily records_out_rate =
      Gauge("sluice_task_records_out_per_second",
            "Records per second a subtask wrote (since the last scrape).");
  MetricFamily bytes_in =
      Counter("sluice_task_bytes_in_total", "Bytes of record buffers a subtask received.");
  MetricFamily bytes_out =
      Counter("sluice_task_bytes_out_total", "Bytes of record buffers a subtask sent.");
  MetricFamily busy = Gauge("sluice_task_busy_time_ms_per_second",
                            "Milliseconds per second a subtask worked (since the last scrape).");
  MetricFamily backpressured =
      Gauge("sluice_task_backpressured_time_ms_per_second",
            "Milliseconds per second a subtask waited for room downstream.");
  MetricFamily idle = Gauge("sluice_task_idle_time_ms_per_second",
                            "Milliseconds per second a subtask waited for input.");
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
            "Records per second an operator received (since the last scrape).");
  MetricFamily operator_out_rate =
      Gauge("sluice_operator_records_out_per_second",
            "Records per second an operator emitted (since the last scrape).");
  MetricFamily data_bytes =
      Counter("sluice_taskmanager_data_bytes_total",
              "Bytes through the data port to and from other TaskManagers, framing included.");

  std::vector<MetricFamily> All() && {
    return {std::move(records_in),
            std::move(records_out),
            std::move(records_in_rate),
            std::move(records_out_rate),
            std::move(bytes_in),
            std::move(bytes_out),
            std::move(busy),
            std::move(backpressured),
            std::move(idle),
            std::move(start_delay),
            std::move(alignment),
            std::move(input_watermark),
            std::move(output_watermark),
            std::move(watermark_lag),
            std::move(late_dropped),
            std::move(operator_watermark),
            std::move(input_pool),
            std::move(output_pool),
            std::move(operator_in),
            std::move(operator_out),
            std::move(operator_in_rate),
            std::move(operator_out_rate),
            std::move(data_bytes)};
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
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    std::map<std::tuple<std::string, int, int>, Previous> seen;
    // Runs while `lock` is held here (for_each_task_ returns after the last
    // call, though it makes them on the mailbox thread); clang cannot see that.
    auto visit = [&, this](const std::string& job, const engine::Task& task)
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                       const auto key = std::make_tuple(job, task.vertex(), task.subtask());
                       Previous& before = seen[key] = previous_[key];
                       AddTask(job, task, now, before, out);
                     };
    for_each_task_(visit);
    previous_ = std::move(seen);  // ended jobs' tasks are forgotten
  }
  const data::Traffic& traffic = exchange_->traffic();
  Families::Add(out.data_bytes, {{"direction", "sent"}}, static_cast<double>(traffic.sent.load()));
  Families::Add(out.data_bytes, {{"direction", "received"}},
                static_cast<double>(traffic.received.load()));
  return std::move(out).All();
}

void TaskMetrics::AddTask(const std::string& job, const engine::Task& task, absl::Time now,
                          Previous& before, Families& out) const {
  const auto& stats = task.stats();
  const Labels labels = {
      {"job_id", job}, {"task", task.task_name()}, {"subtask", std::to_string(task.subtask())}};
  auto operators = task.operator_counts();
  const uint64_t records_in = operators.front().records_in;
  const uint64_t records_out = operators.back().records_out;
  Families::Add(out.records_in, labels, static_cast<double>(records_in));
  Families::Add(out.records_out, labels, static_cast<double>(records_out));
  Families::Add(out.bytes_in, labels, static_cast<double>(stats.bytes_in.load()));
  Families::Add(out.bytes_out, labels, static_cast<double>(stats.bytes_out.load()));
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
                  absl::ToDoubleSeconds(now - absl::FromUnixMillis(output_watermark)));
  }
  for (const auto& op : operators) {
    Labels with_operator = OperatorLabels(labels, op);
    if (IsEventTime(op.input_watermark)) {
      Families::Add(out.operator_watermark, with_operator, op.input_watermark / 1e3);
    }
    Families::Add(out.operator_in, with_operator, static_cast<double>(op.records_in));
    Families::Add(out.operator_out, with_operator, static_cast<double>(op.records_out));
  }

  const int64_t idle = stats.idle_ns.load(), pressured = stats.backpressured_ns.load();
  const double seconds = before.at == absl::Time() ? 0 : absl::ToDoubleSeconds(now - before.at);
  if (seconds > 0 && before.operators.size() == operators.size()) {
    auto per_second = [seconds](uint64_t now_count, uint64_t then_count) {
      return static_cast<double>(now_count - std::min(now_count, then_count)) / seconds;
    };
    Families::Add(out.records_in_rate, labels,
                  per_second(records_in, before.operators.front().records_in));
    Families::Add(out.records_out_rate, labels,
                  per_second(records_out, before.operators.back().records_out));
    const double idle_ms = (idle - before.idle_ns) / 1e6,
                 pressured_ms = (pressured - before.backpressured_ns) / 1e6;
    const double elapsed_ms = seconds * 1000;
    const double scale = 1000.0 / elapsed_ms;
    Families::Add(out.busy, labels, std::max(0.0, elapsed_ms - idle_ms - pressured_ms) * scale);
    Families::Add(out.backpressured, labels, pressured_ms * scale);
    Families::Add(out.idle, labels, idle_ms * scale);
    for (size_t k = 0; k < operators.size(); ++k) {
      Labels with_operator = OperatorLabels(labels, operators[k]);
      Families::Add(out.operator_in_rate, with_operator,
                    per_second(operators[k].records_in, before.operators[k].records_in));
      Families::Add(out.operator_out_rate, with_operator,
                    per_second(operators[k].records_out, before.operators[k].records_out));
    }
  }
  before = Previous{now, idle, pressured, std::move(operators)};
}

}  // namespace sluice
