// Checkpoints, restarts and resumes on a real cluster, and the faults it must
// survive with every record of its exactly-once output once: real processes,
// real signals (kill -9, SIGSTOP/SIGCONT), output checked record by record.
#include <sys/mount.h>

#include "absl/cleanup/cleanup.h"
#include "engine/task_snapshot.h"
#include "tests/e2e/cluster_fixture.h"

namespace sluice::e2e {
namespace {

TEST_F(CheckpointE2eTest, AKeyedJobAcrossTwoTaskManagersCompletesCheckpointsWithEveryTasksState) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c Unbounded ", kTestJobs));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})"))) << run.output;
  const std::string job = id[1].str();
  const std::string stats_path = absl::StrCat("/jobs/", job, "/checkpoints");
  ASSERT_TRUE(WaitFor(
      [&] {
        std::smatch completed;
        const std::string stats = HttpGet(rest_port_, stats_path).value_or("");
        return std::regex_search(stats, completed, std::regex(R"("completed":([0-9]+),)")) &&
               std::stoi(completed[1]) >= 3;
      },
      absl::Seconds(20)))
      << HttpGet(rest_port_, stats_path).value_or("");
  const std::string stats = HttpGet(rest_port_, stats_path).value_or("");
  EXPECT_THAT(stats, HasSubstr(R"("num_subtasks":4)"));
  EXPECT_THAT(stats, HasSubstr(R"("status":"COMPLETED")"));
  EXPECT_THAT(
      HttpGet(rest_port_, stats_path + "/config").value_or(""),
      ::testing::AllOf(HasSubstr(R"("mode":"exactly_once")"), HasSubstr(R"("interval":200)")));

  // The latest checkpoint on disk: metadata written last, every task's state in it.
  auto latest = engine::FindLatestCheckpoint((root_ / "chk").string(), job);
  ASSERT_TRUE(latest.ok()) << latest.status();
  const v1::CheckpointMetadata& meta = latest->metadata;
  EXPECT_EQ(meta.job_id(), job);
  ASSERT_EQ(meta.states_size(), 4) << "2 vertices x 2 subtasks";
  int sources = 0, keyed = 0;
  for (const auto& handle : meta.states()) {
    std::string bytes = handle.inline_bytes();
    if (!handle.path().empty()) {
      auto read = engine::ReadCheckpointFile(latest->directory + "/" + handle.path(),
                                             engine::CheckpointFileKind::kTaskState);
      ASSERT_TRUE(read.ok()) << read.status();
      bytes = *read;
    }
    v1::TaskSnapshotProto snapshot;
    ASSERT_TRUE(snapshot.ParseFromString(bytes));
    EXPECT_EQ(snapshot.vertex(), handle.vertex());
    EXPECT_EQ(snapshot.subtask(), handle.subtask());
    EXPECT_EQ(snapshot.checkpoint_id(), meta.checkpoint_id());
    sources += snapshot.has_source_position() ? 1 : 0;
    for (const auto& op : snapshot.operators()) keyed += op.key_groups_size() > 0 ? 1 : 0;
  }
  EXPECT_EQ(sources, 2) << "both generator subtasks saved their position";
  EXPECT_EQ(keyed, 2) << "both reduce subtasks saved their key groups";
  int kept = 0;
  for (const auto& entry : fs::directory_iterator(root_ / "chk" / job)) {
    kept += entry.path().filename().string().rfind("chk-", 0) == 0 ? 1 : 0;
  }
  EXPECT_LE(kept, 2) << "num-retained 1: older checkpoints are discarded (one may be in progress)";

  // Per task: how late the latest barrier arrived, and how long its inputs aligned.
  int timed = 0;
  for (int port : TaskManagerMetricsPorts()) {
    std::istringstream lines(HttpGet(port, "/metrics").value_or(""));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("sluice_task_checkpoint_start_delay_seconds{", 0) == 0 ||
          line.rfind("sluice_task_checkpoint_alignment_time_seconds{", 0) == 0) {
        ++timed;
        EXPECT_GE(std::stod(line.substr(line.rfind(' ') + 1)), 0) << line;
        EXPECT_LT(std::stod(line.substr(line.rfind(' ') + 1)), 60) << line;
      }
    }
  }
  EXPECT_EQ(timed, 2 * 4) << "two series for each of the 4 subtasks";
  CommandResult cancel = Sluice(absl::StrCat("cancel", Jm(), job));
  ASSERT_EQ(cancel.exit_code, 0) << cancel.output;
}

TEST_F(CheckpointE2eTest, AKilledTaskManagersTasksRestartFromTheCheckpointCountingEveryRecordOnce) {
  const fs::path out = root_ / "sums";
  constexpr int64_t kRecords = 30000;
  CommandResult run =
      Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c CheckpointedSums ", kTestJobs, " -- --records ",
                          kRecords, " --rate 2500 --pad 32768 --out ", out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})"))) << run.output;
  const std::string job = id[1].str();
  auto completed = [&] {
    std::smatch m;
    const std::string stats = HttpGet(rest_port_, "/jobs/" + job + "/checkpoints").value_or("");
    return std::regex_search(stats, m, std::regex(R"("completed":([0-9]+),)")) ? std::stoi(m[1])
                                                                               : 0;
  };
  ASSERT_TRUE(WaitFor([&] { return completed() >= 3; }, absl::Seconds(20)));
  // 32 KiB per key: beyond the inline limit, in state files.
  auto latest = engine::FindLatestCheckpoint((root_ / "chk").string(), job);
  ASSERT_TRUE(latest.ok()) << latest.status();
  int state_files = 0;
  for (const auto& handle : latest->metadata.states()) state_files += !handle.path().empty();
  EXPECT_EQ(state_files, 2) << "the two keyed subtasks wrote state files";
  // Completed checkpoints commit the sink's files while the job runs.
  ASSERT_TRUE(WaitFor(
      [&] {
        std::error_code error;
        for (const auto& entry : fs::directory_iterator(out, error)) {
          if (entry.path().filename().string().rfind("part-", 0) == 0) return true;
        }
        return false;
      },
      absl::Seconds(10)));

  // While it runs, its checkpoints are in the JobManager's metrics.
  EXPECT_GE(MetricValue(HttpGet(rest_port_, "/metrics").value_or(""),
                        absl::StrCat(R"(sluice_job_checkpoints_completed{job_id=")", job,
                                     R"(",job_name="CheckpointedSums"})"))
                .value_or(0),
            1);
  ASSERT_TRUE(KillATaskManagerAndAwaitTheEnd(job));

  ExpectEveryRecordOnce({out}, kRecords);
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  EXPECT_THAT(ReadFile(root_ / "log" / absl::StrCat("sluice-jobmanager-0-", host, ".log")),
              HasSubstr("restarts in"));
  const std::string listed = Sluice(absl::StrCat("list -a", Jm())).output;
  EXPECT_THAT(listed, ::testing::ContainsRegex("restarts=[1-9]"));
  EXPECT_THAT(listed, HasSubstr("last checkpoint="));
  // The ended job's series left the JobManager's metrics; REST keeps its history.
  auto metrics = HttpGet(rest_port_, "/metrics").value_or("");
  EXPECT_THAT(metrics, ::testing::Not(HasSubstr(job))) << "an ended job's series stay";
  EXPECT_EQ(MetricValue(metrics, R"(sluice_jobmanager_jobs{state="FINISHED"})"), 1);
  auto details = nlohmann::json::parse(HttpGet(rest_port_, "/jobs/" + job).value_or("{}"));
  EXPECT_GE(details["restarts"].get<int>(), 1) << details;
  const std::string checkpoints = HttpGet(rest_port_, "/jobs/" + job + "/checkpoints").value_or("");
  EXPECT_THAT(checkpoints, ::testing::ContainsRegex(R"re("restored":\{"id":[1-9])re"));
  EXPECT_THAT(checkpoints, ::testing::ContainsRegex(R"re("counts":\{"restored":[1-9])re"));
}

// Backpressured (a slow keyed operator): the barriers overtake the queued
// records, which the checkpoints keep and a restore replays first.
TEST_F(CheckpointE2eTest,
       UnalignedCheckpointsUnderBackpressureSurviveAKilledTaskManagerExactlyOnce) {
  const fs::path out = root_ / "sums";
  constexpr int64_t kRecords = 30000;
  CommandResult run = Sluice(absl::StrCat(
      "run", Jm(), "-d -p 2 -D execution.checkpointing.unaligned.enabled=true -c CheckpointedSums ",
      kTestJobs, " -- --records ", kRecords, " --rate 20000 --slow-us 200 --out ", out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string job = JobIdIn(run.output);
  ASSERT_FALSE(job.empty()) << run.output;
  int64_t in_flight = 0;  // bytes of queued records the latest checkpoint keeps
  ASSERT_TRUE(WaitFor(
      [&] {
        auto latest = engine::FindLatestCheckpoint((root_ / "chk").string(), job);
        if (!latest.ok()) return false;
        auto state = engine::LoadCheckpoint(latest->directory);
        if (!state.ok()) return false;
        in_flight = 0;
        for (const auto& [vertex, snapshots] : state->vertices) {
          for (const auto& snapshot : snapshots) {
            for (const auto& channel : snapshot.input_channels())
              in_flight += channel.data().size();
          }
        }
        return CompletedCheckpoints(job) >= 2 && in_flight > 0;
      },
      absl::Seconds(30)))
      << "no checkpoint kept in-flight records";
  ASSERT_TRUE(KillATaskManagerAndAwaitTheEnd(job));
  ExpectEveryRecordOnce({out}, kRecords);
}

TEST_F(CheckpointE2eTest, EventTimeWindowsSurviveAKilledTaskManagerWithEveryWindowOnce) {
  const fs::path out = root_ / "windows";
  constexpr int64_t kRecords = 30000;
  CommandResult run =
      Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c WindowedSums ", kTestJobs, " -- --records ",
                          kRecords, " --rate 2500 --out ", out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string job = JobIdIn(run.output);
  ASSERT_FALSE(job.empty()) << run.output;
  ASSERT_TRUE(WaitFor([&] { return CompletedCheckpoints(job) >= 2; }, absl::Seconds(20)));

  // Event time shows in the TaskManagers' metrics: watermarks within the
  // records' times, and the late-record counter (0: nothing is late here).
  double watermark = 0;
  bool late_counted = false;
  for (int port : TaskManagerMetricsPorts()) {
    std::istringstream lines(HttpGet(port, "/metrics").value_or(""));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("sluice_task_current_input_watermark_seconds{", 0) == 0) {
        watermark = std::max(watermark, std::stod(line.substr(line.rfind(' ') + 1)));
      }
      if (line.rfind("sluice_task_late_records_dropped_total{", 0) == 0) {
        late_counted = true;
        EXPECT_EQ(std::stod(line.substr(line.rfind(' ') + 1)), 0) << line;
      }
    }
  }
  EXPECT_GE(watermark, 1.7e9);
  EXPECT_LE(watermark, 1.7e9 + kRecords * 10 / 1000.0);
  EXPECT_TRUE(late_counted);

  ASSERT_TRUE(KillATaskManagerAndAwaitTheEnd(job));

  // Every (key, window) exactly once, with the count and sum computed here.
  std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>> expected;
  for (int64_t x = 0; x < kRecords; ++x) {
    const int64_t time = 1'700'000'000'000 + 10 * x;
    auto& [count, sum] = expected[{x % 8, time - time % 1000}];
    ++count;
    sum += x;
  }
  std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>> written;
  int64_t lines_read = 0;
  for (const auto& entry : fs::directory_iterator(out)) {
    ASSERT_EQ(entry.path().filename().string().rfind("part-", 0), 0u) << entry.path();
    std::ifstream in(entry.path());
    int64_t key, start, count, sum;
    while (in >> key >> start >> count >> sum) {
      ++lines_read;
      EXPECT_TRUE(written.emplace(std::make_pair(key, start), std::make_pair(count, sum)).second)
          << "window " << key << " " << start << " written twice";
    }
  }
  EXPECT_EQ(lines_read, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(written, expected);
  EXPECT_THAT(Sluice(absl::StrCat("list -a", Jm())).output,
              ::testing::ContainsRegex("restarts=[1-9]"));
}

// The lines of every committed part file in `dir`.
std::vector<std::string> PartFileLines(const fs::path& dir) {
  std::vector<std::string> lines;
  for (const auto& entry : fs::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().filename().string().rfind("part-", 0), 0u) << entry.path();
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST_F(CheckpointE2eTest, AnIntervalJoinAndBroadcastStateSurviveAKilledTaskManagerExactlyOnce) {
  const fs::path out = root_ / "joined";
  constexpr int64_t kRecords = 24000;
  CommandResult run =
      Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c JoinedWithRules ", kTestJobs, " -- --records ",
                          kRecords, " --rate 2000 --out ", out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string job = JobIdIn(run.output);
  ASSERT_FALSE(job.empty()) << run.output;
  ASSERT_TRUE(WaitFor([&] { return CompletedCheckpoints(job) >= 2; }, absl::Seconds(20)));
  ASSERT_TRUE(KillATaskManagerAndAwaitTheEnd(job));

  // Pair (x, y): equal keys, and 20 y + 5 - 10 x within [-15, 15] ms.
  std::vector<std::string> pairs;
  std::map<int64_t, int64_t> sums;
  for (int64_t x = 0; x < kRecords; ++x) {
    for (int64_t y = std::max<int64_t>(0, x / 2 - 2); y <= x / 2 + 2 && y < kRecords / 2; ++y) {
      const int64_t gap = 20 * y + 5 - 10 * x;
      if (x % 8 != y % 8 || gap < -15 || gap > 15) continue;
      pairs.push_back(absl::StrCat(x, " ", y));
      sums[x % 8] += x + y;
    }
  }
  std::sort(pairs.begin(), pairs.end());
  ASSERT_GT(pairs.size(), 1000u);
  EXPECT_EQ(PartFileLines(out / "pairs"), pairs) << "each pair exactly once";
  std::vector<std::string> summary;
  for (const auto& [key, sum] : sums) {
    int64_t rules = 0;
    for (int64_t r = 0; r < kRecords / 100; ++r) rules += r % 8 == key;
    summary.push_back(absl::StrCat(key, " ", sum, " ", rules));
  }
  std::sort(summary.begin(), summary.end());
  EXPECT_EQ(PartFileLines(out / "summary"), summary)
      << "keyed sums and broadcast rule counts, restored from the checkpoint";
  EXPECT_THAT(Sluice(absl::StrCat("list -a", Jm())).output,
              ::testing::ContainsRegex("restarts=[1-9]"));
}

TEST_F(CheckpointE2eTest, ATaskThatThrowsOnceRestartsTheJobWhichStillCountsEveryRecordOnce) {
  const fs::path out = root_ / "sums";
  constexpr int64_t kRecords = 20000;
  CommandResult run = Sluice(absl::StrCat(
      "run", Jm(), "-p 2 -c CheckpointedSums ", kTestJobs, " -- --records ", kRecords,
      " --rate 2500 --out ", out.string(), " --fail-once ", (root_ / "failed-once").string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;  // attached: returns once the job ended
  EXPECT_THAT(run.output, HasSubstr("FINISHED"));
  EXPECT_TRUE(fs::exists(root_ / "failed-once")) << "the map did throw";
  ExpectEveryRecordOnce({out}, kRecords);
  EXPECT_THAT(Sluice(absl::StrCat("list -a", Jm())).output, HasSubstr("restarts=1"));
}

TEST_F(CheckpointE2eTest, ATaskFailureRestartsOnlyItsRegionAndEveryNumberIsWrittenOnce) {
  const fs::path out = root_ / "numbers";
  constexpr int64_t kNumbers = 20000;
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-c RegionNumbers ", kTestJobs,
                                          " -- --records ", kNumbers, " --out ", out.string(),
                                          " --fail-once ", (root_ / "failed-once").string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(fs::exists(root_ / "failed-once")) << "the map did throw";
  std::map<int64_t, int> seen;
  for (const auto& entry : fs::directory_iterator(out)) {
    if (entry.path().filename().string().front() == '.') continue;
    std::ifstream in(entry.path());
    for (int64_t x; in >> x;) ++seen[x];
  }
  int64_t once = 0;
  for (const auto& [x, count] : seen) once += count == 1 && x >= 0 && x < kNumbers;
  EXPECT_EQ(once, kNumbers) << "every number exactly once";
  EXPECT_EQ(seen.size(), static_cast<size_t>(kNumbers));
  EXPECT_THAT(DaemonLog("jobmanager"), ::testing::ContainsRegex("region [01] restarts"));
  EXPECT_THAT(Sluice(absl::StrCat("list -a", Jm())).output, HasSubstr("restarts=1"));
}

TEST_F(CheckpointE2eTest, ACancelledJobResumesFromItsCheckpointAtAnotherParallelism) {
  constexpr int64_t kRecords = 30000;
  CommandResult run =
      Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c CheckpointedSums ", kTestJobs, " -- --records ",
                          kRecords, " --rate 2500 --out ", (root_ / "first").string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})"))) << run.output;
  const std::string job = id[1].str();
  ASSERT_TRUE(
      WaitFor([&] { return engine::FindLatestCheckpoint((root_ / "chk").string(), job).ok(); },
              absl::Seconds(20)));
  ASSERT_EQ(Sluice(absl::StrCat("cancel", Jm(), job)).exit_code, 0);
  auto latest = engine::FindLatestCheckpoint((root_ / "chk").string(), job);
  ASSERT_TRUE(latest.ok()) << latest.status();

  // The sums go on at parallelism 3 (the generators stay at 2): every record
  // after the checkpoint once, on top of the state it holds. What the first
  // job had prepared for that checkpoint is committed by the resumed one.
  const fs::path out = root_ / "resumed";
  CommandResult resumed = Sluice(
      absl::StrCat("run", Jm(), "-p 3 -s ", latest->directory, "/_metadata -c CheckpointedSums ",
                   kTestJobs, " -- --records ", kRecords, " --rate 0 --out ", out.string()));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  ExpectEveryRecordOnce({root_ / "first", out}, kRecords);

  // State of another job is refused, naming the operator, unless dropping it is allowed.
  CommandResult other = Sluice(
      absl::StrCat("run", Jm(), "-d -p 2 -s ", latest->directory, " -c Unbounded ", kTestJobs));
  EXPECT_NE(other.exit_code, 0);
  EXPECT_THAT(other.output, AllOf(HasSubstr("belongs to no operator of the job"),
                                  HasSubstr("--allow-non-restored-state")));
  CommandResult allowed = Sluice(
      absl::StrCat("run", Jm(), "-d -p 2 -n -s ", latest->directory, " -c Unbounded ", kTestJobs));
  EXPECT_EQ(allowed.exit_code, 0) << allowed.output;
  EXPECT_THAT(Sluice(absl::StrCat("run", Jm(), "-d -s ", (root_ / "nothing").string(),
                                  " -c Unbounded ", kTestJobs))
                  .output,
              HasSubstr("cannot resume from"));
}

// --- faults ---------------------------------------------------------------------

// A checkpointed job of CheckpointedSums, and what the fault tests watch of it.
class FaultE2eTest : public CheckpointE2eTest {
 protected:
  static constexpr int64_t kRecords = 30000;

  // Submits it detached; its job id.
  std::string RunSums(const fs::path& out) {
    CommandResult run =
        Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c CheckpointedSums ", kTestJobs,
                            " -- --records ", kRecords, " --rate 2500 --out ", out.string()));
    EXPECT_EQ(run.exit_code, 0) << run.output;
    std::smatch id;
    EXPECT_TRUE(std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})")))
        << run.output;
    return id.size() > 1 ? id[1].str() : "";
  }
  std::string Status(const std::string& job) {
    return HttpGet(rest_port_, "/jobs/" + job).value_or("");
  }
  // Checkpoints completed and a file committed: the job is well under way.
  bool UnderWay(const std::string& job, const fs::path& out) {
    return WaitFor(
        [&] {
          std::smatch m;
          const std::string stats =
              HttpGet(rest_port_, "/jobs/" + job + "/checkpoints").value_or("");
          if (!std::regex_search(stats, m, std::regex(R"("completed":([0-9]+),)")) ||
              std::stoi(m[1]) < 2) {
            return false;
          }
          std::error_code error;
          for (const auto& entry : fs::directory_iterator(out, error)) {
            if (entry.path().filename().string().rfind("part-", 0) == 0) return true;
          }
          return false;
        },
        absl::Seconds(20));
  }
  bool Finished(const std::string& job) {
    return WaitFor([&] { return Status(job).find(R"("state":"FINISHED")") != std::string::npos; },
                   absl::Seconds(90));
  }
  int Restarts() {
    std::smatch m;
    const std::string listed = Sluice(absl::StrCat("list -a", Jm())).output;
    return std::regex_search(listed, m, std::regex("restarts=([0-9]+)")) ? std::stoi(m[1]) : 0;
  }
  bool AllSlotsFree(int slots) {
    return WaitFor(
        [&] { return RmMetric(R"(sluice_resourcemanager_slots{state="free"})") == slots; },
        absl::Seconds(15));
  }
};

TEST_F(FaultE2eTest, APausedTaskManagerIsFencedWhenItResumesAndGivesItsSlotsBack) {
  const fs::path out = root_ / "sums";
  const std::string job = RunSums(out);
  ASSERT_TRUE(UnderWay(job, out)) << Status(job);
  const int victim = TaskManagerWithTasks();
  ASSERT_GT(victim, 0);
  const int instance = InstanceOf(victim);

  // Paused past heartbeat.timeout (1 s): the job goes on without it.
  ASSERT_EQ(kill(victim, SIGSTOP), 0);
  const bool restarted = WaitFor([&] { return Restarts() >= 1; }, absl::Seconds(15));
  absl::SleepFor(absl::Seconds(2));  // its attempts are stale now
  ASSERT_EQ(kill(victim, SIGCONT), 0);
  ASSERT_TRUE(restarted);
  ASSERT_TRUE(Finished(job)) << Status(job);

  // What the stale attempts wrote after the pause is not committed.
  ExpectEveryRecordOnce({out}, kRecords);
  // They stopped by themselves, and the slots came back.
  EXPECT_TRUE(WaitFor([&] { return TasksOn(instance) == 0; }, absl::Seconds(10)));
  EXPECT_THAT(TaskManagerLog(instance), HasSubstr("has not confirmed it"));
  EXPECT_TRUE(AllSlotsFree(4));
}

TEST_F(FaultE2eTest, TwoTaskManagersKilledInABurstAndTheJobFinishesOnAThird) {
  ASSERT_EQ(Script("taskmanager.sh start").exit_code, 0);
  ASSERT_TRUE(TaskManagersAre(3, absl::Seconds(15)));
  const fs::path out = root_ / "sums";
  const std::string job = RunSums(out);
  ASSERT_TRUE(UnderWay(job, out)) << Status(job);
  // Every TaskManager but one with no tasks (or the last one) goes at once.
  std::vector<int> tms = Pids("taskmanager");
  const int spared = [&] {
    for (size_t i = 0; i < tms.size(); ++i) {
      if (TasksOn(static_cast<int>(i)) == 0) return tms[i];
    }
    return tms.back();
  }();
  for (int pid : tms) {
    if (pid != spared) {
      ASSERT_EQ(kill(pid, SIGKILL), 0);
    }
  }
  ASSERT_TRUE(Finished(job)) << Status(job);
  ExpectEveryRecordOnce({out}, kRecords);
  EXPECT_GE(Restarts(), 1);
}

TEST_F(FaultE2eTest, AResourceManagerKilledAndRestartedLosesNoRecord) {
  const fs::path out = root_ / "sums";
  const std::string job = RunSums(out);
  ASSERT_TRUE(UnderWay(job, out)) << Status(job);
  const std::vector<int> rm = Pids("resourcemanager");
  ASSERT_EQ(rm.size(), 1u);
  ASSERT_EQ(kill(rm[0], SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return !IsRunning(rm[0]); }));
  absl::SleepFor(absl::Seconds(1));
  ASSERT_EQ(Script("resourcemanager.sh start").exit_code, 0);
  ASSERT_TRUE(Finished(job)) << Status(job);
  ExpectEveryRecordOnce({out}, kRecords);
  EXPECT_EQ(Restarts(), 0) << "the tasks do not need the ResourceManager to run";
  EXPECT_TRUE(AllSlotsFree(4));
}

TEST_F(FaultE2eTest, AKilledJobManagersTasksStopAndTheirSlotsAreFreed) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c Unbounded ", kTestJobs));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(WaitFor([&] { return TasksRunning() > 0; }));
  const std::vector<int> jm = Pids("jobmanager");
  ASSERT_EQ(jm.size(), 1u);
  ASSERT_EQ(kill(jm[0], SIGKILL), 0);
  // Nobody confirms the job any more: within heartbeat.timeout (1 s) its
  // tasks stop and its slots are free for other jobs.
  EXPECT_TRUE(WaitFor([&] { return TasksRunning() == 0; }, absl::Seconds(5)));
  EXPECT_TRUE(AllSlotsFree(4));
}

TEST_F(FaultE2eTest, AJobCancelledWhileTheResourceManagerIsDownLeavesNoSlotHeld) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c Unbounded ", kTestJobs));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})"))) << run.output;
  ASSERT_TRUE(WaitFor([&] { return TasksRunning() > 0; }));
  const std::vector<int> rm = Pids("resourcemanager");
  ASSERT_EQ(kill(rm.at(0), SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return !IsRunning(rm[0]); }));
  ASSERT_EQ(Sluice(absl::StrCat("cancel", Jm(), id[1].str())).exit_code, 0);
  ASSERT_EQ(Script("resourcemanager.sh start").exit_code, 0);
  ASSERT_TRUE(TaskManagersAre(2, absl::Seconds(15)));
  EXPECT_TRUE(AllSlotsFree(4));
}

TEST_F(FaultE2eTest, APausedResourceManagerDeclaresNoHealthyPeerLostWhenItResumes) {
  const fs::path out = root_ / "sums";
  const std::string job = RunSums(out);
  ASSERT_TRUE(UnderWay(job, out)) << Status(job);
  const std::vector<int> rm = Pids("resourcemanager");
  ASSERT_EQ(kill(rm.at(0), SIGSTOP), 0);
  absl::SleepFor(absl::Seconds(3));  // three heartbeat timeouts
  ASSERT_EQ(kill(rm[0], SIGCONT), 0);
  ASSERT_TRUE(Finished(job)) << Status(job);
  ExpectEveryRecordOnce({out}, kRecords);
  EXPECT_EQ(Restarts(), 0) << DaemonLog("jobmanager") << DaemonLog("resourcemanager")
                           << TaskManagerLog(0) << TaskManagerLog(1);
  EXPECT_EQ(
      RmMetric(R"(sluice_resourcemanager_taskmanagers_lost_total{reason="heartbeat_timeout"})")
          .value_or(0),
      0);
  EXPECT_TRUE(TaskManagersAre(2, absl::Seconds(5)));
}

// --- savepoints -------------------------------------------------------------

TEST_F(FaultE2eTest, SavepointCancelAndResumeAtParallelismTwoThreeOneKeepsTheStateExact) {
  const fs::path sp = root_ / "savepoints";
  const fs::path out1 = root_ / "p2", out2 = root_ / "p3", out3 = root_ / "p1";
  const std::string first = RunSums(out1);
  ASSERT_TRUE(UnderWay(first, out1)) << Status(first);
  CommandResult saved = Sluice(absl::StrCat("savepoint", Jm(), first, " ", sp.string()));
  ASSERT_EQ(saved.exit_code, 0) << saved.output;
  std::smatch path;
  ASSERT_TRUE(std::regex_search(saved.output, path, std::regex("Path: (\\S+)"))) << saved.output;
  const std::string savepoint1 = path[1].str();
  EXPECT_TRUE(fs::exists(savepoint1 + "/_metadata"));
  EXPECT_THAT(savepoint1, ::testing::ContainsRegex("/savepoint-" + first.substr(0, 6) + "-"));
  ASSERT_EQ(Sluice(absl::StrCat("cancel", Jm(), first)).exit_code, 0);

  // At parallelism 3, stopped with a savepoint (Flink's stop: no record after it).
  CommandResult second = Sluice(absl::StrCat("run", Jm(), "-d -p 3 -s ", savepoint1,
                                             " -c CheckpointedSums ", kTestJobs, " -- --records ",
                                             kRecords, " --rate 2500 --out ", out2.string()));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(second.output, id, std::regex("JobID ([0-9a-f]{32})")));
  const std::string job2 = id[1].str();
  ASSERT_TRUE(UnderWay(job2, out2)) << Status(job2);
  CommandResult stopped =
      Sluice(absl::StrCat("stop", Jm(), "--savepoint-path ", sp.string(), " ", job2));
  ASSERT_EQ(stopped.exit_code, 0) << stopped.output;
  ASSERT_TRUE(std::regex_search(stopped.output, path, std::regex("Path: (\\S+)")));
  const std::string savepoint2 = path[1].str();
  EXPECT_TRUE(WaitFor([&] {
    return Status(job2).find(R"("state":"FINISHED")") != std::string::npos;
  })) << "a stopped job ends FINISHED, as in Flink";

  // At parallelism 1, to the end.
  CommandResult third =
      Sluice(absl::StrCat("run", Jm(), "-p 1 -s ", savepoint2, " -c CheckpointedSums ", kTestJobs,
                          " -- --records ", kRecords, " --rate 0 --out ", out3.string()));
  ASSERT_EQ(third.exit_code, 0) << third.output;

  // The state went through every step exactly: each line's sum is what an
  // independent computation says, and no record is missing. A savepoint
  // followed by cancel is not atomic (checkpoints after it commit what the
  // resumed job writes again), so repeats may only pair the first job's
  // output with the second's; stop-with-savepoint repeats nothing.
  const RecordLines all = CountRecordLines({out1, out2, out3}, kRecords);
  EXPECT_EQ(all.lost, 0) << all.examples;
  EXPECT_EQ(all.wrong_sums, 0);
  EXPECT_EQ(CountRecordLines({out1}, kRecords).duplicated, 0);
  const RecordLines resumed = CountRecordLines({out2, out3}, kRecords);
  EXPECT_EQ(resumed.duplicated, 0) << resumed.examples;
}

TEST_F(FaultE2eTest, TheRestApiTriggersSavepointsAndStopsWithDrainLikeFlinks) {
  const fs::path out = root_ / "sums";
  const std::string job = RunSums(out);
  ASSERT_TRUE(UnderWay(job, out)) << Status(job);
  const fs::path sp = root_ / "savepoints";
  auto [code, body] =
      HttpCall(rest_port_, "POST", "/jobs/" + job + "/savepoints",
               R"({"target-directory": ")" + sp.string() + R"(", "cancel-job": false})");
  ASSERT_EQ(code, 202) << body;
  std::smatch request;
  ASSERT_TRUE(std::regex_search(body, request, std::regex(R"re("request-id":"([0-9a-f]+)")re")))
      << body;
  const std::string status_path = "/jobs/" + job + "/savepoints/" + request[1].str();
  ASSERT_TRUE(WaitFor([&] {
    return HttpGet(rest_port_, status_path).value_or("").find("location") != std::string::npos;
  })) << HttpGet(rest_port_, status_path).value_or("");
  EXPECT_THAT(HttpGet(rest_port_, status_path).value_or(""),
              AllOf(HasSubstr(R"("status":{"id":"COMPLETED"})"), HasSubstr(sp.string())));

  // Bad requests name what is wrong; an unknown trigger is 404.
  EXPECT_EQ(HttpCall(rest_port_, "POST", "/jobs/" + job + "/stop", "{not json").first, 400);
  auto [bad, why] = HttpCall(rest_port_, "POST", "/jobs/" + job + "/stop", R"({"drain": "yes"})");
  EXPECT_EQ(bad, 400);
  EXPECT_THAT(why, HasSubstr("'drain' must be true or false"));
  EXPECT_EQ(HttpCall(rest_port_, "GET", "/jobs/" + job + "/savepoints/nope").first, 404);

  // Stop with drain: the sources end after the savepoint and the job
  // finishes, its output committed.
  auto [stop_code, stop_body] =
      HttpCall(rest_port_, "POST", "/jobs/" + job + "/stop",
               R"({"targetDirectory": ")" + sp.string() + R"(", "drain": true})");
  ASSERT_EQ(stop_code, 202) << stop_body;
  ASSERT_TRUE(
      std::regex_search(stop_body, request, std::regex(R"re("request-id":"([0-9a-f]+)")re")));
  ASSERT_TRUE(Finished(job)) << Status(job);
  EXPECT_THAT(HttpGet(rest_port_, "/jobs/" + job + "/savepoints/" + request[1].str()).value_or(""),
              HasSubstr("location"));
  const RecordLines drained = CountRecordLines({out}, kRecords);
  EXPECT_EQ(drained.duplicated, 0) << drained.examples;
  EXPECT_EQ(drained.wrong_sums, 0);
  EXPECT_GT(drained.lines, 0);
  EXPECT_LT(drained.lines, kRecords) << "stopped before the sources were done";
}

// The checkpoint directory on a small tmpfs that fills up: checkpoints fail,
// the job goes on, the last completed checkpoint stays usable, and a
// TaskManager killed meanwhile restarts the job from it, every record once.
TEST_F(FaultE2eTest, ACheckpointDiskThatFillsUpFailsCheckpointsButNotTheJob) {
  const fs::path small = root_ / "small";
  fs::create_directories(small);
  ASSERT_EQ(mount("tmpfs", small.c_str(), "tmpfs", 0, "size=2m"), 0)
      << "this test mounts a tmpfs (as root): " << std::strerror(errno);
  absl::Cleanup unmount = [&] { umount2(small.c_str(), MNT_DETACH); };
  const fs::path out = root_ / "sums";
  CommandResult run = Sluice(absl::StrCat(
      "run", Jm(), "-d -p 2 -D state.checkpoints.dir=", small.string(),
      " -D execution.checkpointing.tolerable-failed-checkpoints=100000 -c CheckpointedSums ",
      kTestJobs, " -- --records ", kRecords, " --rate 2500 --out ", out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(run.output, id, std::regex("JobID ([0-9a-f]{32})"))) << run.output;
  const std::string job = id[1].str();
  ASSERT_TRUE(UnderWay(job, out)) << Status(job);

  // Fill it up.
  {
    std::ofstream filler(small / "filler", std::ios::binary);
    const std::string block(64 << 10, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size())) &&
           filler.flush()) {
    }
  }
  auto failed = [&] {
    std::smatch m;
    const std::string stats = HttpGet(rest_port_, "/jobs/" + job + "/checkpoints").value_or("");
    return std::regex_search(stats, m, std::regex(R"("failed":([0-9]+))")) ? std::stoi(m[1]) : 0;
  };
  const int failed_before = failed();
  ASSERT_TRUE(WaitFor([&] { return failed() >= failed_before + 3; }, absl::Seconds(20)))
      << HttpGet(rest_port_, "/jobs/" + job + "/checkpoints").value_or("");
  EXPECT_THAT(Status(job), HasSubstr(R"("state":"RUNNING")")) << "the job goes on";
  auto latest = engine::FindLatestCheckpoint(small.string(), job);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_TRUE(engine::LoadCheckpoint(latest->directory).ok()) << "the last one is whole";

  // A TaskManager dies while the disk is full: the job restarts from that one.
  const int victim = TaskManagerWithTasks();
  ASSERT_GT(victim, 0);
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  ASSERT_TRUE(Finished(job)) << Status(job);
  ExpectEveryRecordOnce({out}, kRecords);
  EXPECT_GE(Restarts(), 1);
}

}  // namespace
}  // namespace sluice::e2e
