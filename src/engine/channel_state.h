// The in-flight data of an unaligned checkpoint at one task (Flink's
// ChannelStatePersister), as pure bookkeeping. The task snapshots its
// operators as soon as the checkpoint's first barrier reaches it, without
// waiting for the others. What the upstream tasks wrote before their own
// snapshot but this task processes after its own is then in neither
// snapshot: it is recorded here, channel by channel, until that channel's
// barrier is in — from the gate's queue at once for a barrier that
// overtook it, or as the task processes it for one that comes in band.
// On restore the task processes each channel's recorded bytes first.
#ifndef SLUICE_ENGINE_CHANNEL_STATE_H_
#define SLUICE_ENGINE_CHANNEL_STATE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::engine {

class ChannelStateRecorder {
 public:
  explicit ChannelStateRecorder(int channels);

  // Checkpoint `id` starts: the channels in `done` (their barrier is in, or
  // they ended) need nothing; the others are recorded.
  void Start(int64_t id, const std::vector<bool>& done);
  bool active() const { return active_; }
  int64_t id() const { return id_; }
  bool recording(int channel) const { return active_ && !done_[channel]; }
  // Bytes of a recorded channel from before its barrier.
  void Append(int channel, std::string_view bytes);
  // The channel's barrier is in (or it ended): nothing more of it belongs.
  void Finish(int channel);
  // Every channel's barrier is in.
  bool complete() const;
  // The recorded bytes per channel; the recorder is idle again.
  std::vector<std::string> Take();
  // The checkpoint was given up.
  void Abandon();

 private:
  std::vector<std::string> data_;
  std::vector<bool> done_;
  bool active_ = false;
  int64_t id_ = 0;
};

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_CHANNEL_STATE_H_
