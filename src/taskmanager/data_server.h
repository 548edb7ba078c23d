// The receiving side of the data port: accepts connections from other
// TaskManagers and, on one thread per connection, reads their frames and
// hands them to a DataRouter, which feeds the input gates. Credits go back
// on the same connection, written by whichever thread frees the buffer.
#ifndef SLUICE_TASKMANAGER_DATA_SERVER_H_
#define SLUICE_TASKMANAGER_DATA_SERVER_H_

#include <list>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/net/tcp.h"
#include "engine/channel.h"
#include "taskmanager/data_protocol.h"

namespace sluice {

class InboundConnection;

// Returns credits for one stream for as long as its connection lives.
class CreditReturn {
 public:
  CreditReturn(InboundConnection* connection, uint32_t stream)
      : connection_(connection), stream_(stream) {}
  void Grant(int credits);
  void Detach();  // the connection is going away

 private:
  absl::Mutex mu_;
  InboundConnection* connection_ ABSL_GUARDED_BY(mu_);
  const uint32_t stream_;
};

// Where incoming streams go (the DataExchange).
class DataRouter {
 public:
  virtual ~DataRouter() = default;
  // `sender` opened a stream for `channel` of `job`: returns the initial
  // credits (0 if the channel is unknown here) and keeps `credits` to grant
  // one more per consumed buffer.
  virtual int Open(const std::string& sender, const std::string& job, int channel,
                   std::shared_ptr<CreditReturn> credits) = 0;
  // A buffer (or end of partition) for the channel; dropped if it is gone.
  virtual void Deliver(const std::string& job, int channel, std::string buffer,
                       bool end_of_partition) = 0;
  // An unaligned barrier for the channel, after `data` (ChannelSink::WritePriority).
  virtual void DeliverPriority(const std::string& job, int channel, std::string data,
                               const engine::ChannelEvent& barrier) = 0;
  // A connection of `sender` carries only `job`'s channels (its hello said
  // so): the router may take it elsewhere (moving `fd` out; `buffered` is
  // what was read after the hello) and return true. Else it is served here.
  virtual bool HandOff(const std::string& job, net::Fd& fd, const std::string& buffered,
                       const std::string& sender) = 0;
};

class InboundConnection {
 public:
  InboundConnection(net::Fd fd, std::string peer, DataRouter* router, data::Traffic* traffic);
  // A connection whose hello was read already (by the TaskManager that
  // handed it over): `buffered` is what followed the hello.
  InboundConnection(net::Fd fd, std::string peer, std::string sender, std::string buffered,
                    DataRouter* router, data::Traffic* traffic);
  void Run();  // on its own thread, until the connection ends
  void Stop();
  void SendCredit(uint32_t stream, int credits);

 private:
  struct Stream {
    std::string job;
    int channel = 0;
    std::shared_ptr<CreditReturn> credits;
  };
  absl::Status Serve();
  // Reads the hello: the sender's id into sender_, the job it is scoped to into `job`.
  absl::Status OnHello(data::FrameReader& reader, const data::FrameHeader& header,
                       std::string* job);
  absl::Status OnOpen(data::FrameReader& reader, const data::FrameHeader& header);
  absl::Status OnData(data::FrameReader& reader, const data::FrameHeader& header);
  absl::Status OnPriority(data::FrameReader& reader, const data::FrameHeader& header);

  absl::Mutex fd_mu_;  // the descriptor moves out (hand-off) while Stop() may run
  net::Fd fd_;         // written only by the reader thread, under fd_mu_
  const std::string peer_;
  std::string buffered_;  // read by whoever handed the connection over
  DataRouter* const router_;
  data::Traffic* const traffic_;
  std::string sender_;                  // the peer's TaskManager id, after kHello
  std::map<uint32_t, Stream> streams_;  // reader thread only
  absl::Mutex mu_;                      // guards the socket's write side and the credit balance
  std::map<uint32_t, int> unused_credits_ ABSL_GUARDED_BY(mu_);
};

class DataServer {
 public:
  static absl::StatusOr<std::unique_ptr<DataServer>> Start(const std::string& bind_host, int port,
                                                           DataRouter* router,
                                                           data::Traffic* traffic);
  // Without a port: it serves only connections handed to Adopt().
  static std::unique_ptr<DataServer> WithoutPort(DataRouter* router, data::Traffic* traffic);
  // Serves a connection accepted elsewhere (see InboundConnection).
  void Adopt(net::Fd fd, std::string peer, std::string sender, std::string buffered);
  ~DataServer();  // stops accepting, ends every connection and joins
  int port() const { return listener_.port; }

 private:
  DataServer(net::Listener listener, DataRouter* router, data::Traffic* traffic)
      : listener_(std::move(listener)), router_(router), traffic_(traffic) {}
  void AcceptLoop();
  // Runs `connection` on a thread of its own; joins those that ended.
  void Serve(std::unique_ptr<InboundConnection> connection) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  struct Running {
    std::unique_ptr<InboundConnection> connection;
    std::thread thread;
    bool done = false;
  };
  net::Listener listener_;
  DataRouter* const router_;
  data::Traffic* const traffic_;
  std::thread acceptor_;
  absl::Mutex mu_;
  std::list<Running> connections_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_DATA_SERVER_H_
