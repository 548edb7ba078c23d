// A few minutes of trouble at once, with real processes on loopback: a
// checkpointed job runs while TaskManagers are killed (kill -9) and paused
// (SIGSTOP past heartbeat.timeout, then SIGCONT) and bad clients connect in a
// loop — idle and slowloris HTTP connections, oversized bodies, junk on a data
// port, stalled job uploads. Afterwards the masters' memory, threads and file
// descriptors are where they were, and the job's exactly-once output is
// exact, record by record.
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>

#include "tests/e2e/cluster_fixture.h"

namespace sluice::e2e {
namespace {

struct Footprint {
  int64_t rss_bytes = 0;
  int threads = 0;
  int fds = 0;
};

Footprint FootprintOf(int pid) {
  Footprint f;
  f.rss_bytes = ReadProcessUsage(pid).resident_memory_bytes;
  std::istringstream status(ReadFile(absl::StrCat("/proc/", pid, "/status")));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Threads:", 0) == 0) f.threads = std::stoi(line.substr(8));
  }
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(absl::StrCat("/proc/", pid, "/fd"), error)) {
    (void)entry;
    ++f.fds;
  }
  return f;
}

int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void SendText(int fd, const std::string& text) {
  if (fd >= 0) (void)send(fd, text.data(), text.size(), MSG_NOSIGNAL);
}

class SoakE2eTest : public CheckpointE2eTest {
 protected:
  std::string ExtraConfig() override {
    return CheckpointE2eTest::ExtraConfig() +
           "restart-strategy.type: fixed-delay\nrestart-strategy.fixed-delay.attempts: 100\n"
           "restart-strategy.fixed-delay.delay: 200 ms\n";
  }

  // One round of bad clients, bounded: 40 idle and 8 slowloris connections
  // to REST, an oversized body, junk on a TaskManager's data port, an upload
  // that stalls. Every socket is closed at the end of the round.
  void BadClientsRound(int data_port) {
    std::vector<int> fds;
    for (int i = 0; i < 40; ++i) fds.push_back(ConnectTo(rest_port_));
    for (int i = 0; i < 8; ++i) {
      fds.push_back(ConnectTo(rest_port_));
      SendText(fds.back(), "GET /overview HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    }
    fds.push_back(ConnectTo(rest_port_));
    SendText(fds.back(),
             "POST /jobs/x/savepoints HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n");
    if (data_port > 0) {
      fds.push_back(ConnectTo(data_port));
      SendText(fds.back(), std::string("\x03\0\0\0\x05\0\0\0\xff\xff\xff\xff", 12) + "junk");
    }
    fds.push_back(ConnectTo(jm_port_));  // a gRPC port that gets no HTTP/2 preface
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
  }
  int SomeDataPort() {
    auto tms = json::parse(HttpGet(rest_port_, "/taskmanagers").value_or("{}"), nullptr, false);
    if (!tms.is_object() || !tms.contains("taskmanagers") || tms["taskmanagers"].empty()) return 0;
    return tms["taskmanagers"][0].value("dataPort", 0);
  }
  using json = nlohmann::json;
};

TEST_F(SoakE2eTest, FaultsAndBadClientsForMinutesLeaveTheMastersFlatAndTheOutputExact) {
  ASSERT_EQ(Script("taskmanager.sh start").exit_code, 0);  // a third: room for restarts
  ASSERT_TRUE(TaskManagersAre(3, absl::Seconds(15)));
  constexpr int64_t kRecords = 300000;  // 2 x 1250 a second: about two minutes
  const fs::path out = root_ / "sums";
  CommandResult run =
      Sluice(absl::StrCat("run", Jm(), "-d -p 2 -c CheckpointedSums ", kTestJobs, " -- --records ",
                          kRecords, " --rate 2500 --out ", out.string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string job = JobIdIn(run.output);
  ASSERT_TRUE(WaitFor([&] { return CompletedCheckpoints(job) >= 2; }, absl::Seconds(30)));
  const int rm = Pids("resourcemanager").front();
  const int jm = Pids("jobmanager").front();
  const Footprint rm_before = FootprintOf(rm), jm_before = FootprintOf(jm);

  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread bad_clients([&] {
    while (!stop) {
      BadClientsRound(SomeDataPort());
      ++rounds;
    }
  });
  // Faults while the job runs: every ~15 s one TaskManager is killed and
  // replaced, or paused past heartbeat.timeout and resumed.
  const absl::Time end = absl::Now() + absl::Seconds(100);
  for (int fault = 0; absl::Now() < end; ++fault) {
    std::this_thread::sleep_for(std::chrono::seconds(12));
    std::vector<int> tms = Pids("taskmanager");
    std::vector<int> alive;
    for (int pid : tms) {
      if (IsRunning(pid)) alive.push_back(pid);
    }
    if (alive.empty()) break;
    const int victim = alive[static_cast<size_t>(fault) % alive.size()];
    if (fault % 2 == 0) {
      kill(victim, SIGKILL);
      EXPECT_EQ(Script("taskmanager.sh start").exit_code, 0);
    } else {
      kill(victim, SIGSTOP);
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // > heartbeat.timeout
      kill(victim, SIGCONT);
    }
  }
  stop = true;
  bad_clients.join();
  EXPECT_GT(rounds.load(), 20) << "the bad clients ran";
  ASSERT_TRUE(WaitFor(
      [&] {
        return HttpGet(rest_port_, "/jobs/" + job).value_or("").find(R"("state":"FINISHED")") !=
               std::string::npos;
      },
      absl::Seconds(180)))
      << Sluice(absl::StrCat("list -a", Jm())).output;
  ExpectEveryRecordOnce({out}, kRecords);

  // The masters served throughout and are back where they were (allowing
  // for connections being closed and allocator slack).
  std::this_thread::sleep_for(std::chrono::seconds(12));  // > the REST idle timeout
  for (const auto& [name, pid, before] :
       {std::tuple{"ResourceManager", rm, rm_before}, std::tuple{"JobManager", jm, jm_before}}) {
    ASSERT_TRUE(IsRunning(pid)) << name;
    const Footprint after = FootprintOf(pid);
    EXPECT_LE(after.threads, before.threads + 8) << name << " threads";
    EXPECT_LE(after.fds, before.fds + 16) << name << " file descriptors";
    EXPECT_LE(after.rss_bytes, before.rss_bytes + (96 << 20)) << name << " memory";
  }
  EXPECT_TRUE(HttpGet(rest_port_, "/overview").has_value());
}

}  // namespace
}  // namespace sluice::e2e
