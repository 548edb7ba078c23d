// Plain TCP sockets for the data plane (the control plane uses gRPC): a
// listener on a port, a connect with a deadline, and whole-buffer writes that
// can give up when their caller is cancelled.
#ifndef SLUICE_COMMON_NET_TCP_H_
#define SLUICE_COMMON_NET_TCP_H_

#include <sys/uio.h>

#include <functional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sluice::net {

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Ends both directions: a thread blocked on the socket returns.
  void Shutdown() const;

 private:
  int fd_ = -1;
};

struct Listener {
  Fd fd;
  int port = 0;
};

// Listens on host:port (port 0: any free port).
absl::StatusOr<Listener> Listen(const std::string& host, int port);
// Accepts one connection; fails once the listener is shut down.
absl::StatusOr<Fd> Accept(const Listener& listener, std::string* peer);
// Connects to "host:port" within `timeout`, with TCP_NODELAY.
absl::StatusOr<Fd> Connect(const std::string& address, absl::Duration timeout);
// Sets TCP_NODELAY and a send timeout, so WriteAll can look at `give_up`.
void Tune(const Fd& fd);

// Writes all of `iov`. While the peer does not read, asks `give_up` every
// 100 ms with how long the write has made no progress; returns Cancelled if
// it says so, or an error if the connection fails.
absl::Status WriteAll(const Fd& fd, iovec* iov, int count,
                      const std::function<bool(absl::Duration stalled)>& give_up);

}  // namespace sluice::net

#endif  // SLUICE_COMMON_NET_TCP_H_
