#include "engine/input_gate.h"

#include <utility>

namespace sluice::engine {

class InputGate::Sink final : public ChannelSink {
 public:
  Sink(InputGate* gate, int index) : gate_(gate), index_(index) {}
  absl::Status Write(std::string buffer) override {
    return gate_->Push(index_, std::move(buffer), false);
  }
  absl::Status Close() override { return gate_->Push(index_, {}, true); }
  double usage() const override { return gate_->Usage(index_); }

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
  if (!end) ++q.in_flight;
  q.items.push_back(Item{std::move(buffer), end, !end});
  ++queued_;
  MarkReady(channel);
  return absl::OkStatus();
}

std::optional<InputGate::Delivery> InputGate::Next(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  while (true) {
    auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !ready_.empty() || cancelled_->load() || interrupted_;
    };
    mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
    if (interrupted_) {
      interrupted_ = false;
      return std::nullopt;
    }
    if (cancelled_->load() || ready_.empty()) return std::nullopt;
    const int channel = ready_.front();
    ready_.pop_front();
    Queue& q = queues_[channel];
    q.listed = false;
    if (q.blocked || q.items.empty()) continue;  // blocked after it was listed
    Item item = std::move(q.items.front());
    q.items.pop_front();
    --queued_;
    MarkReady(channel);  // behind the other channels: they take turns
    if (item.counted) {
      --q.in_flight;
      CallUnlocked(q.consumed);
    }
    return Delivery{channel, std::move(item.buffer), item.end};
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
  queues_[channel].items.push_front(Item{std::move(rest), false, false});
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

double InputGate::Usage(int channel) const {
  absl::MutexLock lock(&mu_);
  return static_cast<double>(queues_[channel].in_flight) / capacity_;
}

int InputGate::queued() const {
  absl::MutexLock lock(&mu_);
  return queued_;
}

}  // namespace sluice::engine
