#include "tests/testing/test_cluster.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/net/tcp.h"

namespace sluice::testing {

Config LoopbackConfig(const std::vector<std::string>& overrides) {
  static constexpr char kYaml[] = R"(
jobmanager.rpc.address: 127.0.0.1
jobmanager.rpc.port: 0
jobmanager.bind-host: 127.0.0.1
rest.port: 0
rest.bind-address: 127.0.0.1
resourcemanager.rpc.address: 127.0.0.1
resourcemanager.rpc.port: 0
resourcemanager.bind-host: 127.0.0.1
taskmanager.host: 127.0.0.1
taskmanager.bind-host: 127.0.0.1
metrics.reporter.prom.port: 0
heartbeat.interval: 100 ms
heartbeat.timeout: 1 s
cluster.registration.max-timeout: 200 ms
cluster.registration.refused-registration-delay: 200 ms
)";
  auto config = Config::FromYaml(kYaml, "test config", overrides);
  if (!config.ok()) {
    std::cerr << "bad test config: " << config.status() << "\n";
    std::abort();
  }
  return *std::move(config);
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

std::optional<std::string> HttpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto result = client.Get(path.c_str());
  if (!result || result->status != 200) return std::nullopt;
  return result->body;
}

std::pair<int, std::string> HttpCall(int port, const std::string& method, const std::string& path,
                                     const std::string& body) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  auto result = method == "PATCH"  ? client.Patch(path.c_str())
                : method == "POST" ? client.Post(path.c_str(), body, "application/json")
                                   : client.Get(path.c_str());
  if (!result) return {0, ""};
  return {result->status, result->body};
}

std::pair<int, std::string> RawHttp(int port, const std::string& request) {
  auto fd = net::Connect(absl::StrCat("127.0.0.1:", port), absl::Seconds(2));
  if (!fd.ok()) return {0, ""};
  timeval timeout{5, 0};
  setsockopt(fd->get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (send(fd->get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return {0, ""};
  }
  std::string answer;
  char buffer[4096];
  for (ssize_t got; (got = recv(fd->get(), buffer, sizeof(buffer), 0)) > 0;) {
    answer.append(buffer, static_cast<size_t>(got));
    const size_t head_end = answer.find("\r\n\r\n");
    if (head_end == std::string::npos) continue;
    // Connection: close is not assumed: stop once Content-Length bytes came.
    const size_t length_at = answer.find("Content-Length: ");
    if (length_at != std::string::npos && length_at < head_end) {
      const size_t length = std::stoul(answer.substr(length_at + 16));
      if (answer.size() >= head_end + 4 + length) break;
    }
  }
  int status = 0;
  if (!absl::SimpleAtoi(answer.substr(9, 3), &status)) return {0, answer};
  const size_t head_end = answer.find("\r\n\r\n");
  return {status, head_end == std::string::npos ? "" : answer.substr(head_end + 4)};
}

std::optional<double> MetricValue(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (!absl::StartsWith(line, series + " ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) return value;
  }
  return std::nullopt;
}

int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace sluice::testing
