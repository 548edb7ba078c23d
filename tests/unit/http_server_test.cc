// The HTTP server under clients that misbehave: oversized and endless bodies,
// hundreds of idle connections, slowloris clients trickling headers, handlers
// that throw. Each test talks raw TCP on loopback so the client can misbehave.
#include "common/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr auto kDeadline = std::chrono::seconds(20);

// A client socket connected to 127.0.0.1:`port`; -1 when refused.
int Connect(int port) {
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

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Everything the server sends until it closes the connection or the deadline
// passes; `closed` tells which.
std::string ReadUntilClosed(int fd, bool* closed = nullptr) {
  std::string received;
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < until) {
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, 100) <= 0) continue;
    char buffer[4096];
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      if (closed != nullptr) *closed = true;
      return received;
    }
    received.append(buffer, static_cast<size_t>(n));
  }
  if (closed != nullptr) *closed = false;
  return received;
}

// One request on a fresh connection, answered within the deadline.
std::string Exchange(int port, const std::string& request) {
  int fd = Connect(port);
  if (fd < 0) return "";
  SendAll(fd, request);
  std::string answer = ReadUntilClosed(fd);
  close(fd);
  return answer;
}

std::string Get(int port, const std::string& path) {
  return Exchange(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpLimits limits) {
    server_ = std::make_unique<HttpServer>(limits);
    server_->HandleGet("/metrics", [] { return HttpResponse{200, "text/plain", "up 1\n"}; });
    server_->Handle(HttpServer::Method::kPost, "/echo", [](const HttpRequest& request) {
      return HttpResponse{200, "text/plain", request.body};
    });
    server_->HandleGet(
        "/throws", []() -> HttpResponse { throw std::runtime_error("secret\r\nX-Injected: yes"); });
    auto port = server_->Start("127.0.0.1", PortRange{0, 0});
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }
  void TearDown() override {
    for (int fd : clients_) close(fd);
  }

  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::vector<int> clients_;
};

TEST_F(HttpServerTest, ABodyWithinTheLimitIsEchoed) {
  Start({});
  std::string answer = Exchange(
      port_,
      "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(answer, HasSubstr("\r\n\r\nhello"));
}

TEST_F(HttpServerTest, AContentLengthOverTheLimitIsRefusedWith413BeforeTheBodyIsRead) {
  Start({.max_body_bytes = 1024});
  std::string answer = Exchange(
      port_,
      "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000000000\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(answer, HasSubstr(R"({"errors":["Request body larger than 1.0 KiB"]})"));
}

TEST_F(HttpServerTest, AnEndlessChunkedBodyIsCutOffAtTheLimitAndTheServerGoesOnServing) {
  Start({.max_body_bytes = 64 << 10});
  int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  clients_.push_back(fd);
  ASSERT_TRUE(SendAll(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "1000\r\n" + std::string(0x1000, 'x') + "\r\n";
  size_t sent = 0;
  // The server must close the connection long before 64 MiB went out.
  while (sent < (64u << 20) && SendAll(fd, chunk)) sent += 0x1000;
  EXPECT_LT(sent, 64u << 20) << "the server kept reading an endless body";
  EXPECT_THAT(Get(port_, "/metrics"), HasSubstr("up 1"));
}

TEST_F(HttpServerTest, IdleAndSlowlorisConnectionsDoNotStopOthersFromBeingServed) {
  Start({.idle_timeout = absl::Seconds(120)});  // they are not timed out during the test
  for (int i = 0; i < 500; ++i) {
    int fd = Connect(port_);
    ASSERT_GE(fd, 0) << "connection " << i;
    clients_.push_back(fd);
  }
  std::vector<int> slow;
  for (int i = 0; i < 16; ++i) {
    int fd = Connect(port_);
    ASSERT_GE(fd, 0);
    clients_.push_back(fd);
    slow.push_back(fd);
    ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n"));
  }
  for (int round = 0; round < 3; ++round) {
    for (int fd : slow) SendAll(fd, "X-Slow: a\r\n");  // headers that never end
    EXPECT_THAT(Get(port_, "/metrics"), HasSubstr("up 1")) << "round " << round;
  }
}

TEST_F(HttpServerTest, AConnectionSilentPastTheIdleTimeoutIsClosed) {
  Start({.idle_timeout = absl::Seconds(1)});
  int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  clients_.push_back(fd);
  ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.1\r\n"));  // and then nothing
  bool closed = false;
  ReadUntilClosed(fd, &closed);
  EXPECT_TRUE(closed);
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitWaitUntilOthersGo) {
  Start({.max_connections = 8, .idle_timeout = absl::Seconds(120), .threads = 1});
  for (int i = 0; i < 8; ++i) {
    int fd = Connect(port_);
    ASSERT_GE(fd, 0);
    clients_.push_back(fd);
  }
  // The ninth stays in the kernel's backlog, costing the server nothing...
  int ninth = Connect(port_);
  ASSERT_GE(ninth, 0);
  ASSERT_TRUE(SendAll(ninth, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  pollfd answer{ninth, POLLIN, 0};
  EXPECT_EQ(poll(&answer, 1, 1000), 0) << "served beyond the connection limit";
  // ...and is served once the others go.
  for (int fd : clients_) close(fd);
  clients_.clear();
  clients_.push_back(ninth);
  EXPECT_THAT(ReadUntilClosed(ninth), HasSubstr("up 1"));
}

TEST_F(HttpServerTest, AThrowingHandlerAnswers500WithoutItsErrorText) {
  Start({});
  std::string answer = Get(port_, "/throws");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 500"));
  EXPECT_THAT(answer, HasSubstr(R"({"errors":["Internal server error"]})"));
  EXPECT_THAT(answer, Not(HasSubstr("secret")));
  EXPECT_THAT(answer, Not(HasSubstr("X-Injected")));
}

TEST_F(HttpServerTest, AnUnknownRouteAnswersAJson404) {
  Start({});
  std::string answer = Get(port_, "/nowhere");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(answer, HasSubstr(R"({"errors":["Not found: /nowhere"]})"));
  EXPECT_THAT(answer, HasSubstr("Content-Type: application/json"));
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// Found by tests/fuzz/rest_request_fuzzer: a path that is not UTF-8 made the
// 404's JSON throw out of the server.
TEST(HttpServerAnswerTest, APathThatIsNotUtf8GetsAJson404) {
  HttpServer server;
  HttpResponse response = server.Answer("GET", "/\x90web/app", HttpRequest());
  EXPECT_EQ(response.status, 404);
  EXPECT_THAT(response.body, HasSubstr("Not found: /"));
}

}  // namespace
}  // namespace sluice
