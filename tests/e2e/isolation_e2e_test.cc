// taskmanager.isolation: process on a real cluster: a job whose code
// segfaults, aborts, calls exit(), hoards memory or ignores cancellation
// fails (or is cancelled) alone, named with its cause, while another job on
// the same TaskManagers runs on and writes every record exactly once.
#include <dirent.h>

#include "tests/e2e/cluster_fixture.h"

namespace sluice::e2e {
namespace {

class IsolationE2eTest : public CheckpointE2eTest {
 protected:
  std::string ExtraConfig() override {
    return CheckpointE2eTest::ExtraConfig() +
           "taskmanager.isolation: process\ntask.cancellation.timeout: 2 s\n"
           "restart-strategy.type: none\n";
  }

  // The job processes the TaskManagers run now (their children named so).
  int JobProcesses() {
    const std::vector<int> tms = Pids("taskmanager");
    int found = 0;
    for (const auto& entry : fs::directory_iterator("/proc")) {
      const std::string stat = ReadFile(entry.path() / "stat");
      const size_t open = stat.find('('), close = stat.rfind(')');
      if (open == std::string::npos || close == std::string::npos || close + 4 >= stat.size()) {
        continue;
      }
      if (stat.substr(open + 1, close - open - 1) != "sluice-job-proc") continue;
      std::istringstream rest(stat.substr(close + 2));
      std::string state;
      int parent = 0;
      rest >> state >> parent;
      found += state != "Z" && std::find(tms.begin(), tms.end(), parent) != tms.end();
    }
    return found;
  }
  std::string ListJobs() { return Sluice(absl::StrCat("list -a", Jm())).output; }
  std::optional<double> FreeSlots() {
    return RmMetric(R"(sluice_resourcemanager_slots{state="free"})");
  }
};

TEST_F(IsolationE2eTest, ACrashingJobFailsAloneNamedWithItsSignalOrExitAndTask) {
  constexpr int64_t kRecords = 90000;  // 2 x 3000 a second: ~15 s, while the others crash
  const fs::path out = root_ / "sums";
  CommandResult bystander =
      Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c CheckpointedSums ", kTestJobs, " -- --records ",
                          kRecords, " --out ", out.string()));
  ASSERT_EQ(bystander.exit_code, 0) << bystander.output;
  const std::string bystander_id = JobIdIn(bystander.output);
  ASSERT_TRUE(WaitFor([&] { return ListJobs().find("RUNNING") != std::string::npos; }));
  const std::vector<int> tms = Pids("taskmanager");
  const struct {
    const char* how;
    const char* cause;
  } kCases[] = {
      {"segfault", "signal 11 (Segmentation fault) in task 'Generator -> Misbehave -> Discard ("},
      {"abort", "signal 6 (Aborted) in task 'Generator -> Misbehave -> Discard ("},
      {"exit", "exit(0) called in task 'Generator -> Misbehave -> Discard ("},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.how);
    CommandResult run = Sluice(
        absl::StrCat("run", Jm(), "-p 2 -c MisbehavesInATask ", kTestJobs, " -- --how ", c.how));
    EXPECT_NE(run.exit_code, 0) << run.output;
    EXPECT_THAT(run.output, HasSubstr("FAILED"));
    EXPECT_THAT(run.output, HasSubstr(c.cause));
    EXPECT_THAT(run.output, HasSubstr("the job's process (pid "));
    for (int pid : tms) EXPECT_TRUE(IsRunning(pid)) << "TaskManager " << pid << " died";
    EXPECT_THAT(ListJobs(), HasSubstr("RUNNING")) << "the other job must run on";
  }
  EXPECT_EQ(Sluice(absl::StrCat("list -a", Jm())).output.find("its session stream broke"),
            std::string::npos);
  // The other job ends by itself, its output intact record by record.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto job = HttpGet(rest_port_, "/jobs/" + bystander_id);
        return job && job->find(R"("state":"FINISHED")") != std::string::npos;
      },
      absl::Seconds(120)))
      << ListJobs();
  ExpectEveryRecordOnce({out}, kRecords);
  EXPECT_TRUE(WaitFor([&] { return FreeSlots() == 4 && JobProcesses() == 0; }));
}

TEST_F(IsolationE2eTest, ASegfaultRestartsTheJobFromItsCheckpointWithEveryRecordOnce) {
  constexpr int64_t kRecords = 20000;
  const fs::path out = root_ / "sums";
  CommandResult run = Sluice(absl::StrCat(
      "run", Jm(),
      "-D restart-strategy.type=fixed-delay -D restart-strategy.fixed-delay.delay=100ms",
      " -p 2 -c CheckpointedSums ", kTestJobs, " -- --records ", kRecords, " --rate 2500 --out ",
      out.string(), " --crash-once ", (root_ / "crashed-once").string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("FINISHED"));
  EXPECT_TRUE(fs::exists(root_ / "crashed-once")) << "the map did crash";
  ExpectEveryRecordOnce({out}, kRecords);
  EXPECT_THAT(ListJobs(), HasSubstr("restarts=1"));
  for (int pid : Pids("taskmanager")) EXPECT_TRUE(IsRunning(pid));
}

TEST_F(IsolationE2eTest, ATaskIgnoringCancellationIsKilledAfterTheTimeoutAndFreesItsSlots) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c MisbehavesInATask ", kTestJobs,
                                          " -- --how hang --at 1000"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string id = JobIdIn(run.output);
  ASSERT_TRUE(WaitFor([&] { return ListJobs().find("RUNNING") != std::string::npos; }));
  ASSERT_TRUE(WaitFor([&] { return JobProcesses() == 2; })) << "one per TaskManager";
  std::this_thread::sleep_for(std::chrono::seconds(1));  // record 1000 reached: it spins
  CommandResult cancel = Sluice(absl::StrCat("cancel", Jm(), id));
  EXPECT_EQ(cancel.exit_code, 0) << cancel.output;
  EXPECT_THAT(cancel.output, HasSubstr("CANCELED"));
  EXPECT_TRUE(WaitFor([&] { return JobProcesses() == 0; }, absl::Seconds(20)))
      << "the spinning task's process must be gone";
  EXPECT_TRUE(WaitFor([&] { return FreeSlots() == 4; }));
  std::string logs = TaskManagerLog(0) + TaskManagerLog(1);
  EXPECT_THAT(logs, HasSubstr("did not stop within 2s (task.cancellation.timeout"));
  for (int pid : Pids("taskmanager")) EXPECT_TRUE(IsRunning(pid));
}

TEST_F(IsolationE2eTest, AJobAllocatingBeyondItsSlotsMemoryFailsWithoutHarmingTheTaskManager) {
  CommandResult run = Sluice(
      absl::StrCat("run", Jm(), "-p 2 -c MisbehavesInATask ", kTestJobs, " -- --how allocate"));
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("operator 'Misbehave'"));
  EXPECT_THAT(run.output, HasSubstr("bad_alloc"));
  for (int pid : Pids("taskmanager")) {
    EXPECT_TRUE(IsRunning(pid));
    EXPECT_LT(ReadProcessUsage(pid).resident_memory_bytes, int64_t{1} << 30)
        << "TaskManager " << pid;
  }
  EXPECT_TRUE(WaitFor([&] { return FreeSlots() == 4 && JobProcesses() == 0; }));
  // The cluster still runs jobs.
  CommandResult again = Sluice(absl::StrCat("run", Jm(), "-p 4 -c Failing ", kTestJobs));
  EXPECT_THAT(again.output, HasSubstr("record 5000 is cursed"));
}

// taskmanager.isolation: shared, the mode without job processes: jobs still
// run correctly across two TaskManagers, as threads of them.
class SharedIsolationE2eTest : public JobE2eTest {
 protected:
  std::string ExtraConfig() override { return "taskmanager.isolation: shared\n"; }
};

TEST_F(SharedIsolationE2eTest, AJobRunsAsThreadsOfTheTaskManagersAndFindsEveryPlantedFraud) {
  CommandResult run = Sluice(absl::StrCat("run", Jm(), "-p 4 -c FraudDetection ", kExamples,
                                          " -- --transactions 100000 --frauds 25 --output ",
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
  const std::string logs = TaskManagerLog(0) + TaskManagerLog(1);
  EXPECT_EQ(logs.find("Started job process"), std::string::npos) << "shared mode starts none";
}

}  // namespace
}  // namespace sluice::e2e
