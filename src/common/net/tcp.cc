#include "common/net/tcp.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sluice::net {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

struct HostAndPort {
  std::string host;
  std::string port;
};

absl::StatusOr<HostAndPort> Split(const std::string& address) {
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not host:port"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return HostAndPort{host, address.substr(colon + 1)};
}

class AddrInfo {
 public:
  AddrInfo() = default;
  AddrInfo(const AddrInfo&) = delete;
  AddrInfo& operator=(const AddrInfo&) = delete;
  ~AddrInfo() {
    if (list_ != nullptr) freeaddrinfo(list_);
  }
  absl::Status Resolve(const std::string& host, const std::string& port, bool passive) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    const char* node = host.empty() || host == "0.0.0.0" ? nullptr : host.c_str();
    if (node == nullptr && !passive) node = "127.0.0.1";
    int rc = getaddrinfo(node, port.c_str(), &hints, &list_);
    if (rc != 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot resolve '", host, "': ", gai_strerror(rc)));
    }
    return absl::OkStatus();
  }
  const addrinfo* list() const { return list_; }

 private:
  addrinfo* list_ = nullptr;
};

absl::Status SetBlocking(const Fd& fd, bool blocking) {
  int flags = fcntl(fd.get(), F_GETFL);
  if (flags < 0) return Errno("fcntl");
  flags = blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK;
  if (fcntl(fd.get(), F_SETFL, flags) != 0) return Errno("fcntl");
  return absl::OkStatus();
}

absl::StatusOr<Fd> ConnectOne(const addrinfo* ai, absl::Time deadline) {
  Fd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
  if (!fd.valid()) return Errno("socket");
  if (connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
    return Errno("connect");
  }
  pollfd p{fd.get(), POLLOUT, 0};
  int wait_ms = static_cast<int>(
      absl::ToInt64Milliseconds(std::max(deadline - absl::Now(), absl::ZeroDuration())));
  int ready = poll(&p, 1, wait_ms);
  if (ready == 0) return absl::DeadlineExceededError("connect timed out");
  if (ready < 0) return Errno("poll");
  int error = 0;
  socklen_t length = sizeof(error);
  getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) {
    errno = error;
    return Errno("connect");
  }
  if (auto status = SetBlocking(fd, true); !status.ok()) return status;
  return fd;
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) close(fd_);
}

void Fd::Shutdown() const {
  if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
}

absl::StatusOr<Listener> Listen(const std::string& host, int port) {
  AddrInfo info;
  if (auto status = info.Resolve(host, std::to_string(port), true); !status.ok()) return status;
  // The first address that binds (a host without IPv6 skips "::").
  Fd fd;
  absl::Status failure = absl::UnavailableError("no address to bind");
  for (const addrinfo* ai = info.list(); ai != nullptr && !fd.valid(); ai = ai->ai_next) {
    Fd candidate(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!candidate.valid()) {
      failure = Errno("socket");
      continue;
    }
    int one = 1;
    setsockopt(candidate.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(candidate.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      failure = Errno(absl::StrCat("cannot bind ", host, ":", port));
      continue;
    }
    fd = std::move(candidate);
  }
  if (!fd.valid()) return failure;
  if (listen(fd.get(), 128) != 0) return Errno("listen");
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length);
  int bound_port = bound.ss_family == AF_INET6
                       ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                       : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return Listener{std::move(fd), bound_port};
}

absl::StatusOr<Fd> Accept(const Listener& listener, std::string* peer) {
  while (true) {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    Fd fd(accept4(listener.fd.get(), reinterpret_cast<sockaddr*>(&address), &length, SOCK_CLOEXEC));
    if (fd.valid()) {
      char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
      getnameinfo(reinterpret_cast<sockaddr*>(&address), length, host, sizeof(host), port,
                  sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
      *peer = absl::StrCat(host, ":", port);
      Tune(fd);
      return fd;
    }
    // A connection that failed before we took it is no reason to stop.
    if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO) return Errno("accept");
  }
}

absl::StatusOr<Fd> Connect(const std::string& address, absl::Duration timeout) {
  auto parts = Split(address);
  if (!parts.ok()) return parts.status();
  AddrInfo info;
  if (auto status = info.Resolve(parts->host, parts->port, false); !status.ok()) return status;
  absl::Time deadline = absl::Now() + timeout;
  absl::Status last = absl::UnavailableError("no address");
  for (const addrinfo* ai = info.list(); ai != nullptr; ai = ai->ai_next) {
    auto fd = ConnectOne(ai, deadline);
    if (fd.ok()) {
      Tune(*fd);
      return fd;
    }
    last = fd.status();
  }
  return last;
}

void Tune(const Fd& fd) {
  int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval send_timeout{0, 100'000};
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
}

absl::Status WriteAll(const Fd& fd, iovec* iov, int count,
                      const std::function<bool(absl::Duration stalled)>& give_up) {
  msghdr message{};
  message.msg_iov = iov;
  message.msg_iovlen = static_cast<size_t>(count);
  absl::Time progress = absl::Now();
  while (message.msg_iovlen > 0) {
    ssize_t sent = sendmsg(fd.get(), &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (give_up && give_up(absl::Now() - progress)) {
          return absl::CancelledError("write abandoned");
        }
        continue;
      }
      return Errno("send");
    }
    progress = absl::Now();
    auto left = static_cast<size_t>(sent);
    while (message.msg_iovlen > 0 && left >= message.msg_iov->iov_len) {
      left -= message.msg_iov->iov_len;
      ++message.msg_iov;
      --message.msg_iovlen;
    }
    if (message.msg_iovlen > 0) {
      message.msg_iov->iov_base = static_cast<char*>(message.msg_iov->iov_base) + left;
      message.msg_iov->iov_len -= left;
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice::net
