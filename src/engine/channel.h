// What travels on a channel between two subtasks, and the sink a producer
// writes it into. A channel carries buffers of at most the configured
// segment size (taskmanager.memory.segment-size); a buffer is a sequence of
// elements, each a record or an in-band event, in the order they were
// written — so a checkpoint barrier or a watermark stays exactly where it
// was emitted among the records:
//
//   record: u32 length (little endian, < kTimestampFlag), then the record's bytes
//   timestamped record: u32 kTimestampFlag | length, i64 event time, the bytes
//   event:  u32 kEventMarker, u8 kind, i64 id, i64 timestamp
//
// The end of a channel (end of partition) is not an element: the sink is
// closed. Buffers concatenate, so a local gate or a remote connection may
// join small buffers of one channel.
#ifndef SLUICE_ENGINE_CHANNEL_H_
#define SLUICE_ENGINE_CHANNEL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sluice/internal/abi.h"

namespace sluice::engine {

enum class EventKind : uint8_t {
  kCheckpointBarrier = 1,  // id: checkpoint id, timestamp: when it was triggered
  kCancelCheckpoint = 2,   // id: the checkpoint given up
  kWatermark = 3,          // timestamp: event time
  kWatermarkStatus = 4,    // id: 1 idle (holds no watermark back), 0 active again
};
const char* EventKindName(EventKind kind);

struct ChannelEvent {
  EventKind kind = EventKind::kWatermark;
  int64_t id = 0;
  int64_t timestamp = 0;
  bool operator==(const ChannelEvent&) const = default;
};

inline constexpr uint32_t kEventMarker = 0xffffffffu;
inline constexpr uint32_t kTimestampFlag = 0x80000000u;
inline constexpr size_t kEventSize = 4 + 1 + 8 + 8;

// (RecordWriter writes records in this format in place, without a copy.)
// `timestamp`: the record's event time, or internal::kNoTimestamp.
void AppendRecord(std::string* buffer, std::string_view record, int64_t timestamp);
void AppendEvent(std::string* buffer, const ChannelEvent& event);

// Reads the elements of a buffer one by one.
class ElementReader {
 public:
  explicit ElementReader(std::string_view buffer) : rest_(buffer) {}
  enum class Kind { kRecord, kEvent, kEnd };
  // The next element: a record's bytes in *record (its event time in
  // timestamp()), or an event in *event.
  // A malformed buffer is an error (the producer is not a Sluice runtime of
  // this version, or memory was corrupted).
  absl::Status Next(Kind* kind, std::string_view* record, ChannelEvent* event);
  // What is left after the last element returned.
  std::string_view rest() const { return rest_; }
  // The event time of the last record returned, or internal::kNoTimestamp.
  int64_t timestamp() const { return timestamp_; }

 private:
  std::string_view rest_;
  int64_t timestamp_ = 0;
};

// One channel as its producer sees it. Write and Close block while the
// consumer has no room (backpressure) and return CANCELLED once the job is
// being cancelled, or another error when the channel broke (a lost
// connection) — never an exception.
class ChannelSink {
 public:
  virtual ~ChannelSink() = default;
  virtual absl::Status Write(std::string buffer) = 0;
  virtual absl::Status Close() = 0;  // end of partition
  // An unaligned checkpoint barrier: `data` (the producer's unsent rest)
  // joins the channel without waiting for room, then `barrier` overtakes
  // everything queued for the consumer, which learns where in the channel
  // it belongs (InputGate::Delivery::cut). This default sends both in band
  // (the barrier then waits its turn, which is still correct).
  virtual absl::Status WritePriority(std::string data, const ChannelEvent& barrier) {
    AppendEvent(&data, barrier);
    return Write(std::move(data));
  }
  // Share of the channel's buffers in use (queued or in flight), 0..1.
  virtual double usage() const { return 0; }
  // A Write now would not wait for room.
  virtual bool HasRoom() const { return true; }
  // Returns once HasRoom(), or after `at_most`.
  virtual void AwaitRoom(absl::Duration at_most) { (void)at_most; }
};

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_CHANNEL_H_
