#include "engine/record_writer.h"

#include <cstring>
#include <utility>

#include "engine/key_groups.h"

namespace sluice::engine {

RecordWriter::RecordWriter(std::vector<ChannelSink*> channels, const RecordWriterOptions& options)
    : channels_(std::move(channels)),
      buffers_(channels_.size()),
      options_(options),
      next_(static_cast<size_t>(options.subtask) % channels_.size()) {
  for (auto& b : buffers_) b.reserve(options_.segment_size + 256);
  if (options_.partitioning == Partitioning::kHash) {
    const int channels = static_cast<int>(channels_.size());
    for (int group = 0; group < options_.key_groups; ++group) {
      channel_of_group_.push_back(SubtaskForKeyGroup(options_.key_groups, channels, group));
    }
  }
}

size_t RecordWriter::ChannelFor(std::string_view key) {
  switch (options_.partitioning) {
    case Partitioning::kHash:
      return channel_of_group_[KeyGroupOf(key, options_.key_groups)];
    case Partitioning::kForward:
    case Partitioning::kDefault:
      return 0;
    default: {  // rebalance, rescale: round robin over the connected channels
      size_t c = next_;
      next_ = next_ + 1 == channels_.size() ? 0 : next_ + 1;
      return c;
    }
  }
}

std::string* RecordWriter::BeginRecord(std::string_view key) {
  // Only the task thread writes the count: no locked add per record.
  records_.store(records_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (!status_.ok() || options_.partitioning == Partitioning::kBroadcast) {
    scratch_.clear();  // copied to every channel at EndRecord (or dropped)
    open_ = &scratch_;
    return open_;
  }
  open_channel_ = ChannelFor(key);
  open_ = &buffers_[open_channel_];
  length_at_ = open_->size();
  open_->append(4, '\0');  // the length, filled in at EndRecord
  const int64_t time = timestamp();
  length_flag_ = 0;
  if (time != internal::kNoTimestamp) {
    length_flag_ = kTimestampFlag;
    open_->append(reinterpret_cast<const char*>(&time), 8);
  }
  return open_;
}

void RecordWriter::EndRecord() {
  if (open_ == &scratch_) {
    if (!status_.ok()) return;
    for (size_t c = 0; c < channels_.size(); ++c) Append(c, scratch_);
    return;
  }
  const auto length =
      static_cast<uint32_t>(open_->size() - length_at_ - 4 - (length_flag_ != 0 ? 8 : 0)) |
      length_flag_;
  std::memcpy(open_->data() + length_at_, &length, 4);
  if (open_->size() >= options_.segment_size || options_.flush_every_record) Send(open_channel_);
}

void RecordWriter::Emit(std::string_view record, std::string_view key) {
  BeginRecord(key)->append(record);
  EndRecord();
}

void RecordWriter::Append(size_t channel, std::string_view record) {
  std::string& buffer = buffers_[channel];
  AppendRecord(&buffer, record, timestamp());
  if (buffer.size() >= options_.segment_size || options_.flush_every_record) Send(channel);
}

void RecordWriter::BroadcastEvent(const ChannelEvent& event) {
  for (size_t c = 0; c < channels_.size() && status_.ok(); ++c) {
    AppendEvent(&buffers_[c], event);
    Send(c);
  }
}

void RecordWriter::BroadcastPriorityBarrier(const ChannelEvent& barrier) {
  for (size_t c = 0; c < channels_.size() && status_.ok(); ++c) {
    std::string rest;
    rest.reserve(options_.segment_size + 256);
    rest.swap(buffers_[c]);
    Check(channels_[c]->WritePriority(std::move(rest), barrier));
  }
}

void RecordWriter::Send(size_t channel) {
  if (buffers_[channel].empty() || !status_.ok()) return;
  std::string full;
  full.reserve(options_.segment_size + 256);
  full.swap(buffers_[channel]);
  Check(channels_[channel]->Write(std::move(full)));
}

void RecordWriter::Flush() {
  for (size_t c = 0; c < channels_.size(); ++c) Send(c);
}

void RecordWriter::Close() {
  Flush();
  for (auto* channel : channels_) {
    if (status_.ok()) Check(channel->Close());
  }
}

void RecordWriter::Check(absl::Status status) {
  if (!status.ok() && status_.ok()) status_ = std::move(status);
}

}  // namespace sluice::engine
