#include "engine/input_gate.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sluice::engine {

class InputGate::Sink final : public ChannelSink {
 public:
  Sink(InputGate* gate, int index) : gate_(gate), index_(index) {}
  absl::Status Write(std::string buffer) override {
    return gate_->Push(index_, std::move(buffer), false);
  }
  absl::Status Close() override { return gate_->Push(index_, {}, true); }
  absl::Status WritePriority(std::string data, const ChannelEvent& barrier) override {
    return gate_->PushPriority(index_, std::move(data), barrier);
  }
  double usage() const override { return gate_->Usage(index_); }
  bool HasRoom() const override { return gate_->HasRoom(index_); }
  void AwaitRoom(absl::Duration at_most) override { gate_->AwaitRoom(index_, at_most); }

 private:
  InputGate* gate_;
  int index_;
};

InputGate::InputGate(int buffers_per_channel, size_t segment_size,
                     const std::atomic<bool>* cancelled)
    : capacity_(buffers_per_channel), segment_size_(segment_size), cancelled_(cancelled) {}

InputGate::~InputGate() = default;

ChannelSink* InputGate::AddChannel() {
  absl::MutexLock lock(&mu_);
  int index = static_cast<int>(sinks_.size());
  sinks_.push_back(std::make_unique<Sink>(this, index));
  queues_.emplace_back();
  return sinks_.back().get();
}

void InputGate::OnConsumed(int channel, std::function<void()> consumed) {
  absl::MutexLock lock(&mu_);
  queues_[channel].consumed = std::move(consumed);
}

void InputGate::CallUnlocked(const std::function<void()>& callback) {
  if (!callback) return;
  auto copy = callback;
  mu_.Unlock();
  copy();
  mu_.Lock();
}

void InputGate::MarkReady(int channel) {
  Queue& q = queues_[channel];
  if (q.blocked || q.listed || q.items.empty()) return;
  q.listed = true;
  ready_.push_back(channel);
}

absl::Status InputGate::Push(int channel, std::string buffer, bool end) {
  absl::MutexLock lock(&mu_);
  Queue& q = queues_[channel];
  // A small buffer joins the channel's last one if the consumer has not taken
  // it yet (elements are self-delimiting, so buffers concatenate): records
  // flushed one at a time do not each take a buffer. It took no room, so a
  // remote sender gets its credit back at once.
  if (!end && !q.items.empty() && !q.items.back().end &&
      q.items.back().buffer.size() + buffer.size() <= segment_size_) {
    q.written += buffer.size();
    q.queued_bytes += buffer.size();
    q.items.back().buffer += buffer;
    CallUnlocked(q.consumed);
    return absl::OkStatus();
  }
  // End-of-partition markers never wait: they carry no data.
  auto has_room = [this, &q, end]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return end || q.in_flight < capacity_ || cancelled_->load();
  };
  while (!has_room()) mu_.AwaitWithTimeout(absl::Condition(&has_room), absl::Milliseconds(50));
  if (cancelled_->load()) return absl::CancelledError("the job is being cancelled");
  if (end) {
    q.items.push_back(Item{{}, true, false});
    ++queued_;
    MarkReady(channel);
  } else {
    Enqueue(channel, std::move(buffer), true);
  }
  return absl::OkStatus();
}

void InputGate::Enqueue(int channel, std::string buffer, bool counted) {
  Queue& q = queues_[channel];
  q.written += buffer.size();
  q.queued_bytes += buffer.size();
  if (counted) ++q.in_flight;
  q.items.push_back(Item{std::move(buffer), false, counted});
  ++queued_;
  MarkReady(channel);
}

// The producer's rest joins without room (it is at most one buffer per
// checkpoint) and without taking a credit, so none is returned for it.
absl::Status InputGate::PushPriority(int channel, std::string data, const ChannelEvent& barrier) {
  absl::MutexLock lock(&mu_);
  if (cancelled_->load()) return absl::CancelledError("the job is being cancelled");
  if (!data.empty()) Enqueue(channel, std::move(data), false);
  Delivery d;
  d.channel = channel;
  d.priority = barrier;
  d.cut = queues_[channel].written;
  priority_.push_back(std::move(d));
  has_priority_.store(true, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::StatusOr<std::string> InputGate::CopyQueued(int channel, uint64_t cut) const {
  absl::MutexLock lock(&mu_);
  const Queue& q = queues_[channel];
  uint64_t position = q.written - q.queued_bytes;  // the consumer's
  if (cut < position) {
    return absl::DataLossError(absl::StrCat("input channel ", channel, " was processed ",
                                            position - cut, " bytes past its barrier"));
  }
  std::string copy;
  for (const Item& item : q.items) {
    if (position >= cut) break;
    const uint64_t take = std::min<uint64_t>(item.buffer.size(), cut - position);
    copy.append(item.buffer, 0, take);
    position += take;
  }
  return copy;
}

std::optional<InputGate::Delivery> InputGate::Next(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  while (true) {
    auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !ready_.empty() || !priority_.empty() || cancelled_->load() || interrupted_;
    };
    mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
    if (interrupted_) {
      interrupted_ = false;
      return std::nullopt;
    }
    if (cancelled_->load()) return std::nullopt;
    if (!priority_.empty()) {
      Delivery d = std::move(priority_.front());
      priority_.pop_front();
      has_priority_.store(!priority_.empty(), std::memory_order_relaxed);
      return d;
    }
    if (ready_.empty()) return std::nullopt;
    const int channel = ready_.front();
    ready_.pop_front();
    Queue& q = queues_[channel];
    q.listed = false;
    if (q.blocked || q.items.empty()) continue;  // blocked after it was listed
    Item item = std::move(q.items.front());
    q.items.pop_front();
    q.queued_bytes -= item.buffer.size();
    --queued_;
    MarkReady(channel);  // behind the other channels: they take turns
    if (item.counted) {
      --q.in_flight;
      CallUnlocked(q.consumed);
    }
    Delivery d;
    d.channel = channel;
    d.buffer = std::move(item.buffer);
    d.end_of_partition = item.end;
    return d;
  }
}

void InputGate::Block(int channel) {
  absl::MutexLock lock(&mu_);
  queues_[channel].blocked = true;
}

void InputGate::Unblock(int channel) {
  absl::MutexLock lock(&mu_);
  queues_[channel].blocked = false;
  MarkReady(channel);
}

void InputGate::PushFront(int channel, std::string rest) {
  absl::MutexLock lock(&mu_);
  queues_[channel].queued_bytes += rest.size();
  queues_[channel].items.push_front(Item{std::move(rest), false, false});
  ++queued_;
  MarkReady(channel);
}

void InputGate::Replay(int channel, std::string data) {
  absl::MutexLock lock(&mu_);
  Queue& q = queues_[channel];
  q.written += data.size();
  q.queued_bytes += data.size();
  q.items.push_front(Item{std::move(data), false, false});
  ++queued_;
  MarkReady(channel);
}

void InputGate::Interrupt() {
  absl::MutexLock lock(&mu_);
  interrupted_ = true;
}

void InputGate::Wake() {
  absl::MutexLock lock(&mu_);  // conditions are re-evaluated on unlock
}

// Buffers hold whole elements, so each can be read on its own.
std::optional<std::string> InputGate::QueuedBeforeBarrier(int channel, int64_t id) const {
  absl::MutexLock lock(&mu_);
  std::string before;
  for (const Item& item : queues_[channel].items) {
    ElementReader elements(item.buffer);
    ElementReader::Kind kind;
    std::string_view record;
    ChannelEvent event;
    size_t at = 0;
    while (elements.Next(&kind, &record, &event).ok() && kind != ElementReader::Kind::kEnd) {
      if (kind == ElementReader::Kind::kEvent && event.kind == EventKind::kCheckpointBarrier &&
          event.id == id) {
        before.append(item.buffer, 0, at);
        return before;
      }
      at = item.buffer.size() - elements.rest().size();
    }
    before += item.buffer;
  }
  return std::nullopt;
}

double InputGate::Usage(int channel) const {
  absl::MutexLock lock(&mu_);
  return static_cast<double>(queues_[channel].in_flight) / capacity_;
}

bool InputGate::HasRoom(int channel) const {
  absl::MutexLock lock(&mu_);
  return queues_[channel].in_flight < capacity_;
}

void InputGate::AwaitRoom(int channel, absl::Duration at_most) const {
  absl::MutexLock lock(&mu_);
  auto room = [this, channel]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return queues_[channel].in_flight < capacity_ || cancelled_->load();
  };
  mu_.AwaitWithTimeout(absl::Condition(&room), at_most);
}

int InputGate::queued() const {
  absl::MutexLock lock(&mu_);
  return queued_;
}

}  // namespace sluice::engine
