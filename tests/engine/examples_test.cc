// The example jobs, loaded from the examples job library exactly as the CLI
// and TaskManagers load it, each checked against an independent answer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>

#include "engine/job_library.h"
#include "engine/local_job.h"

namespace sluice::engine {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kLibrary[] = SLUICE_BINARY_DIR "/examples/libsluice_examples.so";

class ExamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice-examples-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    auto library = JobLibrary::Load(kLibrary);
    ASSERT_TRUE(library.ok()) << library.status();
    library_ = std::move(*library);
  }
  void TearDown() override { fs::remove_all(dir_); }

  JobResult Run(const std::string& job, const std::vector<std::string>& args, int parallelism,
                size_t segment_size = 32 << 10) {
    auto graph = library_->Build(job, args, parallelism);
    EXPECT_TRUE(graph.ok()) << graph.status();
    if (!graph.ok()) return {};
    LocalJobOptions options;
    options.print_out = &printed_;
    options.segment_size = segment_size;
    auto running = LocalJob::Start(*std::move(graph), options);
    EXPECT_TRUE(running.ok()) << running.status();
    auto result = (*running)->WaitFor(absl::Seconds(120));
    EXPECT_TRUE(result.has_value());
    return result.value_or(JobResult{});
  }

  std::vector<std::string> OutputLines(const fs::path& dir) {
    std::vector<std::string> lines;
    for (const auto& entry : fs::directory_iterator(dir)) {
      EXPECT_EQ(entry.path().filename().string().rfind("part-", 0), 0u)
          << "unfinished file " << entry.path();
      std::ifstream in(entry.path());
      for (std::string line; std::getline(in, line);) lines.push_back(line);
    }
    return lines;
  }

  fs::path dir_;
  std::unique_ptr<JobLibrary> library_;
  std::ostringstream printed_;
};

TEST_F(ExamplesTest, TheLibraryRegistersItsJobs) {
  EXPECT_EQ(library_->jobs(),
            (std::vector<std::string>{
                "FraudDetection", "IotSensorWindows", "IotSensors", "NexmarkQ0", "NexmarkQ1",
                "NexmarkQ11", "NexmarkQ2", "NexmarkQ3", "NexmarkQ4", "NexmarkQ5", "NexmarkQ6",
                "NexmarkQ7", "NexmarkQ8", "NexmarkQ9", "NexmarkSource", "WordCount"}));
}

TEST_F(ExamplesTest, LoadingMistakesAreClearErrors) {
  std::ofstream(dir_ / "not-a-library.so") << std::string(200, 'x');
  auto text = JobLibrary::Load((dir_ / "not-a-library.so").string());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(text.status().message()), HasSubstr("cannot load job library"));
  EXPECT_THAT(std::string(text.status().message()),
              HasSubstr("it is not an ELF file (no ELF magic number)"));
  // dlopen() of a truncated library dies of SIGBUS: it is refused first.
  std::filesystem::copy_file(kLibrary, dir_ / "truncated.so");
  std::filesystem::resize_file(dir_ / "truncated.so", 4096);
  auto truncated = JobLibrary::Load((dir_ / "truncated.so").string());
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(truncated.status().message()), HasSubstr("bytes: the file is truncated"));
  auto program = JobLibrary::Load("/bin/true");
  EXPECT_THAT(std::string(program.status().message()),
              HasSubstr("'/bin/true': it is a program, not a shared object"));
  auto other = JobLibrary::Load("libm.so.6");
  EXPECT_THAT(std::string(other.status().message()), HasSubstr("is not a Sluice job library"));
  auto missing = library_->Build("NoSuchJob", {}, 1);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(
      std::string(missing.status().message()),
      HasSubstr(
          "has no job named 'NoSuchJob'; it has: FraudDetection, IotSensorWindows, IotSensors"));
  auto throwing = library_->Build("WordCount", {}, 1);
  EXPECT_THAT(std::string(throwing.status().message()),
              HasSubstr("its build function threw: missing job argument --input"));
}

// Writes 5 files of words from a small vocabulary; returns each word's count.
std::map<std::string, int64_t> WriteCorpus(const fs::path& dir) {
  fs::create_directories(dir);
  std::mt19937 rng(11);
  std::map<std::string, int64_t> expected;
  const char* vocabulary[] = {"stream", "Sluice", "flink", "slot", "task", "key", "Window"};
  for (int f = 0; f < 5; ++f) {
    std::ofstream out(dir / ("text-" + std::to_string(f)));
    for (int line = 0; line < 2000; ++line) {
      for (int w = 0; w < 8; ++w) {
        std::string word = vocabulary[rng() % 7];
        std::string lower = word;
        for (auto& c : lower) c = static_cast<char>(std::tolower(c));
        ++expected[lower];
        out << word << (w % 3 == 0 ? ", " : " ");
      }
      out << "\n";
    }
  }
  return expected;
}

std::pair<int, std::string> Sluice(const std::string& arguments, const fs::path& cwd);

TEST_F(ExamplesTest, TheSameLibraryRunsWithAnotherSegmentSize) {
  // The buffer size is the runtime's: the library built once is not rebuilt.
  const auto expected = WriteCorpus(dir_ / "in");
  for (size_t segment : {size_t{4} << 10, size_t{1} << 20}) {
    const fs::path out = dir_ / ("out-" + std::to_string(segment));
    JobResult result =
        Run("WordCount", {"--input", (dir_ / "in").string(), "--output", out.string()}, 3, segment);
    ASSERT_EQ(result.state, JobState::kFinished) << result.error;
    std::map<std::string, int64_t> counted;
    std::regex pair(R"(\((\w+),(\d+)\))");
    for (const auto& line : OutputLines(out)) {
      std::smatch m;
      ASSERT_TRUE(std::regex_match(line, m, pair)) << line;
      counted[m[1]] = std::max<int64_t>(counted[m[1]], std::stoll(m[2]));
    }
    EXPECT_EQ(counted, expected) << "segment size " << segment;
  }
}

TEST_F(ExamplesTest, ALibraryForAnotherJobAbiIsRefusedNamingBothVersions) {
  const std::string old = SLUICE_BINARY_DIR "/tests/jobs/libsluice_old_abi_job.so";
  auto loaded = JobLibrary::Load(old);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(loaded.status().message()),
              HasSubstr("built for Sluice job ABI version 1, but this runtime runs ABI version " +
                        std::to_string(internal::kAbiVersion)));
  // The CLI loads the library before it submits anything: the same words.
  auto [code, output] = Sluice("run -c Any " + old, dir_);
  EXPECT_NE(code, 0);
  EXPECT_THAT(output, HasSubstr("built for Sluice job ABI version 1"));
}

TEST_F(ExamplesTest, WordCountCountsEveryWord) {
  const auto expected = WriteCorpus(dir_ / "in");
  JobResult result =
      Run("WordCount", {"--input", (dir_ / "in").string(), "--output", (dir_ / "out").string()}, 4);
  ASSERT_EQ(result.state, JobState::kFinished) << result.error;
  std::map<std::string, int64_t> counted;
  std::regex pair(R"(\((\w+),(\d+)\))");
  for (const auto& line : OutputLines(dir_ / "out")) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, pair)) << line;
    counted[m[1]] = std::max<int64_t>(counted[m[1]], std::stoll(m[2]));
  }
  EXPECT_EQ(counted, expected);
}

// The 10 expired plants' large transactions come two minutes of event time
// after their small ones, though within milliseconds of processing: no alert.
TEST_F(ExamplesTest, FraudDetectionFindsExactlyThePlantedFraudsInEventTime) {
  JobResult result = Run("FraudDetection",
                         {"--transactions", "200000", "--accounts", "500", "--frauds", "25",
                          "--expired", "10", "--output", (dir_ / "alerts").string()},
                         3);
  ASSERT_EQ(result.state, JobState::kFinished) << result.error;
  auto alerts = OutputLines(dir_ / "alerts");
  ASSERT_EQ(alerts.size(), 25u);
  for (const auto& alert : alerts) {
    EXPECT_THAT(alert, HasSubstr("small=0.42 large=742"));
  }
}

TEST_F(ExamplesTest, IotSensorsAlertsOnEveryReadingOutsideTheBand) {
  JobResult result = Run("IotSensors",
                         {"--readings", "100000", "--sensors", "50", "--low", "-10", "--high", "40",
                          "--output", (dir_ / "alerts").string()},
                         2);
  ASSERT_EQ(result.state, JobState::kFinished) << result.error;
  auto alerts = OutputLines(dir_ / "alerts");
  // Every 997th reading of each of the 50 sensors spikes: 2 per sensor in 2,000.
  ASSERT_EQ(alerts.size(), 100u);
  for (const auto& alert : alerts) EXPECT_THAT(alert, HasSubstr("ALERT sensor-"));
}

TEST_F(ExamplesTest, IotSensorWindowsCountLateReadingsWithinTheLatenessAndDropStaleOnes) {
  constexpr int64_t kReadings = 60000, kSensors = 20;
  JobResult result = Run("IotSensorWindows",
                         {"--readings", std::to_string(kReadings), "--sensors",
                          std::to_string(kSensors), "--output", (dir_ / "summaries").string()},
                         2);
  ASSERT_EQ(result.state, JobState::kFinished) << result.error;
  // Independently: every reading but the 10-minutes-stale ones, in the minute
  // of its own time (the example's generator rules, restated).
  std::map<std::pair<std::string, int64_t>, std::pair<int64_t, double>> expected;
  for (int64_t i = 0; i < kReadings; ++i) {
    if (i % 173 == 172) continue;
    int64_t at = 1'700'000'000'000 + (i / kSensors) * 1000 - (i % 50 == 49 ? 20'000 : 0);
    auto& [count, sum] = expected[{"sensor-" + std::to_string(i % kSensors), at - at % 60'000}];
    ++count;
    sum += 20.0 + static_cast<double>((i * 7919) % 200) / 10.0;
  }
  // The last line of each (sensor, window) is its result; late readings made
  // some windows fire more than once.
  std::map<std::pair<std::string, int64_t>, std::pair<int64_t, double>> last;
  size_t lines = 0;
  for (const std::string& line : OutputLines(dir_ / "summaries")) {
    std::istringstream in(line);
    std::string sensor;
    int64_t start = 0, count = 0;
    double min = 0, max = 0, avg = 0;
    ASSERT_TRUE(in >> sensor >> start >> count >> min >> max >> avg) << line;
    last[{sensor, start}] = {count, avg * static_cast<double>(count)};
    ++lines;
  }
  EXPECT_GT(lines, last.size()) << "late readings within the lateness fire their window again";
  ASSERT_EQ(last.size(), expected.size());
  for (const auto& [window, result] : expected) {
    ASSERT_TRUE(last.count(window)) << window.first << " " << window.second;
    EXPECT_EQ(last[window].first, result.first) << window.first << " " << window.second;
    EXPECT_NEAR(last[window].second, result.second, 1e-3 * result.second);
  }
}

// Runs the CLI with `arguments` in `cwd`, without SLUICE_CONF_DIR: (exit code, output).
std::pair<int, std::string> Sluice(const std::string& arguments, const fs::path& cwd) {
  std::string command = "cd " + cwd.string() +
                        " && env -u SLUICE_CONF_DIR " SLUICE_BINARY_DIR "/bin/sluice " + arguments +
                        " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string output;
  char buffer[256];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  int status = pclose(pipe);
  return {WEXITSTATUS(status), output};
}

TEST_F(ExamplesTest, TheCliRunsAJobLocallyAndReportsItsEnd) {
  fs::create_directories(dir_ / "in");
  std::ofstream(dir_ / "in" / "a.txt") << "to be or not to be\n";
  auto [exit_code, output] =
      Sluice(std::string("run --local -p 2 -c WordCount ") + kLibrary + " -- --input " +
                 (dir_ / "in").string() + " --output " + (dir_ / "out").string(),
             dir_);
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_THAT(output, HasSubstr("Job 'WordCount'"));
  EXPECT_THAT(output, HasSubstr("FINISHED"));
  auto lines = OutputLines(dir_ / "out");
  EXPECT_EQ(lines.size(), 6u);
}

TEST_F(ExamplesTest, WithoutAConfigurationEveryJobCommandUsesTheDefaults) {
  // No conf/ here: list and cancel fall back to a JobManager on localhost, as
  // run does, and -D still applies; a named but missing directory is an error.
  auto [list_code, list] = Sluice("list -D jobmanager.rpc.port=1", dir_);
  EXPECT_NE(list_code, 0);
  EXPECT_THAT(list, HasSubstr("cannot list jobs: the JobManager at localhost:1 is unreachable"));
  auto [cancel_code, cancel] = Sluice("cancel --conf-dir /nonexistent 0123", dir_);
  EXPECT_NE(cancel_code, 0);
  EXPECT_THAT(cancel, HasSubstr("configuration error: /nonexistent/sluice.yaml"));
}

}  // namespace
}  // namespace sluice::engine
