#include "common/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "common/config/value_parsers.h"
#include "common/config/yaml_reader.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

constexpr char kRequired[] = "jobmanager.rpc.address: jm\nresourcemanager.rpc.address: rm\n";

absl::StatusOr<Config> Parse(const std::string& yaml, std::vector<std::string> overrides = {}) {
  return Config::FromYaml(yaml, "conf/sluice.yaml", overrides);
}

std::string ErrorOf(const std::string& yaml, std::vector<std::string> overrides = {}) {
  auto config = Parse(yaml, std::move(overrides));
  EXPECT_FALSE(config.ok()) << "expected an error for:\n" << yaml;
  return config.ok() ? "" : std::string(config.status().message());
}

TEST(ConfigTest, ShippedConfigLoadsWithoutWarnings) {
  auto config = Config::Load(std::string(SLUICE_SOURCE_DIR) + "/conf", {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->warnings().empty());
  EXPECT_EQ(config->GetString("resourcemanager.rpc.address"), "localhost");
  EXPECT_EQ(config->GetInt("rest.port"), 8081);
  EXPECT_EQ(config->GetInt("taskmanager.numberOfTaskSlots"), 2);
  EXPECT_EQ(config->GetMemoryBytes("taskmanager.memory.process.size"), 1728LL * 1024 * 1024);
  EXPECT_EQ(config->GetDuration("heartbeat.interval"), absl::Seconds(1));
  EXPECT_EQ(config->GetDuration("heartbeat.timeout"), absl::Seconds(5));
  EXPECT_EQ(config->GetPortRange("metrics.reporter.prom.port"), (PortRange{9249, 9260}));
}

TEST(ConfigTest, DefaultsApplyToAbsentKeys) {
  auto config = Parse(kRequired);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("jobmanager.rpc.port"), 6123);
  EXPECT_EQ(config->GetInt("resourcemanager.rpc.port"), 6124);
  EXPECT_EQ(config->GetInt("taskmanager.numberOfTaskSlots"), 1);
  EXPECT_EQ(config->GetDuration("rpc.timeout"), absl::Seconds(10));
  EXPECT_TRUE(config->ExtendedResources().empty());
}

TEST(ConfigTest, NestedKeysEqualFlatKeys) {
  auto config =
      Parse(std::string(kRequired) +
            "taskmanager:\n  numberOfTaskSlots: 4\n  resource:\n    gpu:\n      amount: 2\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("taskmanager.numberOfTaskSlots"), 4);
  EXPECT_EQ(config->ExtendedResources(), (std::map<std::string, double>{{"gpu", 2}}));
}

TEST(ConfigTest, OverridesWinOverTheFile) {
  auto config = Parse(std::string(kRequired) + "rest.port: 9000\n",
                      {"rest.port=9100", "heartbeat.timeout=3 s"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("rest.port"), 9100);
  EXPECT_EQ(config->GetDuration("heartbeat.timeout"), absl::Seconds(3));
}

TEST(ConfigTest, AJobsOwnKeysGoOnTopOfTheClustersAndAreCheckedTheSameWay) {
  auto cluster = Parse(std::string(kRequired) + "execution.checkpointing.interval: 10 s\n",
                       {"rest.port=9100"});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto job = cluster->WithOverrides({"execution.checkpointing.interval=1 s"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->GetDuration("execution.checkpointing.interval"), absl::Seconds(1));
  EXPECT_EQ(job->GetInt("rest.port"), 9100) << "the cluster's own overrides stay";
  EXPECT_EQ(cluster->GetDuration("execution.checkpointing.interval"), absl::Seconds(10));
  auto bad = cluster->WithOverrides({"execution.checkpointing.interval=soon"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("execution.checkpointing.interval"));
}

TEST(ConfigTest, UnknownKeysWarnButLoad) {
  auto config = Parse(std::string(kRequired) + "taskmanager.numberOfSlots: 3\n");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->warnings().size(), 1u);
  EXPECT_THAT(config->warnings()[0], HasSubstr("conf/sluice.yaml"));
  EXPECT_THAT(config->warnings()[0], HasSubstr("unknown key 'taskmanager.numberOfSlots'"));
}

TEST(ConfigTest, UnparseableYamlNamesFileAndLine) {
  std::string error = ErrorOf(std::string(kRequired) + "rest.port: 8081: 1\n");
  EXPECT_THAT(error, HasSubstr("conf/sluice.yaml: invalid YAML at line"));
}

TEST(ConfigTest, WrongTypeNamesFileKeyAndReason) {
  EXPECT_EQ(ErrorOf(std::string(kRequired) + "taskmanager.numberOfTaskSlots: two\n"),
            "conf/sluice.yaml: key 'taskmanager.numberOfTaskSlots': expected an integer, got "
            "'two'");
  EXPECT_THAT(ErrorOf(std::string(kRequired) + "heartbeat.interval: often\n"),
              HasSubstr("key 'heartbeat.interval': expected a duration"));
  EXPECT_THAT(ErrorOf(std::string(kRequired) + "taskmanager.memory.process.size: lots\n"),
              HasSubstr("key 'taskmanager.memory.process.size': expected a memory size"));
  EXPECT_THAT(ErrorOf(std::string(kRequired) + "taskmanager.resource.gpu.amount: many\n"),
              HasSubstr("key 'taskmanager.resource.gpu.amount': expected a number"));
  EXPECT_THAT(ErrorOf(std::string(kRequired) + "log.level: loud\n"),
              HasSubstr("key 'log.level': expected one of trace, debug, info, warn, error"));
  EXPECT_THAT(ErrorOf(std::string(kRequired) + "rest.port:\n  - 1\n  - 2\n"),
              HasSubstr("key 'rest.port': expected a single value, got a list"));
}

TEST(ConfigTest, OutOfRangeNamesTheRange) {
  EXPECT_THAT(
      ErrorOf(std::string(kRequired) + "taskmanager.numberOfTaskSlots: 0\n"),
      HasSubstr("key 'taskmanager.numberOfTaskSlots': value '0' is out of range [1, 4096]"));
  EXPECT_THAT(ErrorOf(std::string(kRequired) + "rest.port: 70000\n"),
              HasSubstr("key 'rest.port': value '70000' is out of range"));
  EXPECT_THAT(ErrorOf(std::string(kRequired) + "metrics.reporter.prom.port: 9260-9249\n"),
              HasSubstr("key 'metrics.reporter.prom.port': expected a port"));
}

TEST(ConfigTest, MissingRequiredKeyIsNamed) {
  EXPECT_EQ(ErrorOf("jobmanager.rpc.address: jm\n"),
            "conf/sluice.yaml: key 'resourcemanager.rpc.address': required key is missing");
}

TEST(ConfigTest, HeartbeatTimeoutMustExceedInterval) {
  EXPECT_THAT(ErrorOf(std::string(kRequired) + "heartbeat.interval: 5 s\nheartbeat.timeout: 5 s\n"),
              HasSubstr("key 'heartbeat.timeout': must be greater than heartbeat.interval"));
}

TEST(ConfigTest, CheckpointingIsOffUnlessAnIntervalIsSetAndHasFlinksDefaults) {
  auto config = Parse(kRequired);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->Has("execution.checkpointing.interval"));
  EXPECT_FALSE(config->Has("restart-strategy.type"));
  EXPECT_EQ(config->GetString("execution.checkpointing.mode"), "EXACTLY_ONCE");
  EXPECT_EQ(config->GetDuration("execution.checkpointing.timeout"), absl::Minutes(10));
  EXPECT_EQ(config->GetInt("execution.checkpointing.max-concurrent-checkpoints"), 1);
  EXPECT_EQ(config->GetInt("execution.checkpointing.num-retained"), 1);
  EXPECT_EQ(config->GetDuration("restart-strategy.exponential-delay.max-backoff"),
            absl::Minutes(1));
  EXPECT_EQ(config->GetDouble("restart-strategy.exponential-delay.backoff-multiplier"), 1.5);

  auto on = Parse(kRequired, {"execution.checkpointing.interval=10 s"});
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_EQ(on->GetDuration("execution.checkpointing.interval"), absl::Seconds(10));
  EXPECT_THAT(ErrorOf(kRequired, {"execution.checkpointing.mode=SOMETIMES"}),
              HasSubstr("execution.checkpointing.mode"));
}

TEST(ConfigTest, FlinksOlderCheckpointKeysAreAcceptedWithAWarning) {
  auto config = Parse(std::string(kRequired) + "state.checkpoints.dir: /data/chk\n",
                      {"execution.checkpointing.alignment-timeout=5 s"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetString("execution.checkpointing.dir"), "/data/chk");
  EXPECT_EQ(config->GetDuration("execution.checkpointing.aligned-checkpoint-timeout"),
            absl::Seconds(5));
  ASSERT_EQ(config->warnings().size(), 2u);
  EXPECT_THAT(
      config->warnings()[1],
      HasSubstr("'state.checkpoints.dir' is an older name of 'execution.checkpointing.dir'"));

  auto both = Parse(std::string(kRequired) +
                    "state.checkpoints.dir: /old\nexecution.checkpointing.dir: /new\n");
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->GetString("execution.checkpointing.dir"), "/new") << "the current name wins";
  ASSERT_EQ(both->warnings().size(), 1u);
  EXPECT_THAT(both->warnings()[0], HasSubstr("ignored"));
}

TEST(ConfigTest, UnalignedCheckpointsNeedExactlyOnceAndOneAtATime) {
  EXPECT_THAT(ErrorOf(kRequired, {"execution.checkpointing.unaligned.enabled=true",
                                  "execution.checkpointing.mode=AT_LEAST_ONCE"}),
              HasSubstr("unaligned checkpoints need execution.checkpointing.mode EXACTLY_ONCE"));
  EXPECT_THAT(ErrorOf(kRequired, {"execution.checkpointing.unaligned=true",
                                  "execution.checkpointing.max-concurrent-checkpoints=2"}),
              HasSubstr("max-concurrent-checkpoints 1"));
}

TEST(ConfigTest, BadOverrideNamesTheOverride) {
  EXPECT_EQ(ErrorOf(kRequired, {"rest.port"}), "-D rest.port: expected key=value");
  EXPECT_EQ(ErrorOf(kRequired, {"rest.port=http"}),
            "-D rest.port=http: key 'rest.port': expected an integer, got 'http'");
}

TEST(ConfigTest, MissingFileIsAClearError) {
  auto config = Config::Load("/nonexistent/sluice-conf", {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr("/nonexistent/sluice-conf/sluice.yaml"));
}

TEST(ConfigTest, AKeyThatIsNotPlainTextIsRefusedWithItsLine) {
  EXPECT_EQ(ErrorOf(std::string(kRequired) + "? [a, b]\n: 1\n"),
            "conf/sluice.yaml: line 3: a key must be plain text, not a list");
  EXPECT_EQ(ErrorOf(std::string(kRequired) + "? {a: 1}\n: 1\n"),
            "conf/sluice.yaml: line 3: a key must be plain text, not a mapping");
}

TEST(ConfigTest, AListValueNamesTheKey) {
  EXPECT_EQ(ErrorOf(std::string(kRequired) + "rest.port: [1, 2]\n"),
            "conf/sluice.yaml: key 'rest.port': expected a single value, got a list");
}

TEST(ConfigTest, AnAliasBombIsRefusedBeforeItExpands) {
  // The "billion laughs" shape: nine levels of nine aliases each.
  std::string yaml = std::string(kRequired) + "a0: &a0 {x: 1}\n";
  for (int level = 1; level <= 9; ++level) {
    yaml += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " {";
    for (int i = 0; i < 9; ++i) {
      yaml += (i ? ", " : "") + std::string("k") + std::to_string(i) + ": *a" +
              std::to_string(level - 1);
    }
    yaml += "}\n";
  }
  EXPECT_EQ(ErrorOf(yaml),
            "conf/sluice.yaml: line 4: YAML aliases ('*name') are not allowed in the "
            "configuration");
}

TEST(ConfigTest, ADuplicateKeyNamesBothLines) {
  EXPECT_EQ(ErrorOf(std::string(kRequired) + "rest.port: 1\nrest.port: 2\n"),
            "conf/sluice.yaml: key 'rest.port': given twice (lines 3 and 4)");
  // The same key spelled nested and flat is the same key.
  EXPECT_EQ(ErrorOf(std::string(kRequired) + "rest.port: 1\nrest:\n  port: 2\n"),
            "conf/sluice.yaml: key 'rest.port': given twice (lines 3 and 5)");
}

TEST(ConfigTest, DeepNestingAndSecondDocumentsAreRefused) {
  std::string deep = std::string(kRequired);
  for (int i = 0; i < 100; ++i) deep += std::string(i * 2, ' ') + "k" + std::to_string(i) + ":\n";
  deep += std::string(200, ' ') + "leaf: 1\n";
  EXPECT_THAT(ErrorOf(deep), HasSubstr("nested deeper than 32 levels"));
  std::string flow = std::string(kRequired) + "x: ";
  for (int i = 0; i < 100000; ++i) flow += "{a: ";
  EXPECT_THAT(ErrorOf(flow), HasSubstr("conf/sluice.yaml: line 3: nested deeper than"));
  EXPECT_THAT(ErrorOf(std::string(kRequired) + "---\nrest.port: 1\n"),
              HasSubstr("only one YAML document is allowed"));
}

TEST(ConfigTest, AHugeFileIsRefused) {
  std::string yaml = std::string(kRequired) + "# " + std::string(2 << 20, 'x') + "\n";
  EXPECT_THAT(ErrorOf(yaml), HasSubstr("conf/sluice.yaml: larger than 1048576 bytes"));
}

TEST(ConfigTest, ADirectoryWhereTheFileShouldBeIsNamed) {
  auto dir = std::filesystem::temp_directory_path() /
             ("sluice-config-dir-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "sluice.yaml");
  auto config = Config::Load(dir.string(), {});
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            dir.string() + "/sluice.yaml: is a directory, expected the configuration file");
}

TEST(ValueParsersTest, Durations) {
  EXPECT_EQ(*ParseDuration("10 s"), absl::Seconds(10));
  EXPECT_EQ(*ParseDuration("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseDuration("250"), absl::Milliseconds(250));
  EXPECT_EQ(*ParseDuration("2 min"), absl::Minutes(2));
  EXPECT_EQ(*ParseDuration("1.5h"), absl::Minutes(90));
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("-1 s").ok());
  EXPECT_FALSE(ParseDuration("5 fortnights").ok());
}

TEST(ValueParsersTest, MemorySizes) {
  EXPECT_EQ(*ParseMemorySize("1728m"), 1728LL << 20);
  EXPECT_EQ(*ParseMemorySize("2 GB"), 2LL << 30);
  EXPECT_EQ(*ParseMemorySize("512k"), 512LL << 10);
  EXPECT_EQ(*ParseMemorySize("100"), 100);
  EXPECT_FALSE(ParseMemorySize("1x").ok());
  // Found by the config_values fuzzer: int64 max rounds to 2^63 as a double.
  EXPECT_FALSE(ParseMemorySize("00000000000009223372036854775807").ok());
  EXPECT_FALSE(ParseMemorySize("8388608 tb").ok());
  EXPECT_FALSE(ParseMemorySize("m").ok());
}

TEST(ValueParsersTest, PortRanges) {
  EXPECT_EQ(*ParsePortRange("9249"), (PortRange{9249, 9249}));
  EXPECT_EQ(*ParsePortRange("9249-9260"), (PortRange{9249, 9260}));
  EXPECT_EQ(*ParsePortRange("0"), (PortRange{0, 0}));
  EXPECT_FALSE(ParsePortRange("9260-9249").ok());
  EXPECT_FALSE(ParsePortRange("65536").ok());
  EXPECT_FALSE(ParsePortRange("a-b").ok());
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// Found by tests/fuzz/config_yaml_fuzzer: a bad escape quoted a newline.
TEST(YamlReaderTest, AnErrorQuotingAControlCharacterStaysOneLine) {
  const std::string yaml("a: &y 1\x10\x00\nb: *x\n", 18);
  auto keys = ReadYamlKeys(yaml, "x.yaml");
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(std::string(keys.status().message()).find('\n'), std::string::npos)
      << keys.status().message();
}

}  // namespace
}  // namespace sluice
