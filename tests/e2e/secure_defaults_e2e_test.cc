// Secure defaults on a real cluster: with only the required keys every
// daemon listens on loopback alone (and still runs a job across two
// TaskManagers); a daemon told to listen beyond loopback refuses to start
// and says why, unless security.allow-insecure-remote is set; REST over
// HTTPS with certificates from bin/sluice-certs.sh.
#include <arpa/inet.h>

#include <set>

#include "tests/e2e/cluster_fixture.h"

namespace sluice::e2e {
namespace {

// The addresses `pid` listens on, as "a.b.c.d:port" (also for IPv4-mapped
// IPv6 sockets, as gRPC binds them) or "[v6]:port": its
// own sockets (by inode) in LISTEN state in /proc/<pid>/net/tcp{,6}.
std::set<std::string> ListeningAddresses(int pid) {
  std::set<std::string> inodes;
  const fs::path fds = absl::StrCat("/proc/", pid, "/fd");
  std::error_code error;
  for (const auto& fd : fs::directory_iterator(fds, error)) {
    const std::string target = fs::read_symlink(fd.path(), error).string();
    if (absl::StartsWith(target, "socket:[")) inodes.insert(target.substr(8, target.size() - 9));
  }
  std::set<std::string> listening;
  for (const char* table : {"tcp", "tcp6"}) {
    std::istringstream lines(ReadFile(absl::StrCat("/proc/", pid, "/net/", table)));
    std::string line;
    std::getline(lines, line);  // the header
    while (std::getline(lines, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      if (state != "0A" || inodes.count(inode) == 0) continue;  // 0A: LISTEN
      const size_t colon = local.find(':');
      const std::string hex = local.substr(0, colon);
      const int port = std::stoi(local.substr(colon + 1), nullptr, 16);
      char text[INET6_ADDRSTRLEN] = {};
      if (hex.size() == 8) {
        in_addr v4{static_cast<in_addr_t>(std::stoul(hex, nullptr, 16))};  // as the kernel keeps it
        inet_ntop(AF_INET, &v4, text, sizeof(text));
        listening.insert(absl::StrCat(text, ":", port));
      } else {
        in6_addr v6{};
        for (int word = 0; word < 4; ++word) {
          const uint32_t value =
              static_cast<uint32_t>(std::stoul(hex.substr(word * 8, 8), nullptr, 16));
          std::memcpy(&v6.s6_addr[word * 4], &value, 4);
        }
        if (IN6_IS_ADDR_V4MAPPED(&v6)) {  // an IPv6 socket bound to an IPv4 address
          inet_ntop(AF_INET, &v6.s6_addr[12], text, sizeof(text));
          listening.insert(absl::StrCat(text, ":", port));
        } else {
          inet_ntop(AF_INET6, &v6, text, sizeof(text));
          listening.insert(absl::StrCat("[", text, "]:", port));
        }
      }
    }
  }
  return listening;
}

class SecureDefaultsE2eTest : public ClusterE2eTest {
 protected:
  // Only the keys a cluster needs, and ports that do not collide.
  void WriteMinimalConfig(const std::string& extra = "") {
    const int metrics = PickFreePort();
    WriteConfig(absl::StrCat(
        "jobmanager.rpc.address: 127.0.0.1\njobmanager.rpc.port: ", jm_port_,
        "\nresourcemanager.rpc.address: 127.0.0.1\nresourcemanager.rpc.port: ", rm_port_,
        "\nrest.port: ", rest_port_, "\nmetrics.reporter.prom.port: ", metrics, "-", metrics + 30,
        "\nheartbeat.interval: 200 ms\nheartbeat.timeout: 1 s\n", extra));
  }
  CommandResult ResourceManager(const std::string& overrides) {
    return RunCommand(
        absl::StrCat("timeout 3 " SLUICE_BINARY_DIR "/bin/sluice-resourcemanager ", overrides));
  }
};

TEST_F(SecureDefaultsE2eTest, WithOnlyTheRequiredKeysEveryDaemonListensOnLoopbackAlone) {
  WriteMinimalConfig();
  CommandResult started = Script("start-cluster.sh");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  ASSERT_TRUE(TaskManagersAre(2, absl::Seconds(15)));
  for (const char* daemon : {"resourcemanager", "jobmanager", "taskmanager"}) {
    for (int pid : Pids(daemon)) {
      const std::set<std::string> listening = ListeningAddresses(pid);
      EXPECT_GE(listening.size(), 2u) << daemon << ": an RPC port and a metrics or data port";
      for (const std::string& address : listening) {
        EXPECT_TRUE(absl::StartsWith(address, "127.0.0.1:")) << daemon << " listens on " << address;
      }
    }
  }
  // Still a working cluster: TaskManagers advertise loopback and exchange data.
  fs::create_directories(root_ / "in");
  std::ofstream(root_ / "in/words.txt") << "to be or not to be\n";
  CommandResult run = RunCommand(absl::StrCat(
      SLUICE_BINARY_DIR "/bin/sluice run -m 127.0.0.1:", jm_port_, " -p 2 -c WordCount ", kExamples,
      " -- --input ", (root_ / "in").string(), " --output ", (root_ / "out").string()));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::map<std::string, int64_t> counted;
  for (const auto& entry : fs::directory_iterator(root_ / "out")) {
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      const size_t comma = line.rfind(',');
      const std::string word = line.substr(1, comma - 1);
      counted[word] = std::max<int64_t>(counted[word], std::stoll(line.substr(comma + 1)));
    }
  }
  const std::map<std::string, int64_t> expected{{"to", 2}, {"be", 2}, {"or", 1}, {"not", 1}};
  EXPECT_EQ(counted, expected);
}

TEST_F(SecureDefaultsE2eTest, ADaemonToldToListenBeyondLoopbackRefusesUnlessTheUserOptsIn) {
  WriteMinimalConfig();
  CommandResult refused = ResourceManager("-D resourcemanager.bind-host=0.0.0.0");
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("resourcemanager.bind-host is 0.0.0.0"));
  EXPECT_THAT(refused.output, HasSubstr("security.allow-insecure-remote: true"));

  // Opted in, it starts (listening on every address, which is not traffic
  // to anywhere) and warns; `timeout` ends it with SIGTERM.
  CommandResult opted_in = ResourceManager(
      "-D resourcemanager.bind-host=0.0.0.0 -D security.allow-insecure-remote=true");
  EXPECT_EQ(opted_in.exit_code, 124) << "ran until timeout stopped it:\n" << opted_in.output;
  EXPECT_THAT(opted_in.output, HasSubstr("listening beyond loopback without TLS"));
}

TEST_F(SecureDefaultsE2eTest, RestOverHttpsWithTheClusterCaAndRefusedWithAnyOther) {
  const fs::path tls = root_ / "tls", other = root_ / "other";
  for (const auto& [dir, names] :
       {std::pair{tls, "jobmanager,127.0.0.1,localhost"}, std::pair{other, "intruder,127.0.0.1"}}) {
    CommandResult made = RunCommand(
        absl::StrCat("bash " SLUICE_SOURCE_DIR "/bin/sluice-certs.sh ", dir.string(), " ", names));
    ASSERT_EQ(made.exit_code, 0) << made.output;
  }
  WriteMinimalConfig(absl::StrCat(
      "security.ssl.rest.enabled: true\nsecurity.ssl.rest.certificate: ",
      (tls / "jobmanager.pem").string(),
      "\nsecurity.ssl.rest.private-key: ", (tls / "jobmanager-key.pem").string(), "\n"));
  CommandResult started = Script("start-cluster.sh");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  ASSERT_TRUE(TaskManagersAre(2, absl::Seconds(15)));
  const std::string url = absl::StrCat("https://127.0.0.1:", rest_port_, "/overview");
  CommandResult trusted;
  ASSERT_TRUE(WaitFor([&] {
    trusted = RunCommand(
        absl::StrCat("curl -sS --max-time 5 --cacert ", (tls / "ca.pem").string(), " ", url));
    return trusted.output.find("\"taskmanagers\":2") != std::string::npos;
  })) << trusted.output;
  CommandResult foreign = RunCommand(
      absl::StrCat("curl -sS --max-time 5 --cacert ", (other / "ca.pem").string(), " ", url));
  EXPECT_EQ(foreign.exit_code, 60) << "certificate not trusted:\n" << foreign.output;
  CommandResult plain =
      RunCommand(absl::StrCat("curl -sS --max-time 5 http://127.0.0.1:", rest_port_, "/overview"));
  EXPECT_NE(plain.exit_code, 0) << "no plain HTTP on an HTTPS port:\n" << plain.output;
  EXPECT_THAT(DaemonLog("jobmanager"), HasSubstr("REST API and metrics at https://127.0.0.1:"));

  // A key that is not the certificate's stops the JobManager at once, naming both keys.
  CommandResult mismatched =
      RunCommand(absl::StrCat("timeout 10 " SLUICE_BINARY_DIR
                              "/bin/sluice-jobmanager -D rest.port=0 -D jobmanager.rpc.port=0 "
                              "-D security.ssl.rest.private-key=",
                              (other / "intruder-key.pem").string()));
  EXPECT_EQ(mismatched.exit_code, 1) << mismatched.output;
  EXPECT_THAT(mismatched.output, HasSubstr("security.ssl.rest.private-key is not the key of the "
                                           "security.ssl.rest.certificate certificate"));
}

}  // namespace
}  // namespace sluice::e2e
