// The watermark of a task with several input channels (Flink's
// StatusWatermarkValve), as pure bookkeeping: the minimum over the channels
// that are neither ended nor idle. It only advances; a channel that comes
// back from idleness behind it holds nothing back until it catches up. When
// every open channel is idle, the task is idle too and says so downstream.
#ifndef SLUICE_ENGINE_WATERMARK_VALVE_H_
#define SLUICE_ENGINE_WATERMARK_VALVE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "sluice/internal/abi.h"

namespace sluice::engine {

class WatermarkValve {
 public:
  static constexpr int64_t kNone = internal::kNoWatermark;
  explicit WatermarkValve(int channels);
  // Each returns the task's new watermark, if this advanced it.
  std::optional<int64_t> OnWatermark(int channel, int64_t timestamp);
  std::optional<int64_t> OnStatus(int channel, bool idle);
  std::optional<int64_t> OnEndOfPartition(int channel);
  int64_t current() const { return current_; }
  // Every open channel is idle (false once all ended: the end is not idleness).
  bool idle() const;

 private:
  std::optional<int64_t> Advance();
  struct Channel {
    int64_t watermark = kNone;
    bool idle = false;
    bool ended = false;
  };
  std::vector<Channel> channels_;
  int64_t current_ = kNone;
};

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_WATERMARK_VALVE_H_
