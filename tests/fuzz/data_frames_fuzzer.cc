// Bytes arriving on a TaskManager's data port: whatever a peer sends, the
// connection is served or dropped, never a crash or an allocation beyond a
// frame's limit.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "spdlog/spdlog.h"
#include "taskmanager/data_server.h"

namespace {

// Accepts every stream with credit, so data frames get read too.
class AcceptingRouter final : public sluice::DataRouter {
 public:
  int Open(const std::string&, const std::string&, int,
           std::shared_ptr<sluice::CreditReturn> credits) override {
    credits_ = std::move(credits);
    return 1 << 20;
  }
  void Deliver(const std::string&, int, std::string, bool) override {}
  void DeliverPriority(const std::string&, int, std::string,
                       const sluice::engine::ChannelEvent&) override {}
  bool HandOff(const std::string&, sluice::net::Fd&, const std::string&,
               const std::string&) override {
    return false;
  }

 private:
  std::shared_ptr<sluice::CreditReturn> credits_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = (spdlog::set_level(spdlog::level::off), true);  // a drop per input
  (void)quiet;
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return 0;
  AcceptingRouter router;
  sluice::data::Traffic traffic;
  sluice::InboundConnection connection(sluice::net::Fd(fds[0]), "fuzz", &router, &traffic);
  std::thread writer([&] {
    size_t sent = 0;
    while (sent < size) {
      ssize_t n = send(fds[1], data + sent, size - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    shutdown(fds[1], SHUT_WR);
  });
  connection.Run();  // until the bytes end or a frame is refused
  writer.join();
  close(fds[1]);
  return 0;
}
