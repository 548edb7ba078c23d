#include "taskmanager/data_server.h"

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace sluice {

void CreditReturn::Grant(int credits) {
  absl::MutexLock lock(&mu_);
  if (connection_ != nullptr) connection_->SendCredit(stream_, credits);
}

void CreditReturn::Detach() {
  absl::MutexLock lock(&mu_);
  connection_ = nullptr;
}

InboundConnection::InboundConnection(net::Fd fd, std::string peer, DataRouter* router,
                                     data::Traffic* traffic)
    : fd_(std::move(fd)), peer_(std::move(peer)), router_(router), traffic_(traffic) {}

InboundConnection::InboundConnection(net::Fd fd, std::string peer, std::string sender,
                                     std::string buffered, DataRouter* router,
                                     data::Traffic* traffic)
    : fd_(std::move(fd)),
      peer_(std::move(peer)),
      buffered_(std::move(buffered)),
      router_(router),
      traffic_(traffic),
      sender_(std::move(sender)) {}

void InboundConnection::Stop() {
  absl::MutexLock lock(&fd_mu_);
  fd_.Shutdown();
}

void InboundConnection::Run() {
  absl::Status status = Serve();
  Stop();  // the sender sees the end at once
  for (auto& [id, stream] : streams_) {
    if (stream.credits) stream.credits->Detach();
  }
  if (!absl::IsCancelled(status)) {
    spdlog::warn("Data connection from {} ({}) dropped: {}", peer_,
                 sender_.empty() ? "unidentified" : sender_, std::string(status.message()));
  }
}

absl::Status InboundConnection::Serve() {
  data::FrameReader reader(fd_, buffered_);
  buffered_.clear();
  data::FrameHeader header;
  if (sender_.empty()) {  // not handed over: the hello comes first
    if (auto status = reader.ReadHeader(&header); !status.ok()) return status;
    std::string job;
    if (auto status = OnHello(reader, header, &job); !status.ok()) return status;
    if (!job.empty()) {
      absl::MutexLock lock(&fd_mu_);
      if (router_->HandOff(job, fd_, reader.TakeBuffered(), sender_)) {
        return absl::CancelledError("handed to the job's process");
      }
    }
  }
  while (true) {
    if (auto status = reader.ReadHeader(&header); !status.ok()) return status;
    traffic_->received.fetch_add(
        data::kHeaderSize + (header.type == data::FrameType::kCredit ? 0 : header.value),
        std::memory_order_relaxed);
    absl::Status status;
    switch (header.type) {
      case data::FrameType::kOpen:
        status = OnOpen(reader, header);
        break;
      case data::FrameType::kData:
        status = OnData(reader, header);
        break;
      case data::FrameType::kPriority:
        status = OnPriority(reader, header);
        break;
      case data::FrameType::kEnd:
      case data::FrameType::kClose: {
        if (header.value != 0) return absl::DataLossError("end or close frame with a payload");
        auto it = streams_.find(header.stream);
        if (it == streams_.end()) {
          return absl::DataLossError(absl::StrCat("frame for unknown stream ", header.stream));
        }
        if (header.type == data::FrameType::kEnd) {
          router_->Deliver(it->second.job, it->second.channel, {}, true);
        } else {
          if (it->second.credits) it->second.credits->Detach();
          streams_.erase(it);
          absl::MutexLock lock(&mu_);
          unused_credits_.erase(header.stream);
        }
        break;
      }
      default:
        return absl::DataLossError("unexpected frame type from a sender");
    }
    if (!status.ok()) return status;
  }
}

absl::Status InboundConnection::OnHello(data::FrameReader& reader, const data::FrameHeader& header,
                                        std::string* job) {
  std::string payload;
  if (header.type != data::FrameType::kHello || header.value > 4096) {
    return absl::DataLossError("not a Sluice data connection (no hello)");
  }
  if (auto status = reader.ReadPayload(header.value, &payload); !status.ok()) return status;
  auto hello = data::DecodeHello(payload);
  if (!hello.ok()) return hello.status();
  if (header.stream != data::kVersion) {
    return absl::DataLossError(absl::StrCat("data protocol version ", header.stream,
                                            " is not supported (this TaskManager speaks ",
                                            data::kVersion, ")"));
  }
  sender_ = std::move(hello->sender);
  *job = std::move(hello->job);
  return absl::OkStatus();
}

absl::Status InboundConnection::OnOpen(data::FrameReader& reader, const data::FrameHeader& header) {
  std::string payload;
  if (header.value > 4096) return absl::DataLossError("open frame over 4096 bytes");
  if (auto status = reader.ReadPayload(header.value, &payload); !status.ok()) return status;
  if (streams_.count(header.stream) > 0) {
    return absl::DataLossError(absl::StrCat("stream ", header.stream, " opened twice"));
  }
  auto open = data::DecodeOpen(payload);
  if (!open.ok()) return open.status();
  Stream& stream = streams_[header.stream];
  stream.job = std::move(open->job);
  stream.channel = open->channel;
  stream.credits = std::make_shared<CreditReturn>(this, header.stream);
  {
    absl::MutexLock lock(&mu_);
    unused_credits_[header.stream] = 0;
  }
  int initial = router_->Open(sender_, stream.job, stream.channel, stream.credits);
  if (initial > 0) SendCredit(header.stream, initial);
  return absl::OkStatus();
}

absl::Status InboundConnection::OnData(data::FrameReader& reader, const data::FrameHeader& header) {
  auto it = streams_.find(header.stream);
  if (it == streams_.end()) {
    return absl::DataLossError(absl::StrCat("data for unknown stream ", header.stream));
  }
  {
    absl::MutexLock lock(&mu_);
    int& unused = unused_credits_[header.stream];
    if (unused <= 0) {
      return absl::DataLossError(absl::StrCat("data without credit on stream ", header.stream));
    }
    --unused;
  }
  std::string buffer;
  if (auto status = reader.ReadPayload(header.value, &buffer); !status.ok()) return status;
  router_->Deliver(it->second.job, it->second.channel, std::move(buffer), false);
  return absl::OkStatus();
}

absl::Status InboundConnection::OnPriority(data::FrameReader& reader,
                                           const data::FrameHeader& header) {
  auto it = streams_.find(header.stream);
  if (it == streams_.end()) {
    return absl::DataLossError(absl::StrCat("barrier for unknown stream ", header.stream));
  }
  if (header.value < engine::kEventSize) {
    return absl::DataLossError("a priority frame shorter than a barrier");
  }
  std::string payload;
  if (auto status = reader.ReadPayload(header.value, &payload); !status.ok()) return status;
  engine::ElementReader tail(std::string_view(payload).substr(payload.size() - engine::kEventSize));
  engine::ElementReader::Kind kind;
  std::string_view unused;
  engine::ChannelEvent barrier;
  if (auto status = tail.Next(&kind, &unused, &barrier); !status.ok()) return status;
  if (kind != engine::ElementReader::Kind::kEvent ||
      barrier.kind != engine::EventKind::kCheckpointBarrier) {
    return absl::DataLossError("a priority frame that does not end with a checkpoint barrier");
  }
  payload.resize(payload.size() - engine::kEventSize);
  router_->DeliverPriority(it->second.job, it->second.channel, std::move(payload), barrier);
  return absl::OkStatus();
}

void InboundConnection::SendCredit(uint32_t stream, int credits) {
  char header[data::kHeaderSize];
  data::EncodeHeader({data::FrameType::kCredit, stream, static_cast<uint32_t>(credits)}, header);
  iovec iov{header, sizeof(header)};
  absl::MutexLock lock(&mu_);
  auto it = unused_credits_.find(stream);
  if (it == unused_credits_.end()) return;  // closed meanwhile
  it->second += credits;
  // Credits are 12 bytes and the sender reads them on a thread of their own;
  // one that cannot be written for seconds means the sender is gone or stuck.
  if (net::WriteAll(fd_, &iov, 1, [](absl::Duration stalled) {
        return stalled >= absl::Seconds(10);
      }).ok()) {
    traffic_->sent.fetch_add(data::kHeaderSize, std::memory_order_relaxed);
  } else {
    fd_.Shutdown();
  }
}

absl::StatusOr<std::unique_ptr<DataServer>> DataServer::Start(const std::string& bind_host,
                                                              int port, DataRouter* router,
                                                              data::Traffic* traffic) {
  auto listener = net::Listen(bind_host, port);
  if (!listener.ok()) {
    return absl::UnavailableError(
        absl::StrCat("taskmanager.data.port: ", listener.status().message()));
  }
  std::unique_ptr<DataServer> server(new DataServer(*std::move(listener), router, traffic));
  server->acceptor_ = std::thread([raw = server.get()] { raw->AcceptLoop(); });
  return server;
}

std::unique_ptr<DataServer> DataServer::WithoutPort(DataRouter* router, data::Traffic* traffic) {
  return std::unique_ptr<DataServer>(new DataServer(net::Listener{}, router, traffic));
}

void DataServer::Adopt(net::Fd fd, std::string peer, std::string sender, std::string buffered) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;  // closes it
  Serve(std::make_unique<InboundConnection>(std::move(fd), std::move(peer), std::move(sender),
                                            std::move(buffered), router_, traffic_));
}

void DataServer::Serve(std::unique_ptr<InboundConnection> connection) {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->done) {
      it->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
  auto& running = connections_.emplace_back();
  running.connection = std::move(connection);
  running.thread = std::thread([this, &running] {
    running.connection->Run();
    absl::MutexLock lock(&mu_);
    running.done = true;
  });
}

DataServer::~DataServer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& running : connections_) running.connection->Stop();
  }
  listener_.fd.Shutdown();
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& running : connections_) running.thread.join();
}

void DataServer::AcceptLoop() {
  while (true) {
    std::string peer;
    auto fd = net::Accept(listener_, &peer);
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    if (!fd.ok()) {
      // Out of file descriptors or memory, for now: keep serving (a listener
      // that no longer accepts would leave its senders waiting for credit).
      spdlog::warn("Data port cannot accept a connection: {}; retrying",
                   std::string(fd.status().message()));
      mu_.Unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      mu_.Lock();
      continue;
    }
    Serve(std::make_unique<InboundConnection>(*std::move(fd), peer, router_, traffic_));
  }
}

}  // namespace sluice
