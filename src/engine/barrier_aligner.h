// Checkpoint barriers at a task with several input channels (Flink's
// CheckpointBarrierHandler), as pure bookkeeping:
// the task feeds it what arrives and does what it answers.
//
// Barriers are aligned: a channel that delivered the barrier of checkpoint n
// is blocked until every other open channel has delivered it too; then the
// barrier goes downstream once and all channels are unblocked. A newer
// barrier gives up an older alignment; a cancel marker ends an alignment
// and goes downstream once. What the checkpoint means at that point comes
// with the checkpointing code.
#ifndef SLUICE_ENGINE_BARRIER_ALIGNER_H_
#define SLUICE_ENGINE_BARRIER_ALIGNER_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/channel.h"

namespace sluice::engine {

class BarrierAligner {
 public:
  struct Decision {
    bool block_channel = false;  // hold back the channel the event came from
    bool unblock_all = false;
    std::optional<ChannelEvent> forward;  // send downstream
  };

  explicit BarrierAligner(int channels);
  // A checkpoint barrier or cancel marker from `channel`.
  Decision OnEvent(int channel, const ChannelEvent& event);
  // `channel` ended: it no longer holds up an alignment.
  Decision OnEndOfPartition(int channel);
  // Checkpoint `id` goes on unaligned: its alignment (or an older one's)
  // ends, and its barriers still to come are stale.
  Decision GiveUp(int64_t id);
  // The channels that need nothing more of checkpoint `id`: its barrier
  // came on them (while it is being aligned), or they ended.
  std::vector<bool> Passed(int64_t id) const;
  // The checkpoint being aligned, if any.
  std::optional<int64_t> aligning() const { return pending_; }
  // The newest checkpoint passed on or given up.
  int64_t last_done() const { return last_done_; }

 private:
  Decision Complete();
  void Reset();

  std::vector<bool> arrived_;
  std::vector<bool> ended_;
  std::optional<int64_t> pending_;
  int64_t pending_timestamp_ = 0;
  int64_t last_done_ = 0;  // the newest checkpoint forwarded or cancelled
};

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_BARRIER_ALIGNER_H_
