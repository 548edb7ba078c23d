// The real daemons, started and stopped by the real scripts, on loopback:
// failure detection and recovery as an operator would see it in the metrics.
#include <set>

#include "tests/e2e/cluster_fixture.h"

namespace sluice::e2e {
namespace {

TEST_F(ClusterE2eTest, DetectsLostTaskManagersAndRecoversWithoutRestarts) {
  CommandResult started = Script("start-cluster.sh");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  ASSERT_TRUE(TaskManagersAre(2, absl::Seconds(15)));
  std::vector<int> tms = Pids("taskmanager");
  ASSERT_EQ(tms.size(), 2u);

  // The CLI sees both through the JobManager; the JM serves the utilization.
  CommandResult status = RunCommand(absl::StrCat(
      SLUICE_BINARY_DIR "/bin/sluice cluster status -m 127.0.0.1:", jm_port_, " --output json"));
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_THAT(status.output, HasSubstr("\"slots_total\": 4"));
  ASSERT_TRUE(WaitFor([&] {
    auto metrics = HttpGet(rest_port_, "/metrics");
    return metrics &&
           MetricValue(*metrics, R"(sluice_cluster_resource_utilization{resource="slots"})");
  }));

  // kill -9: the broken stream gives it away at once.
  kill(tms[0], SIGKILL);
  EXPECT_TRUE(TaskManagersAre(1, absl::Seconds(2)));
  EXPECT_EQ(RmMetric(R"(sluice_resourcemanager_taskmanagers_lost_total{reason="stream_broken"})"),
            1);

  // SIGSTOP: silent past heartbeat.timeout (1 s).
  kill(tms[1], SIGSTOP);
  EXPECT_TRUE(TaskManagersAre(0, absl::Seconds(3)));
  EXPECT_EQ(
      RmMetric(R"(sluice_resourcemanager_taskmanagers_lost_total{reason="heartbeat_timeout"})"), 1);
  kill(tms[1], SIGCONT);
  EXPECT_TRUE(TaskManagersAre(1, absl::Seconds(5)));

  ASSERT_EQ(Script("taskmanager.sh start").exit_code, 0);
  ASSERT_TRUE(TaskManagersAre(2, absl::Seconds(10)));

  // The ResourceManager dies and comes back: TaskManagers re-register on
  // their own, without being restarted.
  std::vector<int> rm = Pids("resourcemanager");
  ASSERT_EQ(rm.size(), 1u);
  std::vector<int> tms_before = Pids("taskmanager");
  kill(rm[0], SIGKILL);
  ASSERT_TRUE(WaitFor([&] { return !IsRunning(rm[0]); }));
  CommandResult restarted = Script("resourcemanager.sh start");
  ASSERT_EQ(restarted.exit_code, 0) << restarted.output;
  EXPECT_TRUE(TaskManagersAre(2, absl::Seconds(10)));
  EXPECT_EQ(Pids("taskmanager"), tms_before);
  for (int pid : tms_before) EXPECT_TRUE(IsRunning(pid)) << pid;

  // stop-cluster leaves nothing behind, and every daemon exits cleanly.
  std::vector<int> all = Pids("taskmanager");
  for (const char* daemon : {"jobmanager", "resourcemanager"}) {
    for (int pid : Pids(daemon)) all.push_back(pid);
  }
  CommandResult stopped = Script("stop-cluster.sh");
  EXPECT_EQ(stopped.exit_code, 0) << stopped.output;
  EXPECT_THAT(stopped.output, ::testing::Not(HasSubstr("killing")));
  for (int pid : all) EXPECT_FALSE(IsRunning(pid)) << "pid " << pid << " survived stop-cluster";
}

TEST_F(ClusterE2eTest, ASlotRequestIsServedWhenATaskManagerProcessStarts) {
  ASSERT_EQ(Script("resourcemanager.sh start").exit_code, 0);
  // The job side: a JobManager in this process declares what a job needs.
  auto jm = JobManager::Start(testing::LoopbackConfig(
      {absl::StrCat("resourcemanager.rpc.port=", rm_port_), "jobmanager.rpc.port=0"}));
  ASSERT_TRUE(jm.ok()) << jm.status();
  ASSERT_TRUE(WaitFor([&] { return (*jm)->registered(); }));
  v1::DeclareResources declaration;
  declaration.set_job_id("e2e-job");
  auto* requirement = declaration.add_requirements();
  requirement->set_desired(2);
  requirement->set_min(2);
  (*jm)->DeclareResources(declaration);
  ASSERT_TRUE(WaitFor([&] { return RmMetric("sluice_resourcemanager_waiting_requests") == 1; }));

  ASSERT_EQ(Script("taskmanager.sh start").exit_code, 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        return (*jm)
                   ->InspectSlotPool([](const SlotPool& pool) { return pool.Slots("e2e-job"); })
                   .size() >= 2;
      },
      absl::Seconds(15)));
  const std::string held = R"(sluice_resourcemanager_job_slots{job_id="e2e-job",tenant="default"})";
  EXPECT_TRUE(WaitFor([&] { return RmMetric(held) == 2; }));
  EXPECT_EQ(RmMetric("sluice_resourcemanager_waiting_requests"), 0);
  EXPECT_EQ(RmMetric("sluice_resourcemanager_slot_allocation_latency_seconds_count"), 1);
  EXPECT_EQ(RmMetric(R"(sluice_cluster_resource_utilization{resource="slots"})"), 100);

  (*jm)->ReleaseJob("e2e-job");
  EXPECT_TRUE(
      WaitFor([&] { return RmMetric(R"(sluice_resourcemanager_slots{state="free"})") == 2; }));
  EXPECT_EQ(RmMetric(held), std::nullopt) << "an ended job leaves no series behind";
  (*jm)->Shutdown();
}

// --- jobs on the cluster ------------------------------------------------------

TEST_F(JobE2eTest, WordCountAcrossTwoTaskManagersMatchesAnIndependentCount) {
  // A generated text of ~100 MB in 8 files, counted here as `sort | uniq -c` would.
  fs::create_directories(root_ / "corpus");
  std::map<std::string, int64_t> expected;
  uint64_t x = 88172645463325252ULL;
  for (int f = 0; f < 8; ++f) {
    std::ofstream out(root_ / "corpus" / absl::StrCat("part-", f, ".txt"));
    std::string line;
    for (int64_t bytes = 0; bytes < 100 * 1000 * 1000 / 8;) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      std::string word = absl::StrCat("w", x % 5000);
      ++expected[word];
      line += word;
      line += (x >> 20) % 12 == 0 ? '\n' : ' ';
      if (line.size() > 4096) {
        out << line;
        bytes += static_cast<int64_t>(line.size());
        line.clear();
      }
    }
    out << line << "\n";
  }
  CommandResult run =
      Sluice(absl::StrCat("run", Jm(), "-p 4 -c WordCount ", kExamples, " -- --input ",
                          (root_ / "corpus").string(), " --output ", (root_ / "counts").string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("FINISHED"));
  std::map<std::string, int64_t> counted;
  for (const auto& entry : fs::directory_iterator(root_ / "counts")) {
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      size_t comma = line.rfind(',');
      std::string word = line.substr(1, comma - 1);
      counted[word] = std::max<int64_t>(counted[word], std::stoll(line.substr(comma + 1)));
    }
  }
  EXPECT_EQ(counted, expected);
  // The job gave its slots back.
  EXPECT_TRUE(
      WaitFor([&] { return RmMetric(R"(sluice_resourcemanager_slots{state="free"})") == 4; }));
}

TEST_F(JobE2eTest, NexmarkQueriesAcrossTwoTaskManagersMatchTheirBruteForceReference) {
  // At parallelism 4 a job needs the slots of both TaskManagers (2 each), so
  // records and watermarks cross the data port between them.
  CommandResult run = RunCommand(
      absl::StrCat("bash " SLUICE_SOURCE_DIR "/tests/nexmark/queries_test.sh " SLUICE_BINARY_DIR,
                   " --parallelism 4 --events 200000 --queries 'q0 q3 q4 q5 q7 q8 q9 q11' --run '",
                   Jm(), "' --work ", (root_ / "nexmark").string()));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  for (const char* q : {"q0", "q3", "q4", "q5", "q7", "q8", "q9", "q11"}) {
    EXPECT_THAT(run.output, HasSubstr(absl::StrCat(q, " p4: OK"))) << run.output;
  }
}

TEST_F(JobE2eTest, FraudDetectionFindsExactlyThePlantedFrauds) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-p 2 -c FraudDetection ", kExamples,
                                          " -- --transactions 200000 --frauds 25 --output ",
                                          (root_ / "alerts").string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  int alerts = 0;
  for (const auto& entry : fs::directory_iterator(root_ / "alerts")) {
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line); ++alerts) {
      EXPECT_THAT(line, HasSubstr("small=0.42 large=742"));
    }
  }
  EXPECT_EQ(alerts, 25);
}

// As in Flink: what the print sink (and any user code) writes to stdout
// lands in the TaskManagers' .out files, their log lines in the .log files.
TEST_F(JobE2eTest, PrintedRecordsGoToTheTaskManagersOutFilesNotTheirLogs) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-p 2 -c FraudDetection ", kExamples,
                                          " -- --transactions 100000 --frauds 25"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  int printed = 0, logged = 0, log_lines = 0;
  for (const auto& entry : fs::directory_iterator(root_ / "log")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("sluice-taskmanager-", 0) != 0) continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      const bool alert = line.find("ALERT account=") != std::string::npos;
      if (absl::EndsWith(name, ".out")) printed += alert;
      if (absl::EndsWith(name, ".log")) {
        logged += alert;
        ++log_lines;
      }
    }
  }
  EXPECT_EQ(printed, 25);
  EXPECT_EQ(logged, 0);
  EXPECT_GT(log_lines, 0) << "the TaskManagers' log lines are in their .log files";
}

TEST_F(JobE2eTest, AFailingMapFailsTheJobWithItsMessage) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-p 2 -c Failing ", kTestJobs));
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("FAILED"));
  EXPECT_THAT(run.output, HasSubstr("operator 'Curse'"));
  EXPECT_THAT(run.output, HasSubstr("failed: record 5000 is cursed on TaskManager"));
  CommandResult list = Sluice(absl::StrCat("list -a", Jm()));
  EXPECT_THAT(list.output, HasSubstr("record 5000 is cursed"));
  EXPECT_THAT(list.output, HasSubstr("--- Ended Jobs ---"));
  EXPECT_THAT(list.output, ::testing::ContainsRegex("JOB ID +NAME +STATE +STARTED"));
  EXPECT_THAT(list.output, ::testing::ContainsRegex("FAILED +20[0-9][0-9]-[0-9][0-9]-[0-9][0-9] "));
  // As Flink's list: without -a only running and scheduled jobs.
  CommandResult running = Sluice(absl::StrCat("list", Jm()));
  EXPECT_EQ(running.exit_code, 0) << running.output;
  EXPECT_THAT(running.output, HasSubstr("No running/restarting jobs."));
  EXPECT_THAT(running.output, HasSubstr("No scheduled jobs."));
  EXPECT_THAT(running.output, ::testing::Not(HasSubstr("cursed")));
  EXPECT_TRUE(
      WaitFor([&] { return RmMetric(R"(sluice_resourcemanager_slots{state="free"})") == 4; }));
}

TEST_F(JobE2eTest, CancelStopsARunningUnboundedJobAndFreesItsSlots) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-d -p 3 -c Unbounded ", kTestJobs));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})"))) << run.output;
  ASSERT_TRUE(WaitFor([&] {
    return Sluice(absl::StrCat("list -a", Jm())).output.find("RUNNING") != std::string::npos;
  }));
  EXPECT_EQ(RmMetric(R"(sluice_resourcemanager_slots{state="free"})"), 1);
  // Task and job metrics while it runs: 2 vertices x 3 subtasks.
  const std::string job = id[1].str();
  EXPECT_TRUE(WaitFor([&] {
    auto metrics = HttpGet(rest_port_, "/metrics");
    return metrics && MetricValue(*metrics, absl::StrCat(R"(sluice_job_running_tasks{job_id=")",
                                                         job, R"(",job_name="Unbounded"})")) == 6;
  }));
  EXPECT_TRUE(WaitFor([&] {
    double records = 0;
    for (int port : TaskManagerMetricsPorts()) {
      std::string metrics = HttpGet(port, "/metrics").value_or("");
      std::istringstream lines(metrics);
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind("sluice_task_records_in_total{", 0) == 0) {
          records += std::stod(line.substr(line.rfind(' ') + 1));
        }
      }
    }
    return records > 0;
  })) << "records crossing the keyBy show up in the TaskManagers' task metrics";
  CommandResult cancel = Sluice(absl::StrCat("cancel", Jm(), id[1].str()));
  ASSERT_EQ(cancel.exit_code, 0) << cancel.output;
  EXPECT_THAT(cancel.output, HasSubstr("CANCELED"));
  EXPECT_TRUE(
      WaitFor([&] { return RmMetric(R"(sluice_resourcemanager_slots{state="free"})") == 4; }));
  // The logs say who cancelled, and name the tasks as Flink does.
  EXPECT_THAT(DaemonLog("jobmanager"),
              HasSubstr(absl::StrCat("Cancelling job ", job,
                                     " ('Unbounded'): requested by RPC client ipv4:127.0.0.1:")));
  const std::string tm_logs = TaskManagerLog(0) + TaskManagerLog(1);
  EXPECT_THAT(tm_logs, HasSubstr(absl::StrCat("Cancelling every deployment of job ", job,
                                              ": requested by the JobMaster at ipv4:127.0.0.1:")));
  EXPECT_THAT(tm_logs,
              HasSubstr(absl::StrCat("Generator (3/3)#0 of job ", job, " switched to RUNNING")));
  EXPECT_THAT(tm_logs,
              HasSubstr(absl::StrCat("Generator (1/3)#0 of job ", job, " switched to CANCELED")));
}

TEST_F(JobE2eTest, EachTaskManagerServesItsOwnLogsThroughTheRestApi) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c Unbounded ", kTestJobs));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(WaitFor([&] {
    return Sluice(absl::StrCat("list -a", Jm())).output.find("RUNNING") != std::string::npos;
  }));
  using nlohmann::json;
  json tms = json::parse(HttpGet(rest_port_, "/taskmanagers").value_or("{}"));
  ASSERT_EQ(tms["taskmanagers"].size(), 2u) << tms;
  std::set<std::string> logs_seen;
  for (const auto& tm : tms["taskmanagers"]) {
    const std::string base = "/taskmanagers/" + tm["id"].get<std::string>();
    json listed = json::parse(HttpGet(rest_port_, base + "/logs").value_or("{}"));
    std::set<std::string> names;
    for (const auto& log : listed["logs"]) {
      names.insert(log["name"].get<std::string>());
      EXPECT_GT(log["mtime"].get<int64_t>(), 0) << log;
    }
    // Its own .log and .out, and not the other instance's nor other daemons'.
    ASSERT_EQ(names.size(), 2u) << listed;
    const std::string log = *names.begin(), out = *names.rbegin();
    EXPECT_THAT(log, ::testing::StartsWith("sluice-taskmanager-"));
    EXPECT_TRUE(absl::EndsWith(log, ".log") && absl::EndsWith(out, ".out")) << listed;
    logs_seen.insert(log);
    const std::string text = HttpGet(rest_port_, base + "/logs/" + log).value_or("");
    EXPECT_THAT(text, HasSubstr("Starting sluice-taskmanager"));
    EXPECT_THAT(text, HasSubstr(tm["id"].get<std::string>()));
    EXPECT_EQ(HttpGet(rest_port_, base + "/log").value_or(""), text)
        << "/log serves the current log";
    EXPECT_EQ(HttpCall(rest_port_, "GET", base + "/stdout").first, 200);
    for (const char* escape :
         {"../sluice-jobmanager", "..%2fconf%2fsluice.yaml", "%2e%2e%2fconf%2fsluice.yaml",
          "..%252fconf%252fsluice.yaml", "/etc/passwd", "%2fetc%2fpasswd"}) {
      auto answer = RawHttp(rest_port_, absl::StrCat("GET ", base, "/logs/", escape,
                                                     " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
      EXPECT_EQ(answer.first, 404) << escape;
      EXPECT_THAT(answer.second, HasSubstr(R"({"errors":)")) << escape;
    }
  }
  EXPECT_EQ(logs_seen.size(), 2u) << "each TaskManager serves its own log";
  auto unknown = HttpCall(rest_port_, "GET", "/taskmanagers/nope/logs");
  EXPECT_EQ(unknown.first, 404);
  EXPECT_THAT(unknown.second, HasSubstr("TaskManager nope not found"));
}

TEST_F(JobE2eTest, ASavepointNeedsNoPeriodicCheckpointsAndBadOnesAreExplained) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c Unbounded ", kTestJobs));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})"))) << run.output;
  const std::string job = id[1].str();
  EXPECT_THAT(Sluice(absl::StrCat("savepoint", Jm(), job)).output,
              HasSubstr("no savepoint directory"))
      << "none given, none configured";
  EXPECT_THAT(Sluice(absl::StrCat("savepoint", Jm(), "0123 /tmp")).output, HasSubstr("not found"));
  ASSERT_TRUE(WaitFor([&] {
    return Sluice(absl::StrCat("list -a", Jm())).output.find("RUNNING") != std::string::npos;
  }));
  CommandResult saved =
      Sluice(absl::StrCat("savepoint", Jm(), job, " ", (root_ / "savepoints").string()));
  ASSERT_EQ(saved.exit_code, 0) << saved.output;
  std::smatch path;
  ASSERT_TRUE(std::regex_search(saved.output, path, std::regex("Path: (\\S+)"))) << saved.output;
  auto meta = engine::ReadMetadata(path[1].str());
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_TRUE(meta->savepoint());
  EXPECT_EQ(meta->states_size(), 4) << "2 vertices x 2 subtasks";
  ASSERT_EQ(Sluice(absl::StrCat("cancel", Jm(), job)).exit_code, 0);
  EXPECT_THAT(Sluice(absl::StrCat("savepoint", Jm(), job, " /tmp")).output,
              HasSubstr("only a running job can take a savepoint"));
}

TEST_F(JobE2eTest, AJobTurnsCheckpointingOnForItselfWithDashD) {
  CommandResult no_dir = Sluice(absl::StrCat(
      "run", Jm(), "-d -D execution.checkpointing.interval=1s", " -c Unbounded ", kTestJobs));
  EXPECT_NE(no_dir.exit_code, 0);
  EXPECT_THAT(no_dir.output, HasSubstr("execution.checkpointing.dir"));
  CommandResult run = Sluice(absl::StrCat(
      "run", Jm(), "-d -p 2 -D execution.checkpointing.interval=200ms -D state.checkpoints.dir=",
      (root_ / "job-checkpoints").string(), " -D restart-strategy.type=none -c Unbounded ",
      kTestJobs));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})"))) << run.output;
  const std::string job = id[1].str();
  EXPECT_TRUE(WaitFor(
      [&] { return engine::FindLatestCheckpoint((root_ / "job-checkpoints").string(), job).ok(); },
      absl::Seconds(20)))
      << "the cluster has no checkpointing; the job's own keys turn it on";
  EXPECT_THAT(HttpGet(rest_port_, "/jobs/" + job + "/checkpoints/config").value_or(""),
              HasSubstr(R"("interval":200)"));
  ASSERT_EQ(Sluice(absl::StrCat("cancel", Jm(), job)).exit_code, 0);
}

// EnableCheckpointing / SetConfig in the job's code, over -D (as in Flink);
// a cluster key set by the code is refused at submission, named.
TEST_F(JobE2eTest, AJobTurnsCheckpointingOnInItsCodeAndItsCodeWinsOverDashD) {
  const fs::path out = root_ / "code-sums";
  CommandResult cluster_key =
      Sluice(absl::StrCat("run", Jm(), "-c CheckpointedSums ", kTestJobs, " -- --records 10 --out ",
                          out.string(), " --cluster-key-from-code true"));
  EXPECT_NE(cluster_key.exit_code, 0);
  EXPECT_THAT(cluster_key.output, HasSubstr("the job's code sets: key 'rest.port'"));
  CommandResult run = Sluice(
      absl::StrCat("run", Jm(), "-d -D execution.checkpointing.timeout=5s -c CheckpointedSums ",
                   kTestJobs, " -- --records 6000 --rate 2000 --out ", out.string(),
                   " --checkpoints-from-code ", (root_ / "code-checkpoints").string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})"))) << run.output;
  const std::string job = id[1].str();
  EXPECT_TRUE(WaitFor(
      [&] { return engine::FindLatestCheckpoint((root_ / "code-checkpoints").string(), job).ok(); },
      absl::Seconds(20)))
      << "the cluster has no checkpointing; the job's code turns it on";
  const std::string config =
      HttpGet(rest_port_, "/jobs/" + job + "/checkpoints/config").value_or("");
  EXPECT_THAT(config, HasSubstr(R"("interval":150)"));
  EXPECT_THAT(config, HasSubstr(R"("timeout":42000)")) << "the code's 42 s over -D's 5 s";
  ASSERT_TRUE(WaitFor(
      [&] {
        return HttpGet(rest_port_, "/jobs/" + job).value_or("").find(R"("state":"FINISHED")") !=
               std::string::npos;
      },
      absl::Seconds(30)));
  ExpectEveryRecordOnce({out}, 6000);
}

TEST_F(JobE2eTest, ParallelismDefaultIsHonouredAndAnUnknownDashDKeyWarns) {
  CommandResult zero = Sluice(absl::StrCat("run", Jm(), "-p 0 -c Unbounded ", kTestJobs));
  EXPECT_EQ(zero.exit_code, 1);
  EXPECT_THAT(zero.output, HasSubstr("the parallelism must be at least 1, got '0'"));
  CommandResult run = Sluice(absl::StrCat("run", Jm(),
                                          "-d -D parallelism.default=3 -D no.such.key=1 "
                                          "-c Unbounded ",
                                          kTestJobs));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("warning: -D no.such.key=1: unknown key 'no.such.key'"));
  std::smatch id;
  ASSERT_TRUE(std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})"))) << run.output;
  const std::string job = id[1].str();
  const std::regex listed(job + " +Unbounded +RUNNING +[0-9-]+ [0-9:]+ +p=3 ");
  EXPECT_TRUE(WaitFor([&] {
    return std::regex_search(Sluice(absl::StrCat("list -r", Jm())).output, listed);
  })) << Sluice(absl::StrCat("list -a", Jm())).output;
  ASSERT_EQ(Sluice(absl::StrCat("cancel", Jm(), job)).exit_code, 0);
}

TEST_F(JobE2eTest, TheRestApiListsDescribesAndCancelsJobsLikeFlinks) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c Unbounded ", kTestJobs));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})"))) << run.output;
  const std::string job = id[1].str();
  ASSERT_TRUE(WaitFor([&] {
    return HttpGet(rest_port_, "/jobs").value_or("").find(R"("status":"RUNNING")") !=
           std::string::npos;
  }));
  EXPECT_THAT(HttpGet(rest_port_, "/jobs").value_or(""),
              HasSubstr(absl::StrCat(R"({"id":")", job, R"(","status":"RUNNING"})")));
  using nlohmann::json;
  json overview;
  EXPECT_TRUE(WaitFor([&] {  // the job runs before its last task does
    overview = json::parse(HttpGet(rest_port_, "/jobs/overview").value_or("{}"));
    return overview["jobs"].size() == 1 && overview["jobs"][0]["tasks"]["running"] == 4;
  })) << overview;
  ASSERT_EQ(overview["jobs"].size(), 1u) << overview;
  EXPECT_EQ(overview["jobs"][0]["jid"], job);
  EXPECT_EQ(overview["jobs"][0]["name"], "Unbounded");
  EXPECT_EQ(overview["jobs"][0]["end-time"], -1);
  EXPECT_GT(overview["jobs"][0]["last-modification"].get<int64_t>(), 0);
  EXPECT_EQ(overview["jobs"][0]["tasks"]["total"], 4);
  EXPECT_EQ(overview["jobs"][0]["tasks"]["running"], 4);
  EXPECT_EQ(overview["jobs"][0]["tasks"]["failed"], 0);  // every state, as Flink

  json details = json::parse(HttpGet(rest_port_, "/jobs/" + job).value_or("{}"));
  EXPECT_EQ(details["parallelism"], 2);
  EXPECT_TRUE(details["root-exception"].is_null());
  EXPECT_EQ(details["status-counts"]["RUNNING"], 4);
  EXPECT_GT(details["timestamps"]["RUNNING"].get<int64_t>(), 0);
  ASSERT_EQ(details["vertices"].size(), 2u) << details;
  const std::string source = details["vertices"][0]["id"];
  EXPECT_TRUE(std::regex_match(source, std::regex("[0-9a-f]{32}"))) << source;
  EXPECT_EQ(details["vertices"][0]["name"], "Generator");
  EXPECT_EQ(details["vertices"][0]["status"], "RUNNING");
  EXPECT_EQ(details["vertices"][0]["tasks"]["RUNNING"], 2);
  ASSERT_EQ(details["plan"]["nodes"].size(), 2u);
  EXPECT_EQ(details["plan"]["nodes"][1]["inputs"][0]["id"], source);
  EXPECT_EQ(details["plan"]["nodes"][1]["inputs"][0]["ship_strategy"], "HASH");
  EXPECT_THAT(HttpGet(rest_port_, "/overview").value_or(""), HasSubstr(R"("jobs-running":1)"));
  // -m with the REST address, as Flink users pass it, reaches the JobManager too.
  CommandResult listed = Sluice(absl::StrCat("list -m 127.0.0.1:", rest_port_));
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_THAT(listed.output, HasSubstr(job));

  // The TaskManagers' counts reach the JobManager with their heartbeat answers.
  json vertex;
  EXPECT_TRUE(WaitFor([&] {
    vertex = json::parse(HttpGet(rest_port_, "/jobs/" + job + "/vertices/" + source).value_or("{}"),
                         nullptr, false);
    // Bytes count when a buffer is sent (full, or at the buffer timeout),
    // after the records in it: wait for both.
    return vertex.contains("subtasks") && vertex["subtasks"].size() == 2 &&
           vertex["subtasks"][0]["metrics"]["write-records"].get<int64_t>() > 0 &&
           vertex["subtasks"][1]["metrics"]["write-records"].get<int64_t>() > 0 &&
           vertex["metrics"]["write-bytes"].get<int64_t>() > 0;
  })) << vertex;
  EXPECT_THAT(vertex["subtasks"][0]["endpoint"].get<std::string>(), HasSubstr("127.0.0.1:"));
  json pressure = json::parse(
      HttpGet(rest_port_, "/jobs/" + job + "/vertices/" + source + "/backpressure").value_or("{}"));
  EXPECT_EQ(pressure["subtasks"].size(), 2u) << pressure;
  EXPECT_TRUE(pressure["backpressureLevel"].is_string()) << pressure;
  json exceptions = json::parse(HttpGet(rest_port_, "/jobs/" + job + "/exceptions").value_or("{}"));
  EXPECT_TRUE(exceptions["exceptionHistory"]["entries"].empty()) << exceptions;

  auto unknown = HttpCall(rest_port_, "GET", "/jobs/0123");
  EXPECT_EQ(unknown.first, 404);
  EXPECT_THAT(unknown.second, HasSubstr(R"({"errors":["Job 0123 not found"]})"));
  auto no_vertex = HttpCall(rest_port_, "GET", "/jobs/" + job + "/vertices/ffff");
  EXPECT_EQ(no_vertex.first, 404);
  EXPECT_THAT(no_vertex.second, HasSubstr("has no vertex ffff"));
  auto no_route = HttpCall(rest_port_, "GET", "/no/such/route");
  EXPECT_EQ(no_route.first, 404);
  EXPECT_THAT(no_route.second, HasSubstr(R"({"errors":["Not found: /no/such/route"]})"));
  // Logs: the JobManager's own file, and nothing outside the log directory.
  json logs = json::parse(HttpGet(rest_port_, "/jobmanager/logs").value_or("{}"));
  std::string jm_log, jm_out;
  for (const auto& log : logs["logs"]) {
    const std::string name = log["name"];
    if (name.rfind("sluice-jobmanager", 0) != 0) continue;
    if (absl::EndsWith(name, ".log")) jm_log = name;
    if (absl::EndsWith(name, ".out")) jm_out = name;  // its stdout, as Flink lists it
  }
  ASSERT_FALSE(jm_log.empty()) << logs;
  EXPECT_FALSE(jm_out.empty()) << logs;
  EXPECT_THAT(HttpGet(rest_port_, "/jobmanager/logs/" + jm_log).value_or(""),
              HasSubstr("JobManager"));
  for (const char* escape :
       {"../conf/sluice.yaml", "..%2fconf%2fsluice.yaml", "%2e%2e%2fconf%2fsluice.yaml",
        "%2e%2e/conf/sluice.yaml", "..%252fconf%252fsluice.yaml", "..%5cconf%5csluice.yaml",
        "%252e%252e%252fconf%252fsluice.yaml", "sluice.yaml", "..", "%2e%2e"}) {
    auto answer = RawHttp(rest_port_, absl::StrCat("GET /jobmanager/logs/", escape,
                                                   " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    EXPECT_EQ(answer.first, 404) << escape;
    EXPECT_THAT(answer.second, ::testing::Not(HasSubstr("jobmanager.rpc.port"))) << escape;
    EXPECT_THAT(answer.second, HasSubstr(R"({"errors":)")) << escape;
  }
  json config = json::parse(HttpGet(rest_port_, "/jobmanager/config").value_or("[]"));
  EXPECT_TRUE(std::any_of(config.begin(), config.end(), [](const json& entry) {
    return entry["key"] == "rest.bind-address" && entry["value"] == "127.0.0.1";
  })) << config;
  json tms = json::parse(HttpGet(rest_port_, "/taskmanagers").value_or("{}"));
  ASSERT_EQ(tms["taskmanagers"].size(), 2u) << tms;
  for (const auto& tm : tms["taskmanagers"]) {
    EXPECT_GT(tm["dataPort"].get<int>(), 0) << tm;  // the real data port
    EXPECT_EQ(tm["slotsNumber"], 2) << tm;
    EXPECT_TRUE(tm["hardware"].contains("cpuCores")) << tm;
    EXPECT_EQ(HttpCall(rest_port_, "GET", "/taskmanagers/" + tm["id"].get<std::string>()).first,
              200);
  }
  EXPECT_EQ(HttpCall(rest_port_, "GET", "/taskmanagers/nope").first, 404);

  auto bad_mode = HttpCall(rest_port_, "PATCH", "/jobs/" + job + "?mode=stop");
  EXPECT_EQ(bad_mode.first, 400);
  EXPECT_THAT(bad_mode.second, HasSubstr("mode 'stop' is not supported"));
  EXPECT_EQ(HttpCall(rest_port_, "PATCH", "/jobs/0123").first, 404);

  // As `curl -X PATCH '.../jobs/<id>?mode=cancel'` sends it: no body, no Content-Length.
  auto cancel = RawHttp(rest_port_, "PATCH /jobs/" + job +
                                        "?mode=cancel HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                        "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(cancel.first, 202) << cancel.second;
  EXPECT_TRUE(WaitFor([&] {
    return HttpGet(rest_port_, "/jobs/" + job).value_or("").find(R"("state":"CANCELED")") !=
           std::string::npos;
  }));
  EXPECT_THAT(
      HttpGet(rest_port_, "/overview").value_or(""),
      ::testing::AllOf(HasSubstr(R"("jobs-running":0)"), HasSubstr(R"("jobs-cancelled":1)")));
  EXPECT_THAT(DaemonLog("jobmanager"),
              HasSubstr(absl::StrCat("Cancelling job ", job,
                                     " ('Unbounded'): requested by REST client 127.0.0.1:")));
  // The CLI on an ended job, an unreachable JobManager, a bad command line.
  CommandResult again = Sluice(absl::StrCat("cancel", Jm(), job));
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_THAT(again.output, HasSubstr("has already ended (CANCELED): nothing to cancel"));
  CommandResult nobody =
      Sluice(absl::StrCat("list -m 127.0.0.1:", PickFreePort()));  // a closed loopback port
  EXPECT_EQ(nobody.exit_code, 1);
  EXPECT_THAT(nobody.output, HasSubstr("is unreachable"));
  CommandResult bad_line = Sluice("run --no-such-flag");
  EXPECT_EQ(bad_line.exit_code, 1) << bad_line.output;
  EXPECT_TRUE(
      WaitFor([&] { return RmMetric(R"(sluice_resourcemanager_slots{state="free"})") == 4; }));
}

TEST_F(JobE2eTest, LosingATaskManagerFailsItsJobsWithThatCause) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-d -p 4 -c Unbounded ", kTestJobs));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(WaitFor([&] {
    return Sluice(absl::StrCat("list -a", Jm())).output.find("RUNNING") != std::string::npos;
  }));
  kill(Pids("taskmanager").at(0), SIGKILL);
  ASSERT_TRUE(WaitFor([&] {
    return Sluice(absl::StrCat("list -a", Jm())).output.find("FAILED") != std::string::npos;
  }));
  CommandResult list = Sluice(absl::StrCat("list -a", Jm()));
  EXPECT_THAT(list.output, HasSubstr("lost its slot on TaskManager"));
  // The surviving TaskManager's slots are free again.
  EXPECT_TRUE(
      WaitFor([&] { return RmMetric(R"(sluice_resourcemanager_slots{state="free"})") == 2; }));
}

// Sums a task metric over both TaskManagers, for tasks whose name contains `task`.
double TaskMetricSum(const std::vector<int>& ports, const std::string& metric,
                     const std::string& task) {
  double sum = 0;
  for (int port : ports) {
    std::istringstream lines(HttpGet(port, "/metrics").value_or(""));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(metric + "{", 0) == 0 && line.find(task) != std::string::npos) {
        sum += std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
  }
  return sum;
}

TEST_F(JobE2eTest, ASlowSinkOnOneTaskManagerThrottlesTheSourceOnTheOther) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-d -c SlowSink ", kTestJobs));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(WaitFor([&] {
    return Sluice(absl::StrCat("list -a", Jm())).output.find("RUNNING") != std::string::npos;
  }));
  std::vector<int> ports = TaskManagerMetricsPorts();
  ASSERT_EQ(ports.size(), 2u);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  double sent_before = TaskMetricSum(ports, "sluice_task_records_out_total", "FastSource");
  std::vector<int64_t> rss_before;
  for (int pid : Pids("taskmanager"))
    rss_before.push_back(ReadProcessUsage(pid).resident_memory_bytes);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  double sent = TaskMetricSum(ports, "sluice_task_records_out_total", "FastSource") - sent_before;
  // Two sinks at ~2,000 records/s each (0.5 ms per record) bound the source to
  // about 4,000 records/s; unthrottled it would emit millions.
  EXPECT_GT(sent, 0);
  EXPECT_LT(sent / 2, 20000) << "the source was not slowed down by its consumers";
  // The shares cover the TaskManager's own window: two scrapers in a row
  // (two Prometheus servers) read the same figures, not each other's gaps.
  const double first = TaskMetricSum(ports, "sluice_task_backpressured_time_ratio", "FastSource");
  const double second = TaskMetricSum(ports, "sluice_task_backpressured_time_ratio", "FastSource");
  EXPECT_GT(first, 0.5) << "the source should spend most of its time waiting for credit";
  EXPECT_LE(first, 1.0);
  EXPECT_NEAR(first, second, 0.2);
  EXPECT_GT(TaskMetricSum(ports, "sluice_task_backpressured_time_seconds_total", "FastSource"), 1)
      << "back-pressured seconds are a counter since the task started";
  // The same picture in the pool and operator metrics: the source's output
  // buffers are in use, the sinks take ~2,000 records/s each, and the remote
  // channel's bytes cross the data port.
  EXPECT_GE(TaskMetricSum(ports, "sluice_task_output_pool_usage", "FastSource"), 0.5);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // rates cover the time between scrapes
  double sink_rate =
      TaskMetricSum(ports, "sluice_operator_records_in_per_second", R"(operator="SlowSink")");
  EXPECT_GT(sink_rate, 0);
  EXPECT_LT(sink_rate, 20000);
  EXPECT_GT(TaskMetricSum(ports, "sluice_operator_records_in_total", R"(operator="SlowSink")"), 0);
  EXPECT_GT(TaskMetricSum(ports, "sluice_taskmanager_data_bytes_total", R"(direction="sent")"),
            32 << 10);
  auto pids = Pids("taskmanager");
  for (size_t i = 0; i < pids.size(); ++i) {
    int64_t growth = ReadProcessUsage(pids[i]).resident_memory_bytes - rss_before[i];
    EXPECT_LT(growth, 16 << 20) << "TaskManager " << pids[i] << " grew by " << growth << " bytes";
  }
  std::smatch id;
  ASSERT_TRUE(std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})")));
  EXPECT_EQ(Sluice(absl::StrCat("cancel", Jm(), id[1].str())).exit_code, 0);
  // Cancelling wakes the source although it is waiting for credit: both
  // TaskManagers drop the job's tasks, and stop cleanly afterwards.
  EXPECT_TRUE(WaitFor([&] {
    for (int port : ports) {
      if (HttpGet(port, "/metrics").value_or("FastSource").find("FastSource") !=
          std::string::npos) {
        return false;
      }
    }
    return true;
  }));
  CommandResult stopped = Script("stop-cluster.sh");
  EXPECT_EQ(stopped.exit_code, 0) << stopped.output;
  EXPECT_THAT(stopped.output, ::testing::Not(HasSubstr("killing")));
}

TEST_F(JobE2eTest, BadSubmissionsAreRefusedAndTheJobManagerServesOthers) {
  // Through the CLI: a nondeterministic build, a job larger than the cluster.
  CommandResult nondeterministic =
      Sluice(absl::StrCat("run", Jm(), "-c Nondeterministic ", kTestJobs));
  EXPECT_NE(nondeterministic.exit_code, 0);
  EXPECT_THAT(nondeterministic.output, HasSubstr("its build function is not deterministic"));
  CommandResult too_big = Sluice(absl::StrCat("run", Jm(), "-p 9 -c Failing ", kTestJobs));
  EXPECT_THAT(too_big.output,
              HasSubstr("needs 9 slots (its largest parallelism) but the whole cluster has 4"));

  // Straight to the JobManager: its own checks.
  std::string library = ReadFile(kExamples);
  v1::JobSubmission good;
  good.set_job_name("FraudDetection");
  good.set_library_sha256(Sha256::Of(library));
  good.set_library_size(static_cast<int64_t>(library.size()));
  {
    auto built = engine::JobLibrary::Load(kExamples).value()->Build("FraudDetection", {}, 0);
    ASSERT_TRUE(built.ok()) << built.status();
    *good.mutable_graph() = engine::ToProto(*built);
  }
  v1::JobSubmission not_a_library = good;
  not_a_library.set_library_sha256(Sha256::Of("plain text"));
  not_a_library.set_library_size(10);
  EXPECT_THAT(SubmitRaw(not_a_library, "plain text").error_message(),
              HasSubstr("cannot load job library"));
  v1::JobSubmission missing = good;
  missing.set_job_name("NoSuchJob");
  EXPECT_THAT(SubmitRaw(missing, library).error_message(),
              HasSubstr("has no job named 'NoSuchJob'"));
  v1::JobSubmission cluster_key = good;
  cluster_key.add_job_config("rest.port=1");
  EXPECT_THAT(SubmitRaw(cluster_key, library).error_message(),
              HasSubstr("key 'rest.port' belongs to the cluster"));
  v1::JobSubmission bad_value = good;
  bad_value.add_job_config("execution.checkpointing.interval=soon");
  EXPECT_THAT(SubmitRaw(bad_value, library).error_message(),
              HasSubstr("execution.checkpointing.interval"));
  v1::JobSubmission corrupt = good;
  corrupt.set_library_sha256(std::string(64, 'a'));
  EXPECT_THAT(SubmitRaw(corrupt, library).error_message(), HasSubstr("failed its digest check"));
  for (const std::string& digest :
       {absl::AsciiStrToUpper(good.library_sha256()), std::string("../../../etc/passwd")}) {
    v1::JobSubmission not_a_digest = good;
    not_a_digest.set_library_sha256(digest);
    EXPECT_THAT(SubmitRaw(not_a_digest, library).error_message(),
                HasSubstr("is not a SHA-256 digest in lower-case hex"));
  }
  v1::JobSubmission oversized = good;
  oversized.set_library_size(int64_t{1} << 40);
  EXPECT_EQ(SubmitRaw(oversized, library).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  v1::JobSubmission cycle = good;
  cycle.mutable_graph()->mutable_nodes(0)->add_inputs(1);
  EXPECT_THAT(SubmitRaw(cycle, library).error_message(), HasSubstr("malformed job graph"));
  v1::JobSubmission zero = good;
  zero.mutable_graph()->mutable_vertices(0)->set_parallelism(0);
  EXPECT_THAT(SubmitRaw(zero, library).error_message(),
              ::testing::AllOf(HasSubstr("malformed job graph: vertex 0"),
                               HasSubstr("has parallelism 0; it must be between 1 and")));
  v1::JobSubmission negative_timeout = good;
  negative_timeout.set_buffer_timeout_us(-5);
  EXPECT_THAT(SubmitRaw(negative_timeout, library).error_message(),
              HasSubstr("execution.buffer-timeout must not be negative"));

  CommandResult after =
      Sluice(absl::StrCat("run", Jm(), "-c FraudDetection ", kExamples,
                          " -- --transactions 1000 --output ", (root_ / "after").string()));
  EXPECT_EQ(after.exit_code, 0) << after.output;
  // Followed to its end, the job's progress shows its tasks and records.
  EXPECT_THAT(after.output, ::testing::ContainsRegex("tasks [0-9]+/[0-9]+ running, records in"))
      << after.output;
}

// --- shutdown -----------------------------------------------------------------

// Stopping daemons while a job runs, cycle after cycle. The scripts start the
// daemons in the background and exit; as a child subreaper this test process
// adopts them then, so waitpid() tells how each one ended: exit status 0, not
// a signal (a crash leaves no line in a log whose shell is gone).
class ShutdownE2eTest : public JobE2eTest {
 protected:
  static constexpr int kCycles = 5;

  void SetUp() override {
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0) << std::strerror(errno);
    JobE2eTest::SetUp();
  }

  void TearDown() override {
    JobE2eTest::TearDown();
    // Reap what the base class stopped or killed, then adopt no more.
    WaitFor([] { return waitpid(-1, nullptr, WNOHANG) < 0; });
    prctl(PR_SET_CHILD_SUBREAPER, 0);
  }

  // How the adopted daemon `pid` ended, waiting at most `within`.
  static std::string ExitOf(int pid, absl::Duration within = absl::Seconds(10)) {
    int status = 0;
    pid_t reaped = 0;
    WaitFor(
        [&] {
          reaped = waitpid(pid, &status, WNOHANG);
          return reaped != 0;
        },
        within);
    if (reaped == 0) return absl::StrCat("still running after ", absl::FormatDuration(within));
    if (reaped < 0) return absl::StrCat("not a child of the test: ", std::strerror(errno));
    if (WIFSIGNALED(status)) {
      return absl::StrCat("killed by signal ", WTERMSIG(status),
                          WCOREDUMP(status) ? " (core dumped)" : "");
    }
    return absl::StrCat("exit status ", WEXITSTATUS(status));
  }

  fs::path Log(const std::string& daemon, int instance) {
    return root_ / "log" /
           absl::StrCat("sluice-", daemon, "-", instance, "-", MachineName(), ".log");
  }

  static std::string MachineName() {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    return host;
  }

  // The daemon's log ends with a clean stop and shows no crash.
  void ExpectStoppedCleanly(const std::string& daemon, int instance) {
    std::string log = ReadFile(Log(daemon, instance));
    EXPECT_THAT(log, HasSubstr(absl::StrCat("sluice-", daemon, " stopped")))
        << daemon << " " << instance << ":\n"
        << log;
    for (const char* crash : {"Segmentation fault", "core dumped", "terminate called", "Aborted"}) {
      EXPECT_THAT(log, ::testing::Not(HasSubstr(crash))) << daemon << " " << instance;
    }
  }

  // Processes still running with this test's configuration directory.
  std::vector<int> Leftovers() {
    std::vector<int> pids;
    const std::string conf = (root_ / "conf").string();
    for (const auto& entry : fs::directory_iterator("/proc")) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      const int pid = std::stoi(name);
      std::string cmdline = ReadFile(entry.path() / "cmdline");
      if (cmdline.find(conf) != std::string::npos && IsRunning(pid)) pids.push_back(pid);
    }
    return pids;
  }

  // Submits an unbounded job on every slot and waits until records flow
  // through both TaskManagers; returns its id.
  std::string RunUnboundedEverywhere() {
    CommandResult run = Sluice(absl::StrCat("run", Jm(), "-d -p 4 -c Unbounded ", kTestJobs));
    EXPECT_EQ(run.exit_code, 0) << run.output;
    std::smatch id;
    if (!std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})"))) {
      ADD_FAILURE() << run.output;
      return "";
    }
    const std::string job = id[1].str();
    EXPECT_TRUE(WaitFor([&] {
      std::vector<int> ports = TaskManagerMetricsPorts();
      if (ports.size() != 2) return false;
      for (int port : ports) {
        if (TaskMetricSum({port}, "sluice_task_records_in_total", job) <= 0) return false;
      }
      return true;
    })) << "job "
        << job << " does not run on both TaskManagers";
    return job;
  }

  std::string JobState(const std::string& job) {
    std::string list = Sluice(absl::StrCat("list -a", Jm())).output;
    std::istringstream lines(list);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(job) == std::string::npos) continue;
      for (const char* state : {"RUNNING", "FAILED", "CANCELED", "FINISHED"}) {
        if (line.find(state) != std::string::npos) return state;
      }
    }
    return "unknown";
  }
};

TEST_F(ShutdownE2eTest, SigtermStopsATaskManagerRunningAJobCleanlyEveryTime) {
  const std::string broken =
      R"(sluice_resourcemanager_taskmanagers_lost_total{reason="stream_broken"})";
  const std::string silent =
      R"(sluice_resourcemanager_taskmanagers_lost_total{reason="heartbeat_timeout"})";
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE(absl::StrCat("cycle ", cycle));
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    if (cycle > 0) {  // the first cycle has the TaskManagers of start-cluster.sh
      for (int i = 0; i < 2; ++i) ASSERT_EQ(Script("taskmanager.sh start").exit_code, 0);
      ASSERT_TRUE(TaskManagersAre(2, absl::Seconds(15)));
    }
    std::vector<int> tms = Pids("taskmanager");  // in start order: instance 0, 1
    ASSERT_EQ(tms.size(), 2u);
    const std::string job = RunUnboundedEverywhere();
    ASSERT_FALSE(job.empty());

    // SIGTERM while its subtasks run: a clean exit, and the ResourceManager
    // drops it at once because it deregistered (nothing counts as lost).
    const int victim = cycle % 2, survivor = 1 - victim;
    ASSERT_EQ(kill(tms[victim], SIGTERM), 0);
    EXPECT_EQ(ExitOf(tms[victim]), "exit status 0");
    EXPECT_TRUE(TaskManagersAre(1, absl::Seconds(2)));
    EXPECT_EQ(RmMetric(broken).value_or(0), 0);
    EXPECT_EQ(RmMetric(silent).value_or(0), 0);
    ExpectStoppedCleanly("taskmanager", victim);
    // The job cannot go on without its slots; the other TaskManager drops
    // its subtasks and stops cleanly too.
    EXPECT_TRUE(WaitFor([&] { return JobState(job) == "FAILED"; })) << JobState(job);
    ASSERT_EQ(kill(tms[survivor], SIGTERM), 0);
    EXPECT_EQ(ExitOf(tms[survivor]), "exit status 0");
    EXPECT_TRUE(TaskManagersAre(0, absl::Seconds(2)));
    ExpectStoppedCleanly("taskmanager", survivor);
    ASSERT_LT(absl::Now(), deadline) << "the cycle took over a minute";
    if (HasFailure()) return;  // one broken cycle tells enough
  }
}

TEST_F(ShutdownE2eTest, StopClusterStopsEveryDaemonCleanlyWhileAJobRuns) {
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE(absl::StrCat("cycle ", cycle));
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    if (cycle > 0) {
      CommandResult started = Script("start-cluster.sh");
      ASSERT_EQ(started.exit_code, 0) << started.output;
      ASSERT_TRUE(TaskManagersAre(2, absl::Seconds(15)));
    }
    ASSERT_FALSE(RunUnboundedEverywhere().empty());
    std::vector<std::pair<std::string, int>> daemons;  // (daemon, instance)
    std::vector<int> pids;
    for (const char* daemon : {"taskmanager", "jobmanager", "resourcemanager"}) {
      std::vector<int> of = Pids(daemon);
      for (size_t i = 0; i < of.size(); ++i) {
        daemons.emplace_back(daemon, static_cast<int>(i));
        pids.push_back(of[i]);
      }
    }
    ASSERT_EQ(daemons.size(), 4u);

    CommandResult stopped = Script("stop-cluster.sh");
    EXPECT_EQ(stopped.exit_code, 0) << stopped.output;
    EXPECT_THAT(stopped.output, ::testing::Not(HasSubstr("killing")));
    for (size_t i = 0; i < pids.size(); ++i) {
      const auto& [daemon, instance] = daemons[i];
      EXPECT_EQ(ExitOf(pids[i]), "exit status 0") << daemon << " " << instance;
      ExpectStoppedCleanly(daemon, instance);
    }
    EXPECT_THAT(Leftovers(), ::testing::IsEmpty());
    for (const char* daemon : {"taskmanager", "jobmanager", "resourcemanager"}) {
      EXPECT_THAT(Pids(daemon), ::testing::IsEmpty()) << daemon;
    }
    ASSERT_LT(absl::Now(), deadline) << "the cycle took over a minute";
    if (HasFailure()) return;
  }
}

TEST_F(ClusterE2eTest, BadConfigStopsStartupWithAOneLineError) {
  WriteConfig(
      "jobmanager.rpc.address: 127.0.0.1\nresourcemanager.rpc.address: 127.0.0.1\n"
      "taskmanager.numberOfTaskSlots: many\n");
  CommandResult direct = RunCommand(absl::StrCat(
      SLUICE_BINARY_DIR "/bin/sluice-taskmanager --conf-dir ", (root_ / "conf").string()));
  EXPECT_NE(direct.exit_code, 0);
  EXPECT_THAT(direct.output,
              HasSubstr("sluice.yaml: key 'taskmanager.numberOfTaskSlots': expected an integer, "
                        "got 'many'"));
  CommandResult scripted = Script("taskmanager.sh start");
  EXPECT_NE(scripted.exit_code, 0);
  EXPECT_THAT(scripted.output, HasSubstr("failed to start"));
  EXPECT_THAT(scripted.output, HasSubstr("taskmanager.numberOfTaskSlots"));
  EXPECT_TRUE(Pids("taskmanager").empty());

  CommandResult bad_flag = RunCommand(SLUICE_BINARY_DIR "/bin/sluice-resourcemanager --bogus");
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_THAT(bad_flag.output, HasSubstr("unknown argument '--bogus'"));
}

}  // namespace
}  // namespace sluice::e2e
