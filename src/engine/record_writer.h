// One outgoing edge of a task (Flink's RecordWriter + ChannelSelector): the
// job library hands it serialized records; it picks each record's channel
// by the edge's partitioning (a key's key group for hash edges), frames it
// into that channel's buffer, and sends a buffer when it is full, on Flush()
// (buffer timeout) or at once (buffer timeout 0). Events go to every
// channel, after the records written before them.
//
// Used by the task thread only. A failed or cancelled channel does not throw
// into user code: the writer keeps the first error, drops what follows, and
// the task ends after its current step.
#ifndef SLUICE_ENGINE_RECORD_WRITER_H_
#define SLUICE_ENGINE_RECORD_WRITER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/channel.h"
#include "sluice/internal/abi.h"
#include "sluice/internal/graph.h"

namespace sluice::engine {

struct RecordWriterOptions {
  Partitioning partitioning = Partitioning::kForward;
  int key_groups = 128;  // the consumer's max parallelism (hash edges)
  int subtask = 0;       // the producer's, where round robin starts
  size_t segment_size = 32 << 10;
  bool flush_every_record = false;  // buffer timeout 0
  // The event time of the record being written (internal::kNoTimestamp:
  // none), sent with it; null: records carry none.
  const int64_t* timestamp = nullptr;
};

class RecordWriter final : public internal::RecordOutput {
 public:
  RecordWriter(std::vector<ChannelSink*> channels, const RecordWriterOptions& options);

  std::string* BeginRecord(std::string_view key) override;
  void EndRecord() override;
  // BeginRecord + append + EndRecord, for records already serialized.
  void Emit(std::string_view record, std::string_view key);
  // Sends `event` on every channel, behind everything written so far.
  void BroadcastEvent(const ChannelEvent& event);
  // An unaligned checkpoint barrier on every channel: what is written so far
  // goes out without waiting for room, and the barrier ahead of it.
  void BroadcastPriorityBarrier(const ChannelEvent& barrier);
  void Flush();
  // Flushes and ends every channel.
  void Close();

  // Records emitted so far (a broadcast counts once); read by metrics.
  uint64_t records_out() const { return records_.load(std::memory_order_relaxed); }
  // OK, or why records are being dropped (CANCELLED: the job is cancelled).
  const absl::Status& status() const { return status_; }

 private:
  size_t ChannelFor(std::string_view key);
  void Append(size_t channel, std::string_view record);
  int64_t timestamp() const {
    return options_.timestamp == nullptr ? internal::kNoTimestamp : *options_.timestamp;
  }
  void Send(size_t channel);
  void Check(absl::Status status);

  std::vector<ChannelSink*> channels_;
  std::vector<std::string> buffers_;
  const RecordWriterOptions options_;
  size_t next_;  // round robin
  // Hash edges: the channel of each key group (Flink's formula, once).
  std::vector<uint32_t> channel_of_group_;
  // The record being written: its channel (or all, from scratch_ for a
  // broadcast) and where its length goes.
  std::string* open_ = nullptr;
  size_t open_channel_ = 0;
  size_t length_at_ = 0;
  uint32_t length_flag_ = 0;  // kTimestampFlag when the open record carries its time
  std::string scratch_;
  absl::Status status_;
  std::atomic<uint64_t> records_{0};
};

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_RECORD_WRITER_H_
