#include "taskmanager/task_sampler.h"

#include <algorithm>
#include <utility>

namespace sluice {

TaskTimes TimesOf(const engine::Task& task, int64_t now_ns) {
  const auto& stats = task.stats();
  TaskTimes times;
  times.idle_ns = stats.idle_ns.load(std::memory_order_relaxed);
  times.backpressured_ns = stats.backpressured_ns.load(std::memory_order_relaxed);
  const int64_t since = stats.running_since_ns.load(std::memory_order_relaxed);
  if (since > 0) {
    times.busy_ns = std::max<int64_t>(0, now_ns - since - times.idle_ns - times.backpressured_ns);
  }
  return times;
}

void TaskSampler::BeginRound() { sampled_.clear(); }

void TaskSampler::Sample(const std::string& job, const engine::Task& task, int64_t now_ns) {
  Key key{job, task.vertex(), task.subtask()};
  std::deque<Point> points;
  if (auto it = points_.find(key); it != points_.end()) points = std::move(it->second);
  Point point;
  point.at_ns = now_ns;
  point.times = TimesOf(task, now_ns);
  for (const auto& op : task.operator_counts()) {
    point.operator_in.push_back(op.records_in);
    point.operator_out.push_back(op.records_out);
  }
  // A new attempt of the subtask starts from zero: its old points go.
  if (!points.empty() && points.back().operator_in.size() != point.operator_in.size()) {
    points.clear();
  }
  points.push_back(std::move(point));
  // Keep the newest point at or before the window's start, and those after it.
  const int64_t window_start = now_ns - absl::ToInt64Nanoseconds(kWindow);
  while (points.size() > 2 && points[1].at_ns <= window_start) points.pop_front();
  sampled_[key] = std::move(points);
}

void TaskSampler::EndRound() { points_ = std::move(sampled_); }

std::optional<TaskSampler::Rates> TaskSampler::RatesOf(const std::string& job, int vertex,
                                                       int subtask) const {
  auto it = points_.find(Key{job, vertex, subtask});
  if (it == points_.end() || it->second.size() < 2) return std::nullopt;
  const Point& first = it->second.front();
  const Point& last = it->second.back();
  const double seconds = static_cast<double>(last.at_ns - first.at_ns) / 1e9;
  if (seconds <= 0) return std::nullopt;
  auto per_second = [seconds](uint64_t now, uint64_t then) {
    return static_cast<double>(now - std::min(now, then)) / seconds;
  };
  auto share = [seconds](int64_t now, int64_t then) {
    return std::clamp(static_cast<double>(now - then) / 1e9 / seconds, 0.0, 1.0);
  };
  Rates rates;
  rates.records_in_per_second = per_second(last.operator_in.front(), first.operator_in.front());
  rates.records_out_per_second = per_second(last.operator_out.back(), first.operator_out.back());
  rates.busy_ratio = share(last.times.busy_ns, first.times.busy_ns);
  rates.idle_ratio = share(last.times.idle_ns, first.times.idle_ns);
  rates.backpressured_ratio = share(last.times.backpressured_ns, first.times.backpressured_ns);
  for (size_t k = 0; k < last.operator_in.size(); ++k) {
    rates.operator_in_per_second.push_back(per_second(last.operator_in[k], first.operator_in[k]));
    rates.operator_out_per_second.push_back(
        per_second(last.operator_out[k], first.operator_out[k]));
  }
  return rates;
}

v1::SubtaskMetrics TaskSampler::MetricsOf(const std::string& job, const engine::Task& task) const {
  const auto& stats = task.stats();
  const auto operators = task.operator_counts();
  v1::SubtaskMetrics m;
  m.set_vertex(task.vertex());
  m.set_subtask(task.subtask());
  m.set_records_in(static_cast<int64_t>(operators.front().records_in));
  m.set_records_out(static_cast<int64_t>(operators.back().records_out));
  m.set_bytes_in(static_cast<int64_t>(stats.bytes_in.load()));
  m.set_bytes_out(static_cast<int64_t>(stats.bytes_out.load()));
  m.set_late_records_dropped(static_cast<int64_t>(stats.late_records_dropped.load()));
  m.set_input_pool_usage(task.input_pool_usage());
  m.set_output_pool_usage(task.output_pool_usage());
  const int64_t input = stats.input_watermark.load(), output = stats.output_watermark.load();
  if (input != internal::kNoWatermark) m.set_input_watermark_ms(input);
  if (output != internal::kNoWatermark) m.set_output_watermark_ms(output);
  if (auto rates = RatesOf(job, task.vertex(), task.subtask())) {
    m.set_records_in_per_second(rates->records_in_per_second);
    m.set_records_out_per_second(rates->records_out_per_second);
    m.set_busy_ratio(rates->busy_ratio);
    m.set_idle_ratio(rates->idle_ratio);
    m.set_backpressured_ratio(rates->backpressured_ratio);
  }
  return m;
}

}  // namespace sluice
