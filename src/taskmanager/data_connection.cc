#include "taskmanager/data_connection.h"

#include <cstring>
#include <exception>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "engine/input_gate.h"
#include "spdlog/spdlog.h"

namespace sluice {

absl::StatusOr<std::unique_ptr<DataConnection>> DataConnection::Open(const std::string& address,
                                                                     const data::Hello& self,
                                                                     absl::Duration timeout,
                                                                     data::Traffic* traffic) {
  auto fd = net::Connect(address, timeout);
  if (!fd.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to the data port ", address, ": ", fd.status().message()));
  }
  std::unique_ptr<DataConnection> connection(new DataConnection(address, *std::move(fd), traffic));
  std::string hello = data::EncodeHello(self);
  try {
    connection->Write(data::FrameType::kHello, data::kVersion, &hello, nullptr);
  } catch (const std::runtime_error& e) {
    return absl::UnavailableError(e.what());
  }
  return connection;
}

DataConnection::DataConnection(std::string address, net::Fd fd, data::Traffic* traffic)
    : address_(std::move(address)), fd_(std::move(fd)), traffic_(traffic) {
  reader_ = std::thread([this] { ReadCredits(); });
}

DataConnection::~DataConnection() {
  Break("closed");
  fd_.Shutdown();
  reader_.join();
}

void DataConnection::ReadCredits() {
  data::FrameReader reader(fd_);
  data::FrameHeader header;
  while (true) {
    absl::Status status = reader.ReadHeader(&header);
    if (status.ok() && header.type != data::FrameType::kCredit) {
      status = absl::DataLossError("unexpected frame from the receiver");
    }
    if (!status.ok()) {
      if (Break(std::string(status.message()))) {
        spdlog::warn("Data connection to {} broke: {}", address_, std::string(status.message()));
      }
      return;
    }
    traffic_->received.fetch_add(data::kHeaderSize, std::memory_order_relaxed);
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(header.stream);
    if (it == streams_.end()) continue;
    it->second.credits += static_cast<int>(header.value);
    try {
      SendPending(header.stream, nullptr);
    } catch (const std::runtime_error&) {
      return;  // broken: the senders find out themselves
    }
  }
}

uint32_t DataConnection::OpenStream(const std::string& job, int channel) {
  uint32_t stream;
  {
    absl::MutexLock lock(&mu_);
    stream = next_stream_++;
    streams_[stream] = Stream{};
  }
  std::string payload = data::EncodeOpen({channel, job});
  Write(data::FrameType::kOpen, stream, &payload, nullptr);
  return stream;
}

void DataConnection::Send(uint32_t stream, std::string buffer, const std::atomic<bool>* cancelled) {
  if (buffer.size() > data::kMaxPayload) {
    throw std::runtime_error(absl::StrCat("a buffer of ", buffer.size(),
                                          " bytes (one record?) exceeds the data port's limit of ",
                                          data::kMaxPayload, " bytes per frame"));
  }
  absl::MutexLock lock(&mu_);
  Stream& s = streams_[stream];
  // Room in the pending buffer; a buffer larger than it waits for it to empty.
  AwaitOrThrow(
      [&s, size = buffer.size()]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return s.pending.empty() || s.pending.size() + size <= kCoalesceBytes;
      },
      cancelled);
  if (s.pending.empty()) {
    s.pending = std::move(buffer);
  } else {
    s.pending += buffer;
  }
  SendPending(stream, cancelled);
}

void DataConnection::SendPriority(uint32_t stream, std::string data,
                                  const engine::ChannelEvent& barrier,
                                  const std::atomic<bool>* cancelled) {
  std::string frame;
  {
    absl::MutexLock lock(&mu_);
    Stream& s = streams_[stream];
    // Frames of a stream keep their order: wait for one being written.
    AwaitOrThrow([&s]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !s.sending; }, cancelled);
    frame = std::move(s.pending);
    s.pending.clear();
    frame += data;
    engine::AppendEvent(&frame, barrier);
    s.sending = true;
  }
  std::exception_ptr failure;
  try {
    Write(data::FrameType::kPriority, stream, &frame, cancelled);
  } catch (...) {
    failure = std::current_exception();
  }
  absl::MutexLock lock(&mu_);
  if (auto it = streams_.find(stream); it != streams_.end()) it->second.sending = false;
  if (failure) std::rethrow_exception(failure);
}

void DataConnection::End(uint32_t stream, const std::atomic<bool>* cancelled) {
  {
    absl::MutexLock lock(&mu_);
    Stream& s = streams_[stream];
    AwaitOrThrow([&s]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return s.pending.empty() && !s.sending; },
                 cancelled);
  }
  Write(data::FrameType::kEnd, stream, nullptr, nullptr);
}

void DataConnection::SendPending(uint32_t stream, const std::atomic<bool>* cancelled) {
  while (true) {
    auto it = streams_.find(stream);
    if (it == streams_.end()) return;
    Stream& s = it->second;
    if (s.sending || s.credits <= 0 || s.pending.empty()) return;
    std::string frame = std::move(s.pending);
    s.pending.clear();
    --s.credits;
    s.sending = true;
    mu_.Unlock();
    std::exception_ptr failure;
    try {
      Write(data::FrameType::kData, stream, &frame, cancelled);
    } catch (...) {
      failure = std::current_exception();
    }
    mu_.Lock();
    // The stream may have been closed meanwhile: look it up again.
    if (auto again = streams_.find(stream); again != streams_.end()) again->second.sending = false;
    if (failure) std::rethrow_exception(failure);
  }
}

void DataConnection::AwaitOrThrow(const std::function<bool()>& ready,
                                  const std::atomic<bool>* cancelled) {
  auto done = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return ready() || !broken_.empty() || (cancelled != nullptr && cancelled->load());
  };
  // The timeout re-checks `cancelled`, which is set without this lock.
  while (!done()) mu_.AwaitWithTimeout(absl::Condition(&done), absl::Milliseconds(50));
  if (cancelled != nullptr && cancelled->load()) throw SendCancelled{};
  if (!broken_.empty()) throw BrokenError(broken_);
}

void DataConnection::CloseStream(uint32_t stream) {
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(stream);
    if (it != streams_.end()) {
      // Nothing more goes out for it; a frame the credit reader is writing
      // right now must reach the socket before kClose does.
      it->second.pending.clear();
      Stream& s = it->second;
      mu_.Await(absl::Condition(
          +[](Stream* s) { return !s->sending; }, &s));
      streams_.erase(stream);
    }
    if (!broken_.empty()) return;
  }
  try {
    Write(data::FrameType::kClose, stream, nullptr, nullptr);
  } catch (const std::runtime_error&) {
    // The connection broke: the receiver forgets the stream anyway.
  }
}

int DataConnection::credits(uint32_t stream) const {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.credits;
}

size_t DataConnection::pending_bytes(uint32_t stream) const {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.pending.size();
}

void DataConnection::AwaitNothingPending(uint32_t stream, absl::Duration at_most) const {
  absl::MutexLock lock(&mu_);
  auto done = [this, stream]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    auto it = streams_.find(stream);
    return it == streams_.end() || it->second.pending.empty() || !broken_.empty();
  };
  mu_.AwaitWithTimeout(absl::Condition(&done), at_most);
}

bool DataConnection::broken() const {
  absl::MutexLock lock(&mu_);
  return !broken_.empty();
}

void DataConnection::Write(data::FrameType type, uint32_t stream, const std::string* payload,
                           const std::atomic<bool>* cancelled) {
  char header[data::kHeaderSize];
  data::EncodeHeader({type, stream, payload ? static_cast<uint32_t>(payload->size()) : 0}, header);
  iovec iov[2] = {
      {header, sizeof(header)},
      {payload ? const_cast<char*>(payload->data()) : nullptr, payload ? payload->size() : 0}};
  absl::Status status;
  {
    absl::MutexLock lock(&write_mu_);
    if (broken()) ThrowBroken();
    // The connection is shared by every job between the two TaskManagers: a
    // frame is abandoned (which ends the connection) only when the receiver
    // has stopped reading, not merely because this job is being cancelled.
    status = net::WriteAll(fd_, iov, payload ? 2 : 1, [this, cancelled](absl::Duration stalled) {
      const bool job_gone = cancelled != nullptr && cancelled->load();
      return broken() || stalled >= kWriteStallLimit || (job_gone && stalled >= absl::Seconds(1));
    });
  }
  if (status.ok()) {
    traffic_->sent.fetch_add(data::kHeaderSize + (payload ? payload->size() : 0),
                             std::memory_order_relaxed);
    return;
  }
  // A frame written in part leaves the stream unreadable: give it up.
  Break(absl::IsCancelled(status) ? std::string("the receiver stopped reading")
                                  : absl::StrCat("write failed: ", status.message()));
  if (cancelled != nullptr && cancelled->load()) throw SendCancelled{};
  ThrowBroken();
}

bool DataConnection::Break(const std::string& reason) {
  {
    absl::MutexLock lock(&mu_);
    if (!broken_.empty()) return false;
    broken_ = reason;
  }
  fd_.Shutdown();  // the reader returns
  return true;
}

void DataConnection::ThrowBroken() {
  std::string reason;
  {
    absl::MutexLock lock(&mu_);
    reason = broken_;
  }
  throw BrokenError(reason);
}

std::runtime_error DataConnection::BrokenError(const std::string& reason) const {
  return std::runtime_error(absl::StrCat("the data connection to ", address_, " broke: ", reason));
}

}  // namespace sluice
