// The wire format of the data port. Every frame starts with a 12-byte
// header (little endian): type (1 byte), 3 zero bytes, stream id (4), value
// (4). `value` is the payload length, except for kCredit where it is the
// number of credits granted.
//
// The connecting TaskManager (the sender) begins with kHello (payload: the
// magic, then its id, and for a job process's connection '\0' and the job
// id: the receiving TaskManager hands such a connection to its process for
// that job) and opens one stream per channel with kOpen (payload:
// the channel number, 4 bytes, then the job id); then it sends kData and
// finally kEnd for each stream, or kClose when its job is gone. The
// accepting TaskManager (the receiver) answers on the same connection with
// kCredit frames: a sender may send a kData frame on a stream only against a
// credit; the receiver drops a connection that breaks this rule. A
// kPriority frame needs none: it carries an unaligned checkpoint barrier
// (payload: the sender's unsent rest of the stream, then the barrier as a
// channel event, engine/channel.h), which overtakes the receiver's queue.
#ifndef SLUICE_TASKMANAGER_DATA_PROTOCOL_H_
#define SLUICE_TASKMANAGER_DATA_PROTOCOL_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/net/tcp.h"

namespace sluice::data {

enum class FrameType : uint8_t { kHello = 1, kOpen, kData, kEnd, kClose, kCredit, kPriority };

inline constexpr char kMagic[] = "SLUICEDX";  // 8 bytes, then the sender's id
inline constexpr uint32_t kVersion = 2;       // the stream id of kHello
inline constexpr uint32_t kMaxPayload = 256u << 20;

// Bytes through the data port, frames and headers included (for metrics).
struct Traffic {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> received{0};
};

struct FrameHeader {
  FrameType type = FrameType::kData;
  uint32_t stream = 0;
  uint32_t value = 0;
};
inline constexpr size_t kHeaderSize = 12;

void EncodeHeader(const FrameHeader& header, char out[kHeaderSize]);

// Payloads of kHello (magic, sender id, job scope) and kOpen (channel, job id).
struct Hello {
  std::string sender;  // the sending TaskManager's id
  std::string job;     // empty: the connection carries every job's channels
};
std::string EncodeHello(const Hello& hello);
absl::StatusOr<Hello> DecodeHello(const std::string& payload);
struct OpenPayload {
  int channel = 0;
  std::string job;
};
std::string EncodeOpen(const OpenPayload& open);
absl::StatusOr<OpenPayload> DecodeOpen(const std::string& payload);

// Reads frames from a blocking socket through a buffer, so that a burst of
// small frames costs one system call.
class FrameReader {
 public:
  // `buffered`: bytes of the stream read already (by whoever handed it over).
  explicit FrameReader(const net::Fd& fd, const std::string& buffered = {});
  // What was read from the socket but not consumed yet; empties the buffer.
  std::string TakeBuffered();
  // Fails at the end of the stream, on a socket error or on a malformed header.
  absl::Status ReadHeader(FrameHeader* header);
  absl::Status ReadPayload(uint32_t length, std::string* payload);

 private:
  absl::Status Fill();  // reads more into the buffer
  const net::Fd& fd_;
  std::vector<char> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace sluice::data

#endif  // SLUICE_TASKMANAGER_DATA_PROTOCOL_H_
