// Where a subtask's input arrives: one bounded queue of record buffers per
// incoming channel, consumed in arrival order by the subtask thread. A
// producer writing into a full channel blocks (backpressure), so memory stays
// bounded at channels x buffers-per-channel x buffer size.
#ifndef SLUICE_ENGINE_INPUT_GATE_H_
#define SLUICE_ENGINE_INPUT_GATE_H_

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sluice/runtime.h"

namespace sluice::engine {

// Thrown out of blocking calls once the job is being cancelled.
struct TaskCancelled {};

class InputGate {
 public:
  struct Event {
    int channel = 0;
    std::string buffer;
    bool end_of_partition = false;
  };

  InputGate(int buffers_per_channel, const std::atomic<bool>* cancelled);
  ~InputGate();

  // A new input channel; the gate owns it.
  ChannelSink* AddChannel();
  // Called on the consumer's thread each time a data buffer of `channel` has
  // been taken (a remote channel returns a credit to its sender).
  void OnConsumed(int channel, std::function<void()> consumed);
  int channels() const { return static_cast<int>(in_flight_.size()); }

  // The next buffer or end-of-partition, or nullopt at `deadline`.
  std::optional<Event> Next(absl::Time deadline);
  // Wakes blocked producers and the consumer (after cancellation).
  void Wake();

  // For metrics and tests: buffers queued now, and one channel's share of
  // its buffers in use.
  int queued() const;
  double Usage(int channel) const;

 private:
  class Channel;
  void Push(int channel, std::string buffer, bool end);

  static constexpr size_t kMergeBytes = 32 << 10;  // the writers' buffer size
  const int capacity_;
  const std::atomic<bool>* cancelled_;
  std::vector<std::unique_ptr<Channel>> channels_;
  mutable absl::Mutex mu_;
  std::deque<Event> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<int> in_flight_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void()>> consumed_ ABSL_GUARDED_BY(mu_);
  // Per channel, its newest data buffer still in the queue (or null).
  std::vector<Event*> last_queued_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_INPUT_GATE_H_
