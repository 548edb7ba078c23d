// Where a subtask's input arrives: one bounded queue of buffers per incoming
// channel, consumed by the subtask's thread. A producer writing into a full
// channel blocks (backpressure), so memory stays bounded at channels x
// buffers-per-channel x segment size. The consumer takes buffers from the
// channels in turn, and can block single channels — a channel that delivered
// a checkpoint barrier waits while the others catch up — and put back the
// unread rest of a buffer.
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
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/channel.h"

namespace sluice::engine {

class InputGate {
 public:
  struct Delivery {
    int channel = 0;
    std::string buffer;
    bool end_of_partition = false;
    // An unaligned barrier (no buffer) and the channel's bytes before it.
    std::optional<ChannelEvent> priority;
    uint64_t cut = 0;
  };

  InputGate(int buffers_per_channel, size_t segment_size, const std::atomic<bool>* cancelled);
  ~InputGate();

  // A new input channel; the gate owns it.
  ChannelSink* AddChannel();
  // Called on the consumer's thread each time a data buffer of `channel` has
  // been taken (a remote channel returns a credit to its sender).
  void OnConsumed(int channel, std::function<void()> consumed);
  int channels() const { return static_cast<int>(sinks_.size()); }

  // The next buffer or end of partition of an unblocked channel, or nullopt
  // at `deadline` or once the job is cancelled.
  std::optional<Delivery> Next(absl::Time deadline);
  // Holds back `channel`'s buffers until Unblock.
  void Block(int channel);
  void Unblock(int channel);
  // Puts the unread rest of a buffer taken from `channel` back in front.
  void PushFront(int channel, std::string rest);
  // In-flight data of an unaligned checkpoint, before anything else of `channel`.
  void Replay(int channel, std::string data);
  // An unaligned barrier waits to be taken (checked between records).
  bool has_priority() const { return has_priority_.load(std::memory_order_relaxed); }
  // The bytes of `channel` still queued here up to its byte `cut` (counted
  // from the channel's start); what the consumer has not processed of them.
  // DATA_LOSS if the consumer is already past `cut`.
  absl::StatusOr<std::string> CopyQueued(int channel, uint64_t cut) const;
  // If barrier `id` is queued in band on `channel`: the bytes queued before it.
  std::optional<std::string> QueuedBeforeBarrier(int channel, int64_t id) const;
  // Wakes blocked producers and the consumer (after cancellation).
  void Wake();
  // Makes the consumer's current or next Next() return at once (work was
  // posted to its thread).
  void Interrupt();

  // For metrics and tests: buffers queued now, and one channel's share of
  // its buffers in use.
  int queued() const;
  double Usage(int channel) const;
  bool HasRoom(int channel) const;
  void AwaitRoom(int channel, absl::Duration at_most) const;

 private:
  class Sink;
  struct Item {
    std::string buffer;
    bool end = false;
    bool counted = true;  // took one of the channel's buffers (not a put-back rest)
  };
  struct Queue {
    std::deque<Item> items;
    uint64_t written = 0;       // bytes the producer wrote, ever
    uint64_t queued_bytes = 0;  // of them, still in items
    int in_flight = 0;
    bool blocked = false;
    bool listed = false;  // in ready_
    std::function<void()> consumed;
  };
  absl::Status Push(int channel, std::string buffer, bool end);
  absl::Status PushPriority(int channel, std::string data, const ChannelEvent& barrier);
  // Appends to `q` (joining its last buffer if `join`); no waiting.
  void Enqueue(int channel, std::string buffer, bool counted) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MarkReady(int channel) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `callback` without the lock (it may take other locks).
  void CallUnlocked(const std::function<void()>& callback) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int capacity_;
  const size_t segment_size_;
  const std::atomic<bool>* cancelled_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  mutable absl::Mutex mu_;
  std::vector<Queue> queues_ ABSL_GUARDED_BY(mu_);
  std::deque<int> ready_ ABSL_GUARDED_BY(mu_);  // channels with buffers, in turn
  std::deque<Delivery> priority_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> has_priority_{false};
  int queued_ ABSL_GUARDED_BY(mu_) = 0;
  bool interrupted_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_INPUT_GATE_H_
