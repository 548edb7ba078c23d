// Secure defaults: which bind hosts count as loopback, and a daemon's bind
// keys refused beyond loopback unless security.allow-insecure-remote is set.
#include "common/net/listen_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "taskmanager/task_manager_spec.h"

namespace sluice::net {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

absl::StatusOr<Config> Parse(std::vector<std::string> overrides = {}) {
  return Config::FromYaml("jobmanager.rpc.address: jm\nresourcemanager.rpc.address: rm\n",
                          "conf/sluice.yaml", std::move(overrides));
}

TEST(ListenPolicyTest, OnlyLoopbackAddressesAndLocalhostAreLoopback) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "localhost", "LocalHost"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "", "10.0.0.1", "128.0.0.1", "::ffff:10.0.0.1",
                           "example.org", "localhost.example.org", "127.0.0.1 "}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << "'" << host << "'";
  }
}

TEST(ListenPolicyTest, EveryDaemonListensOnLoopbackByDefault) {
  auto parsed = Parse();
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Config& config = *parsed;
  EXPECT_TRUE(CheckListenAddresses(config, {"jobmanager.bind-host", "rest.bind-address",
                                            "resourcemanager.bind-host", "taskmanager.bind-host"})
                  .ok());
  EXPECT_EQ(config.GetString("rest.bind-address"), "127.0.0.1");
  EXPECT_EQ(SpecFromConfig(config, 6122).host, "127.0.0.1")
      << "bound to loopback, a TaskManager advertises loopback";
}

TEST(ListenPolicyTest, ABindHostBeyondLoopbackIsRefusedNamingTheKeyAndTheOptIn) {
  auto parsed = Parse({"rest.bind-address=0.0.0.0"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Config& config = *parsed;
  absl::Status status = CheckListenAddresses(config, {"jobmanager.bind-host", "rest.bind-address"});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), AllOf(HasSubstr("rest.bind-address is 0.0.0.0"),
                                      HasSubstr("security.allow-insecure-remote: true")));
}

TEST(ListenPolicyTest, TheOptInLetsADaemonListenEverywhere) {
  auto parsed = Parse({"taskmanager.bind-host=0.0.0.0", "security.allow-insecure-remote=true"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Config& config = *parsed;
  EXPECT_TRUE(CheckListenAddresses(config, {"taskmanager.bind-host"}).ok());
  EXPECT_NE(SpecFromConfig(config, 6122).host, "0.0.0.0")
      << "a wildcard is not an address to reach";
}

}  // namespace
}  // namespace sluice::net
