#include "jobmanager/restart_strategy.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/config/value_parsers.h"

namespace sluice {
namespace {

class NoRestartStrategy final : public RestartStrategy {
 public:
  std::optional<absl::Duration> OnFailure(absl::Time) override { return std::nullopt; }
  std::string Describe() const override { return "none"; }
};

class FixedDelay final : public RestartStrategy {
 public:
  FixedDelay(int64_t attempts, absl::Duration delay) : attempts_(attempts), delay_(delay) {}
  std::optional<absl::Duration> OnFailure(absl::Time) override {
    if (restarts_ >= attempts_) return std::nullopt;
    ++restarts_;
    return delay_;
  }
  std::string Describe() const override {
    return absl::StrCat("fixed-delay (", attempts_, " attempts, ", HumanDuration(delay_),
                        " delay)");
  }

 private:
  const int64_t attempts_;
  const absl::Duration delay_;
  int64_t restarts_ = 0;
};

// Restarts while at most `max_failures` failures fall within the last
// `interval` (the one now included).
class FailureRate final : public RestartStrategy {
 public:
  FailureRate(int64_t max_failures, absl::Duration interval, absl::Duration delay)
      : max_failures_(max_failures), interval_(interval), delay_(delay) {}
  std::optional<absl::Duration> OnFailure(absl::Time now) override {
    failures_.push_back(now);
    while (!failures_.empty() && now - failures_.front() > interval_) failures_.pop_front();
    if (static_cast<int64_t>(failures_.size()) > max_failures_) return std::nullopt;
    return delay_;
  }
  std::string Describe() const override {
    return absl::StrCat("failure-rate (", max_failures_, " per ", HumanDuration(interval_), ", ",
                        HumanDuration(delay_), " delay)");
  }

 private:
  const int64_t max_failures_;
  const absl::Duration interval_;
  const absl::Duration delay_;
  std::deque<absl::Time> failures_;
};

// The wait grows by the multiplier from failure to failure, up to the
// maximum; a failure after the job ran reset_threshold without one starts
// again from the initial backoff. Each wait moves by up to ±jitter of itself.
class ExponentialDelay final : public RestartStrategy {
 public:
  explicit ExponentialDelay(const ExponentialDelayOptions& options)
      : options_(options), random_(options.seed) {}
  std::optional<absl::Duration> OnFailure(absl::Time now) override {
    if (!last_failure_ || now - *last_failure_ >= options_.reset_threshold) {
      backoff_ = options_.initial_backoff;
      attempts_ = 0;
    } else {
      backoff_ = std::min(backoff_ * options_.multiplier, options_.max_backoff);
    }
    last_failure_ = now;
    if (attempts_ >= options_.attempts_before_reset) return std::nullopt;
    ++attempts_;
    std::uniform_real_distribution<double> jitter(-options_.jitter, options_.jitter);
    return std::max(absl::ZeroDuration(), backoff_ + backoff_ * jitter(random_));
  }
  std::string Describe() const override {
    return absl::StrCat("exponential-delay (", HumanDuration(options_.initial_backoff), " to ",
                        HumanDuration(options_.max_backoff), ", x", options_.multiplier, ")");
  }

 private:
  const ExponentialDelayOptions options_;
  std::mt19937_64 random_;
  std::optional<absl::Time> last_failure_;
  absl::Duration backoff_;
  int64_t attempts_ = 0;
};

}  // namespace

std::unique_ptr<RestartStrategy> NoRestart() { return std::make_unique<NoRestartStrategy>(); }

std::unique_ptr<RestartStrategy> FixedDelayRestart(int64_t attempts, absl::Duration delay) {
  return std::make_unique<FixedDelay>(attempts, delay);
}

std::unique_ptr<RestartStrategy> FailureRateRestart(int64_t max_failures, absl::Duration interval,
                                                    absl::Duration delay) {
  return std::make_unique<FailureRate>(max_failures, interval, delay);
}

std::unique_ptr<RestartStrategy> ExponentialDelayRestart(const ExponentialDelayOptions& options) {
  return std::make_unique<ExponentialDelay>(options);
}

std::unique_ptr<RestartStrategy> RestartStrategyFromConfig(const Config& config,
                                                           bool checkpointing) {
  std::string type = config.Has("restart-strategy.type")
                         ? config.GetString("restart-strategy.type")
                         : (checkpointing ? "exponential-delay" : "none");
  if (type == "fixed-delay") {
    return FixedDelayRestart(config.GetInt("restart-strategy.fixed-delay.attempts"),
                             config.GetDuration("restart-strategy.fixed-delay.delay"));
  }
  if (type == "failure-rate") {
    return FailureRateRestart(
        config.GetInt("restart-strategy.failure-rate.max-failures-per-interval"),
        config.GetDuration("restart-strategy.failure-rate.failure-rate-interval"),
        config.GetDuration("restart-strategy.failure-rate.delay"));
  }
  if (type == "exponential-delay") {
    const std::string p = "restart-strategy.exponential-delay.";
    ExponentialDelayOptions o;
    o.initial_backoff = config.GetDuration(p + "initial-backoff");
    o.max_backoff = config.GetDuration(p + "max-backoff");
    o.multiplier = config.GetDouble(p + "backoff-multiplier");
    o.reset_threshold = config.GetDuration(p + "reset-backoff-threshold");
    o.jitter = config.GetDouble(p + "jitter-factor");
    o.attempts_before_reset = config.GetInt(p + "attempts-before-reset-backoff");
    o.seed = std::random_device{}();
    return ExponentialDelayRestart(o);
  }
  return NoRestart();  // none, off, disable
}

}  // namespace sluice
