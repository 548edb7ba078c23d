#include "taskmanager/data_protocol.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sluice::data {
namespace {

void Put32(uint32_t value, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

uint32_t Get32(const char* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return value;
}

}  // namespace

void EncodeHeader(const FrameHeader& header, char out[kHeaderSize]) {
  out[0] = static_cast<char>(header.type);
  out[1] = out[2] = out[3] = 0;
  Put32(header.stream, out + 4);
  Put32(header.value, out + 8);
}

std::string EncodeHello(const Hello& hello) {
  std::string payload = std::string(kMagic, 8) + hello.sender;
  if (!hello.job.empty()) payload += std::string(1, '\0') + hello.job;
  return payload;
}

absl::StatusOr<Hello> DecodeHello(const std::string& payload) {
  if (payload.size() < 8 || std::memcmp(payload.data(), kMagic, 8) != 0) {
    return absl::DataLossError("not a Sluice data connection (bad magic)");
  }
  Hello hello;
  const size_t scope = payload.find('\0', 8);
  hello.sender = payload.substr(8, scope == std::string::npos ? std::string::npos : scope - 8);
  if (scope != std::string::npos) hello.job = payload.substr(scope + 1);
  return hello;
}

FrameReader::FrameReader(const net::Fd& fd, const std::string& buffered)
    : fd_(fd), buffer_(std::max<size_t>(64 << 10, buffered.size())), end_(buffered.size()) {
  std::memcpy(buffer_.data(), buffered.data(), buffered.size());
}

std::string FrameReader::TakeBuffered() {
  std::string rest(buffer_.data() + begin_, end_ - begin_);
  begin_ = end_ = 0;
  return rest;
}

std::string EncodeOpen(const OpenPayload& open) {
  std::string payload(4, '\0');
  Put32(static_cast<uint32_t>(open.channel), payload.data());
  return payload + open.job;
}

absl::StatusOr<OpenPayload> DecodeOpen(const std::string& payload) {
  if (payload.size() < 4) return absl::DataLossError("malformed open frame");
  return OpenPayload{static_cast<int>(Get32(payload.data())), payload.substr(4)};
}

absl::Status FrameReader::Fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (true) {
    ssize_t got = recv(fd_.get(), buffer_.data() + end_, buffer_.size() - end_, 0);
    if (got > 0) {
      end_ += static_cast<size_t>(got);
      return absl::OkStatus();
    }
    if (got == 0) return absl::CancelledError("connection closed by the peer");
    if (errno != EINTR) return absl::UnavailableError(std::strerror(errno));
  }
}

absl::Status FrameReader::ReadHeader(FrameHeader* header) {
  while (end_ - begin_ < kHeaderSize) {
    if (auto status = Fill(); !status.ok()) return status;
  }
  const char* in = buffer_.data() + begin_;
  uint8_t type = static_cast<uint8_t>(in[0]);
  if (type < static_cast<uint8_t>(FrameType::kHello) ||
      type > static_cast<uint8_t>(FrameType::kPriority) || in[1] != 0 || in[2] != 0 || in[3] != 0) {
    return absl::DataLossError(absl::StrCat("malformed frame header (type byte ", type, ")"));
  }
  header->type = static_cast<FrameType>(type);
  header->stream = Get32(in + 4);
  header->value = Get32(in + 8);
  begin_ += kHeaderSize;
  if (header->type != FrameType::kCredit && header->value > kMaxPayload) {
    return absl::DataLossError(
        absl::StrCat("frame of ", header->value, " bytes exceeds the limit of ", kMaxPayload));
  }
  return absl::OkStatus();
}

absl::Status FrameReader::ReadPayload(uint32_t length, std::string* payload) {
  payload->resize(length);
  size_t buffered = std::min<size_t>(length, end_ - begin_);
  std::memcpy(payload->data(), buffer_.data() + begin_, buffered);
  begin_ += buffered;
  size_t have = buffered;
  while (have < length) {  // the rest straight from the socket
    ssize_t got = recv(fd_.get(), payload->data() + have, length - have, 0);
    if (got > 0) {
      have += static_cast<size_t>(got);
    } else if (got == 0) {
      return absl::CancelledError("connection closed by the peer mid-frame");
    } else if (errno != EINTR) {
      return absl::UnavailableError(std::strerror(errno));
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice::data
