#include "engine/watermark_valve.h"

#include <algorithm>
#include <limits>

namespace sluice::engine {

WatermarkValve::WatermarkValve(int channels) : channels_(channels) {}

std::optional<int64_t> WatermarkValve::Advance() {
  int64_t low = std::numeric_limits<int64_t>::max();
  bool any = false;
  for (const Channel& c : channels_) {
    if (c.ended || c.idle) continue;
    any = true;
    low = std::min(low, c.watermark);
  }
  if (!any || low <= current_) return std::nullopt;
  current_ = low;
  return current_;
}

std::optional<int64_t> WatermarkValve::OnWatermark(int channel, int64_t timestamp) {
  Channel& c = channels_[channel];
  c.watermark = std::max(c.watermark, timestamp);
  c.idle = false;  // a watermark is activity (Flink's sources mark active first)
  return Advance();
}

std::optional<int64_t> WatermarkValve::OnStatus(int channel, bool idle) {
  channels_[channel].idle = idle;
  return Advance();
}

std::optional<int64_t> WatermarkValve::OnEndOfPartition(int channel) {
  channels_[channel].ended = true;
  return Advance();
}

bool WatermarkValve::idle() const {
  bool open = false;
  for (const Channel& c : channels_) {
    if (c.ended) continue;
    if (!c.idle) return false;
    open = true;
  }
  return open;
}

}  // namespace sluice::engine
