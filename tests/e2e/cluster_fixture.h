// What the end-to-end tests share: a cluster of real daemons started by the
// real scripts on loopback ports, the CLI run as a user would, and checks of
// a job's output against an independent computation.
#ifndef SLUICE_TESTS_E2E_CLUSTER_FIXTURE_H_
#define SLUICE_TESTS_E2E_CLUSTER_FIXTURE_H_

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/process_stats.h"
#include "common/sha256.h"
#include "engine/checkpoint_files.h"
#include "engine/job_graph_convert.h"
#include "engine/job_library.h"
#include "jobmanager/job_manager.h"
#include "nlohmann/json.hpp"
#include "sluice/v1/jobmanager.grpc.pb.h"
#include "tests/testing/test_cluster.h"

namespace sluice::e2e {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::HttpCall;
using testing::HttpGet;
using testing::MetricValue;
using testing::PickFreePort;
using testing::RawHttp;
using testing::WaitFor;

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

inline CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Alive and not a zombie.
inline bool IsRunning(int pid) {
  std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (stat.empty()) return false;
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

class ClusterE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sluice-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    fs::create_directories(root_ / "conf");
    rm_port_ = PickFreePort();
    jm_port_ = PickFreePort();
    rest_port_ = PickFreePort();
    int metrics = PickFreePort();
    WriteConfig(
        absl::StrCat("jobmanager.rpc.address: 127.0.0.1\njobmanager.rpc.port: ", jm_port_,
                     "\njobmanager.bind-host: 127.0.0.1\nresourcemanager.rpc.address: 127.0.0.1\n"
                     "resourcemanager.rpc.port: ",
                     rm_port_, "\nresourcemanager.bind-host: 127.0.0.1\nrest.port: ", rest_port_,
                     "\nrest.bind-address: 127.0.0.1\ntaskmanager.host: 127.0.0.1\n"
                     "taskmanager.bind-host: 127.0.0.1\ntaskmanager.numberOfTaskSlots: 2\n"
                     "heartbeat.interval: 200 ms\nheartbeat.timeout: 1 s\n"
                     "cluster.registration.max-timeout: 500 ms\n"
                     "metrics.reporter.prom.port: ",
                     metrics, "-", metrics + 30, "\n"));
    std::ofstream(root_ / "conf/masters") << "localhost\n";
    std::ofstream(root_ / "conf/workers") << "localhost\nlocalhost\n";
    setenv("SLUICE_CONF_DIR", (root_ / "conf").c_str(), 1);
    setenv("SLUICE_LOG_DIR", (root_ / "log").c_str(), 1);
    setenv("SLUICE_PID_DIR", (root_ / "run").c_str(), 1);
    setenv("SLUICE_BIN_DIR", SLUICE_BINARY_DIR "/bin", 1);
  }

  void TearDown() override {
    Script("stop-cluster.sh");
    for (const char* daemon : {"taskmanager", "jobmanager", "resourcemanager"}) {
      for (int pid : Pids(daemon)) kill(pid, SIGKILL);
    }
    fs::remove_all(root_);
  }

  void WriteConfig(const std::string& yaml) { std::ofstream(root_ / "conf/sluice.yaml") << yaml; }

  CommandResult Script(const std::string& script_and_args) {
    return RunCommand(absl::StrCat("bash " SLUICE_SOURCE_DIR "/bin/", script_and_args));
  }

  std::vector<int> Pids(const std::string& daemon) {
    std::ifstream in(root_ / "run" / absl::StrCat("sluice-", daemon, ".pid"));
    std::vector<int> pids;
    for (int pid; in >> pid;) pids.push_back(pid);
    return pids;
  }

  // The RM writes its metrics address to its log; 0 until it has.
  int RmMetricsPort() {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    std::string log =
        ReadFile(root_ / "log" / absl::StrCat("sluice-resourcemanager-0-", host, ".log"));
    std::smatch match;
    static const std::regex kLine(R"(Metrics at http://[^:]+:(\d+)/metrics)");
    return std::regex_search(log, match, kLine) ? std::stoi(match[1]) : 0;
  }

  std::vector<int> TaskManagerMetricsPorts() {
    std::vector<int> ports;
    static const std::regex kLine(R"(metrics at http://[^:]+:(\d+)/metrics)");
    for (const auto& entry : fs::directory_iterator(root_ / "log")) {
      const std::string name = entry.path().filename().string();
      // Only the current logs: *.log.1 and older are earlier runs' (rotated).
      if (name.find("taskmanager") == std::string::npos || entry.path().extension() != ".log") {
        continue;
      }
      std::string log = ReadFile(entry.path());
      std::smatch match;
      if (std::regex_search(log, match, kLine)) ports.push_back(std::stoi(match[1]));
    }
    return ports;
  }

  // The log of instance `instance` of `daemon` ("jobmanager", "taskmanager"...).
  std::string DaemonLog(const std::string& daemon, int instance = 0) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    return ReadFile(root_ / "log" /
                    absl::StrCat("sluice-", daemon, "-", instance, "-", host, ".log"));
  }
  std::string TaskManagerLog(int instance) { return DaemonLog("taskmanager", instance); }

  // Subtasks running on TaskManager `instance` (its place in Pids()), from
  // its metrics: thread names would not do, threads a task thread starts
  // (gRPC's) inherit its name.
  int TasksOn(int instance) {
    std::smatch match;
    static const std::regex kLine(R"(metrics at http://[^:]+:(\d+)/metrics)");
    const std::string log = TaskManagerLog(instance);
    if (!std::regex_search(log, match, kLine)) return 0;
    std::istringstream lines(HttpGet(std::stoi(match[1]), "/metrics").value_or(""));
    int tasks = 0;
    for (std::string line; std::getline(lines, line);) {
      tasks += line.rfind("sluice_task_records_out_total{", 0) == 0;
    }
    return tasks;
  }
  // The pid of a TaskManager running subtasks; 0: none.
  int TaskManagerWithTasks() {
    const std::vector<int> pids = Pids("taskmanager");
    for (size_t i = 0; i < pids.size(); ++i) {
      if (IsRunning(pids[i]) && TasksOn(static_cast<int>(i)) > 0) return pids[i];
    }
    return 0;
  }
  int InstanceOf(int pid) {
    const std::vector<int> pids = Pids("taskmanager");
    return static_cast<int>(std::find(pids.begin(), pids.end(), pid) - pids.begin());
  }
  int TasksRunning() {
    int tasks = 0;
    const std::vector<int> pids = Pids("taskmanager");
    for (size_t i = 0; i < pids.size(); ++i) {
      if (IsRunning(pids[i])) tasks += TasksOn(static_cast<int>(i));
    }
    return tasks;
  }

  std::optional<double> RmMetric(const std::string& series) {
    int port = RmMetricsPort();
    if (port == 0) return std::nullopt;
    auto metrics = HttpGet(port, "/metrics");
    return metrics ? MetricValue(*metrics, series) : std::nullopt;
  }

  bool TaskManagersAre(int expected, absl::Duration within) {
    return WaitFor([&] { return RmMetric("sluice_resourcemanager_taskmanagers") == expected; },
                   within);
  }

  fs::path root_;
  int rm_port_ = 0, jm_port_ = 0, rest_port_ = 0;
};

inline constexpr char kExamples[] = SLUICE_BINARY_DIR "/examples/libsluice_examples.so";
inline constexpr char kTestJobs[] = SLUICE_BINARY_DIR "/tests/jobs/libsluice_test_jobs.so";

class JobE2eTest : public ClusterE2eTest {
 protected:
  void SetUp() override {
    ClusterE2eTest::SetUp();
    std::ofstream(root_ / "conf/sluice.yaml", std::ios::app) << ExtraConfig();
    CommandResult started = Script("start-cluster.sh");
    ASSERT_EQ(started.exit_code, 0) << started.output;
    ASSERT_TRUE(TaskManagersAre(2, absl::Seconds(15)));
  }
  CommandResult Sluice(const std::string& args) {
    return RunCommand(absl::StrCat(SLUICE_BINARY_DIR "/bin/sluice ", args));
  }
  std::string Jm() { return absl::StrCat(" -m 127.0.0.1:", jm_port_, " "); }
  // Appended to the cluster's sluice.yaml before it starts.
  virtual std::string ExtraConfig() { return ""; }

  // Submits straight over gRPC, to reach the JobManager's own checks.
  grpc::Status SubmitRaw(v1::JobSubmission submission, const std::string& bytes) {
    auto stub = v1::JobManager::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", jm_port_),
                                                            grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::JobStatus status;
    auto writer = stub->SubmitJob(&context, &status);
    v1::SubmitJobRequest first;
    *first.mutable_submission() = std::move(submission);
    writer->Write(first);
    for (size_t at = 0; at < bytes.size(); at += 1 << 20) {
      v1::SubmitJobRequest chunk;
      chunk.set_library_chunk(bytes.substr(at, 1 << 20));
      writer->Write(chunk);
    }
    writer->WritesDone();
    return writer->Finish();
  }
};

class CheckpointE2eTest : public JobE2eTest {
 public:
  // The job id `sluice run -d` printed; empty if none.
  static std::string JobIdIn(const std::string& output) {
    std::smatch id;
    return std::regex_search(output, id, std::regex("JobID ([0-9a-f]{32})")) ? id[1].str() : "";
  }
  // Completed checkpoints of `job`, from the REST API.
  int CompletedCheckpoints(const std::string& job) {
    std::smatch m;
    const std::string stats = HttpGet(rest_port_, "/jobs/" + job + "/checkpoints").value_or("");
    return std::regex_search(stats, m, std::regex(R"("completed":([0-9]+),)")) ? std::stoi(m[1])
                                                                               : 0;
  }
  // Kills a TaskManager running tasks with SIGKILL; true once `job` is
  // FINISHED, within 90 s.
  bool KillATaskManagerAndAwaitTheEnd(const std::string& job) {
    const int victim = TaskManagerWithTasks();
    if (victim <= 0 || kill(victim, SIGKILL) != 0) {
      ADD_FAILURE() << "no TaskManager with tasks to kill";
      return false;
    }
    if (WaitFor(
            [&] {
              return HttpGet(rest_port_, "/jobs/" + job)
                         .value_or("")
                         .find(R"("state":"FINISHED")") != std::string::npos;
            },
            absl::Seconds(90))) {
      return true;
    }
    ADD_FAILURE() << "not FINISHED after the kill: "
                  << HttpGet(rest_port_, "/jobs/" + job).value_or("");
    return false;
  }

 protected:
  std::string ExtraConfig() override {
    return absl::StrCat("execution.checkpointing.interval: 200 ms\n",
                        "execution.checkpointing.externalized-checkpoint-retention: "
                        "RETAIN_ON_CANCELLATION\n",
                        "state.checkpoints.dir: ", (root_ / "chk").string(), "\n");
  }
};

// What the committed part files of CheckpointedSums in `dirs` hold, record
// by record, against an independent computation: which of its `records`
// records have no line or several, and how many lines carry a sum other
// than the running sum of their key up to them (the state it must have).
// Hidden (in-progress) files are not read: they are not committed.
struct RecordLines {
  int64_t lines = 0, lost = 0, duplicated = 0, wrong_sums = 0;
  std::string examples;  // "<record>x<lines>" of the first few that are not once
};
inline RecordLines CountRecordLines(const std::vector<fs::path>& dirs, int64_t records) {
  std::map<std::pair<int64_t, int64_t>, int> seen;  // (key, sequence number) -> lines
  RecordLines result;
  for (const fs::path& dir : dirs) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
      const std::string name = entry.path().filename().string();
      if (name.front() == '.') continue;
      EXPECT_EQ(name.rfind("part-", 0), 0u) << entry.path();
      std::ifstream in(entry.path());
      for (int64_t key, seq, sum; in >> key >> seq >> sum;) {
        ++result.lines;
        ++seen[{key, seq}];
        result.wrong_sums += sum != 16 * seq * (seq + 1) / 2 + key * (seq + 1);
      }
    }
  }
  for (int64_t x = 0; x < records; ++x) {
    auto it = seen.find({x % 16, x / 16});
    const int count = it == seen.end() ? 0 : it->second;
    result.lost += count == 0;
    result.duplicated += count > 1;
    if (count != 1 && result.examples.size() < 200) {
      absl::StrAppend(&result.examples, " ", x, "x", count);
    }
  }
  return result;
}

// Every record's line exactly once, with the right sum.
inline void ExpectEveryRecordOnce(const std::vector<fs::path>& dirs, int64_t records) {
  const RecordLines counted = CountRecordLines(dirs, records);
  EXPECT_EQ(counted.lost, 0) << "records without a line:" << counted.examples;
  EXPECT_EQ(counted.duplicated, 0) << "records with several lines:" << counted.examples;
  EXPECT_EQ(counted.lines, records) << "lines of records that do not exist, or repeated";
  EXPECT_EQ(counted.wrong_sums, 0) << "lines whose sum is not the state it should be";
}

}  // namespace sluice::e2e

#endif  // SLUICE_TESTS_E2E_CLUSTER_FIXTURE_H_
