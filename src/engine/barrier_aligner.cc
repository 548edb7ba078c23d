#include "engine/barrier_aligner.h"

#include <algorithm>

namespace sluice::engine {

BarrierAligner::BarrierAligner(int channels) : arrived_(channels), ended_(channels) {}

void BarrierAligner::Reset() {
  pending_.reset();
  std::fill(arrived_.begin(), arrived_.end(), false);
}

BarrierAligner::Decision BarrierAligner::Complete() {
  for (size_t c = 0; c < arrived_.size(); ++c) {
    if (!arrived_[c] && !ended_[c]) return {};
  }
  Decision d;
  d.unblock_all = true;
  d.forward = ChannelEvent{EventKind::kCheckpointBarrier, *pending_, pending_timestamp_};
  last_done_ = *pending_;
  Reset();
  return d;
}

BarrierAligner::Decision BarrierAligner::OnEvent(int channel, const ChannelEvent& event) {
  if (event.id <= last_done_ || (pending_ && event.id < *pending_)) return {};  // stale
  if (event.kind == EventKind::kCancelCheckpoint) {
    Decision d;
    d.unblock_all = pending_.has_value();
    d.forward = event;
    last_done_ = event.id;
    Reset();
    return d;
  }
  Decision given_up;
  if (pending_ && event.id > *pending_) {  // a newer checkpoint: the older one is abandoned
    given_up.unblock_all = true;
    Reset();
  }
  if (!pending_) {
    pending_ = event.id;
    pending_timestamp_ = event.timestamp;
  }
  arrived_[channel] = true;
  Decision d = Complete();
  if (!d.forward) d.block_channel = true;
  d.unblock_all = d.unblock_all || given_up.unblock_all;
  return d;
}

BarrierAligner::Decision BarrierAligner::GiveUp(int64_t id) {
  Decision d;
  d.unblock_all = pending_.has_value();
  last_done_ = std::max(last_done_, id);
  Reset();
  return d;
}

std::vector<bool> BarrierAligner::Passed(int64_t id) const {
  std::vector<bool> passed = ended_;
  if (pending_ == id) {
    for (size_t c = 0; c < passed.size(); ++c) passed[c] = passed[c] || arrived_[c];
  }
  return passed;
}

BarrierAligner::Decision BarrierAligner::OnEndOfPartition(int channel) {
  ended_[channel] = true;
  return pending_ ? Complete() : Decision{};
}

}  // namespace sluice::engine
