#include "engine/channel.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace sluice::engine {

const char* EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kCheckpointBarrier:
      return "checkpoint barrier";
    case EventKind::kCancelCheckpoint:
      return "cancel checkpoint";
    case EventKind::kWatermark:
      return "watermark";
    case EventKind::kWatermarkStatus:
      return "watermark status";
  }
  return "?";
}

namespace {
void AppendU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }
void AppendI64(std::string* out, int64_t v) { out->append(reinterpret_cast<const char*>(&v), 8); }
}  // namespace

void AppendRecord(std::string* buffer, std::string_view record, int64_t timestamp) {
  if (timestamp == internal::kNoTimestamp) {
    AppendU32(buffer, static_cast<uint32_t>(record.size()));
  } else {
    AppendU32(buffer, static_cast<uint32_t>(record.size()) | kTimestampFlag);
    AppendI64(buffer, timestamp);
  }
  buffer->append(record);
}

void AppendEvent(std::string* buffer, const ChannelEvent& event) {
  AppendU32(buffer, kEventMarker);
  buffer->push_back(static_cast<char>(event.kind));
  AppendI64(buffer, event.id);
  AppendI64(buffer, event.timestamp);
}

absl::Status ElementReader::Next(Kind* kind, std::string_view* record, ChannelEvent* event) {
  if (rest_.empty()) {
    *kind = Kind::kEnd;
    return absl::OkStatus();
  }
  if (rest_.size() < 4) return absl::DataLossError("a buffer ends inside an element header");
  uint32_t length;
  std::memcpy(&length, rest_.data(), 4);
  if (length == kEventMarker) {
    if (rest_.size() < kEventSize) return absl::DataLossError("a buffer ends inside an event");
    const auto type = static_cast<uint8_t>(rest_[4]);
    if (type < 1 || type > 4) return absl::DataLossError(absl::StrCat("unknown event kind ", type));
    event->kind = static_cast<EventKind>(type);
    std::memcpy(&event->id, rest_.data() + 5, 8);
    std::memcpy(&event->timestamp, rest_.data() + 13, 8);
    rest_.remove_prefix(kEventSize);
    *kind = Kind::kEvent;
    return absl::OkStatus();
  }
  size_t header = 4;
  timestamp_ = internal::kNoTimestamp;
  if ((length & kTimestampFlag) != 0) {
    length &= ~kTimestampFlag;
    header += 8;
    if (rest_.size() < header) return absl::DataLossError("a buffer ends inside a record header");
    std::memcpy(&timestamp_, rest_.data() + 4, 8);
  }
  if (rest_.size() - header < length) return absl::DataLossError("a buffer ends inside a record");
  *record = rest_.substr(header, length);
  rest_.remove_prefix(header + length);
  *kind = Kind::kRecord;
  return absl::OkStatus();
}

}  // namespace sluice::engine
