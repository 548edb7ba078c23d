// Runs a job in this process (LocalJob) to its end, and collects what its
// sinks receive from every subtask: for engine tests that compare a job's
// output with an independent computation.
#ifndef SLUICE_TESTS_TESTING_LOCAL_RUN_H_
#define SLUICE_TESTS_TESTING_LOCAL_RUN_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <sstream>
#include <vector>

#include "engine/local_job.h"
#include "sluice/sluice.h"

namespace sluice::testing {

template <typename T>
struct Collected {
  std::mutex mu;
  std::vector<T> items;
  void Add(const T& t) {
    std::lock_guard<std::mutex> lock(mu);
    items.push_back(t);
  }
  std::vector<T> Sorted() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<T> sorted = items;
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }
};

// A punctuated watermark generator: each record moves event time to its
// own timestamp, so tests decide exactly which records are late.
template <typename T>
class EveryRecordAWatermark final : public WatermarkGenerator<T> {
 public:
  void OnEvent(const T&, int64_t timestamp, WatermarkOutput& out) override {
    out.EmitWatermark(timestamp);
  }
  void OnPeriodicEmit(WatermarkOutput&) override {}
};

struct RunStats {
  uint64_t late_dropped = 0;
};

// Runs `env`'s job until it ends (at most 60 s) and expects it FINISHED.
inline RunStats RunToEnd(StreamEnvironment& env) {
  engine::LocalJobOptions options;
  std::ostringstream discard;
  options.print_out = &discard;
  options.auto_watermark_interval = absl::Milliseconds(5);
  auto job = engine::LocalJob::Start(env.Build(), options);
  EXPECT_TRUE(job.ok()) << job.status();
  if (!job.ok()) return {};
  auto result = (*job)->WaitFor(absl::Seconds(60));
  EXPECT_TRUE(result.has_value()) << "the job did not end within 60 s";
  if (result) {
    EXPECT_EQ(result->state, engine::JobState::kFinished) << result->error;
  }
  RunStats run;
  for (const engine::Task* task : (*job)->tasks()) {
    run.late_dropped += task->stats().late_records_dropped;
  }
  return run;
}

}  // namespace sluice::testing

#endif  // SLUICE_TESTS_TESTING_LOCAL_RUN_H_
