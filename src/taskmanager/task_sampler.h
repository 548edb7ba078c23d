// Samples every subtask's counters on a fixed period and turns them into
// rates and time shares over a fixed window of the TaskManager's own, so
// that every reader — any number of Prometheus servers, the JobMaster's
// heartbeats, the web UI — sees the same values (a rate "since the last
// scrape" would depend on who scraped last). Lives on the TaskManager's
// mailbox thread, like the deployments it samples.
#ifndef SLUICE_TASKMANAGER_TASK_SAMPLER_H_
#define SLUICE_TASKMANAGER_TASK_SAMPLER_H_

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "engine/task.h"
#include "sluice/v1/execution.pb.h"

namespace sluice {

// A subtask's cumulative times, in nanoseconds, as of `now`.
struct TaskTimes {
  int64_t busy_ns = 0;
  int64_t idle_ns = 0;
  int64_t backpressured_ns = 0;
};
TaskTimes TimesOf(const engine::Task& task, int64_t now_ns);

class TaskSampler {
 public:
  static constexpr absl::Duration kPeriod = absl::Seconds(1);
  static constexpr absl::Duration kWindow = absl::Seconds(5);

  // Rates over the window (or over what was sampled of it, once two samples exist).
  struct Rates {
    double records_in_per_second = 0;
    double records_out_per_second = 0;
    double busy_ratio = 0;
    double idle_ratio = 0;
    double backpressured_ratio = 0;
    std::vector<double> operator_in_per_second;  // by position in the chain
    std::vector<double> operator_out_per_second;
  };

  // One round: every subtask running now, at `now_ns`
  // (absl::GetCurrentTimeNanos()). Subtasks not sampled in a round are forgotten.
  void BeginRound();
  void Sample(const std::string& job, const engine::Task& task, int64_t now_ns);
  void EndRound();

  std::optional<Rates> RatesOf(const std::string& job, int vertex, int subtask) const;
  // The subtask's counters now with the window's rates.
  v1::SubtaskMetrics MetricsOf(const std::string& job, const engine::Task& task) const;

 private:
  struct Point {
    int64_t at_ns = 0;
    TaskTimes times;
    std::vector<uint64_t> operator_in;
    std::vector<uint64_t> operator_out;
  };
  using Key = std::tuple<std::string, int, int>;
  std::map<Key, std::deque<Point>> points_;
  std::map<Key, std::deque<Point>> sampled_;  // this round's
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_TASK_SAMPLER_H_
