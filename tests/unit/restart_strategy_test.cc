// Restart strategies decide from the failure times alone, as Flink's do.
#include "jobmanager/restart_strategy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

absl::StatusOr<Config> ConfigWith(std::vector<std::string> overrides) {
  return Config::FromYaml("jobmanager.rpc.address: a\nresourcemanager.rpc.address: b\n", "test",
                          overrides);
}

TEST(RestartStrategyTest, NoneNeverRestarts) {
  auto none = NoRestart();
  EXPECT_EQ(none->OnFailure(kStart), std::nullopt);
  EXPECT_EQ(none->Describe(), "none");
}

TEST(RestartStrategyTest, FixedDelayRestartsItsAttemptsThenGivesUp) {
  auto fixed = FixedDelayRestart(2, absl::Seconds(3));
  EXPECT_EQ(fixed->OnFailure(kStart), absl::Seconds(3));
  EXPECT_EQ(fixed->OnFailure(kStart + absl::Hours(5)), absl::Seconds(3));
  EXPECT_EQ(fixed->OnFailure(kStart + absl::Hours(10)), std::nullopt) << "attempts are total";
}

TEST(RestartStrategyTest, FailureRateCountsFailuresWithinTheInterval) {
  auto rate = FailureRateRestart(2, absl::Minutes(1), absl::Seconds(1));
  EXPECT_EQ(rate->OnFailure(kStart), absl::Seconds(1));
  EXPECT_EQ(rate->OnFailure(kStart + absl::Seconds(30)), absl::Seconds(1));
  EXPECT_EQ(rate->OnFailure(kStart + absl::Seconds(50)), std::nullopt) << "3 within a minute";

  auto slow = FailureRateRestart(1, absl::Minutes(1), absl::Seconds(1));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(slow->OnFailure(kStart + absl::Minutes(2 * i)), absl::Seconds(1))
        << "one failure every two minutes is within the rate";
  }
}

TEST(RestartStrategyTest, ExponentialDelayGrowsToItsMaximumAndResetsAfterAQuietPeriod) {
  ExponentialDelayOptions o;
  o.initial_backoff = absl::Seconds(1);
  o.max_backoff = absl::Seconds(5);
  o.multiplier = 2;
  o.reset_threshold = absl::Minutes(10);
  o.jitter = 0;
  auto exp = ExponentialDelayRestart(o);
  absl::Time t = kStart;
  std::vector<absl::Duration> waits;
  for (int i = 0; i < 5; ++i) waits.push_back(*exp->OnFailure(t += absl::Seconds(10)));
  EXPECT_THAT(waits, ::testing::ElementsAre(absl::Seconds(1), absl::Seconds(2), absl::Seconds(4),
                                            absl::Seconds(5), absl::Seconds(5)));
  EXPECT_EQ(exp->OnFailure(t + absl::Minutes(10)), absl::Seconds(1))
      << "a job that ran the reset threshold without failing starts from the initial backoff";
}

TEST(RestartStrategyTest, ExponentialDelayJitterStaysWithinItsFactorAndAttemptsAreBounded) {
  ExponentialDelayOptions o;
  o.initial_backoff = absl::Seconds(10);
  o.multiplier = 1;
  o.jitter = 0.1;
  o.attempts_before_reset = 50;
  o.seed = 42;
  auto exp = ExponentialDelayRestart(o);
  bool varied = false;
  for (int i = 0; i < 50; ++i) {
    auto wait = exp->OnFailure(kStart + absl::Seconds(i));
    ASSERT_TRUE(wait.has_value());
    EXPECT_GE(*wait, absl::Seconds(9));
    EXPECT_LE(*wait, absl::Seconds(11));
    varied = varied || *wait != absl::Seconds(10);
  }
  EXPECT_TRUE(varied) << "jitter moves the waits";
  EXPECT_EQ(exp->OnFailure(kStart + absl::Seconds(51)), std::nullopt);
}

TEST(RestartStrategyTest, TheDefaultFollowsCheckpointingAsInFlink) {
  auto config = ConfigWith({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(RestartStrategyFromConfig(*config, /*checkpointing=*/false)->Describe(), "none");
  EXPECT_THAT(RestartStrategyFromConfig(*config, /*checkpointing=*/true)->Describe(),
              HasSubstr("exponential-delay (1 s to 1 min, x1.5)"));
  auto fixed =
      ConfigWith({"restart-strategy.type=fixed-delay", "restart-strategy.fixed-delay.attempts=3"});
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  auto strategy = RestartStrategyFromConfig(*fixed, /*checkpointing=*/true);
  EXPECT_THAT(strategy->Describe(), HasSubstr("fixed-delay (3 attempts"));
  auto off = ConfigWith({"restart-strategy.type=off"});
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(RestartStrategyFromConfig(*off, true)->Describe(), "none");
}

}  // namespace
}  // namespace sluice
