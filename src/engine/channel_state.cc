#include "engine/channel_state.h"

#include <algorithm>

namespace sluice::engine {

ChannelStateRecorder::ChannelStateRecorder(int channels) : data_(channels), done_(channels) {}

void ChannelStateRecorder::Start(int64_t id, const std::vector<bool>& done) {
  active_ = true;
  id_ = id;
  done_ = done;
  for (auto& bytes : data_) bytes.clear();
}

void ChannelStateRecorder::Append(int channel, std::string_view bytes) {
  if (recording(channel)) data_[channel].append(bytes);
}

void ChannelStateRecorder::Finish(int channel) { done_[channel] = true; }

bool ChannelStateRecorder::complete() const {
  return active_ && std::all_of(done_.begin(), done_.end(), [](bool done) { return done; });
}

std::vector<std::string> ChannelStateRecorder::Take() {
  active_ = false;
  std::vector<std::string> taken(data_.size());
  taken.swap(data_);
  return taken;
}

void ChannelStateRecorder::Abandon() {
  active_ = false;
  for (auto& bytes : data_) bytes.clear();
}

}  // namespace sluice::engine
