// How long a failed job waits before it restarts from its latest checkpoint,
// or that it does not restart (Flink's RestartBackoffTimeStrategy), from
// restart-strategy.*: none, fixed-delay, failure-rate, exponential-delay.
// Unset, the type follows Flink: exponential-delay when checkpointing is on,
// none otherwise.
//
// Pure: time is passed in, randomness (exponential-delay's jitter) is a
// seeded generator, so every decision can be tested.
#ifndef SLUICE_JOBMANAGER_RESTART_STRATEGY_H_
#define SLUICE_JOBMANAGER_RESTART_STRATEGY_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "absl/time/time.h"
#include "common/config/config.h"

namespace sluice {

class RestartStrategy {
 public:
  virtual ~RestartStrategy() = default;
  // The job failed at `now`: the wait before it restarts, or nullopt if it
  // must not restart (then it fails for good).
  virtual std::optional<absl::Duration> OnFailure(absl::Time now) = 0;
  // "fixed-delay (3 attempts, 1s delay)", for logs and the REST API.
  virtual std::string Describe() const = 0;
};

std::unique_ptr<RestartStrategy> NoRestart();
std::unique_ptr<RestartStrategy> FixedDelayRestart(int64_t attempts, absl::Duration delay);
std::unique_ptr<RestartStrategy> FailureRateRestart(int64_t max_failures, absl::Duration interval,
                                                    absl::Duration delay);
struct ExponentialDelayOptions {
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Minutes(1);
  double multiplier = 1.5;
  absl::Duration reset_threshold = absl::Hours(1);
  double jitter = 0.1;
  int64_t attempts_before_reset = INT32_MAX;
  uint64_t seed = 0;  // of the jitter
};
std::unique_ptr<RestartStrategy> ExponentialDelayRestart(const ExponentialDelayOptions& options);

// From restart-strategy.*; `checkpointing` picks the default type.
std::unique_ptr<RestartStrategy> RestartStrategyFromConfig(const Config& config,
                                                           bool checkpointing);

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_RESTART_STRATEGY_H_
