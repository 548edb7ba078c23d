#include "engine/input_gate.h"

#include <utility>

namespace sluice::engine {

class InputGate::Channel final : public ChannelSink {
 public:
  Channel(InputGate* gate, int index) : gate_(gate), index_(index) {}
  void Write(std::string buffer) override { gate_->Push(index_, std::move(buffer), false); }
  void Close() override { gate_->Push(index_, {}, true); }
  double usage() const override { return gate_->Usage(index_); }

 private:
  InputGate* gate_;
  int index_;
};

InputGate::InputGate(int buffers_per_channel, const std::atomic<bool>* cancelled)
    : capacity_(buffers_per_channel), cancelled_(cancelled) {}

InputGate::~InputGate() = default;

ChannelSink* InputGate::AddChannel() {
  absl::MutexLock lock(&mu_);
  int index = static_cast<int>(channels_.size());
  channels_.push_back(std::make_unique<Channel>(this, index));
  in_flight_.push_back(0);
  consumed_.emplace_back();
  last_queued_.push_back(nullptr);
  return channels_.back().get();
}

void InputGate::OnConsumed(int channel, std::function<void()> consumed) {
  absl::MutexLock lock(&mu_);
  consumed_[channel] = std::move(consumed);
}

void InputGate::Push(int channel, std::string buffer, bool end) {
  absl::MutexLock lock(&mu_);
  // A small buffer joins the channel's last one if the consumer has not taken
  // it yet (records are length-prefixed, so buffers concatenate): records
  // flushed one at a time do not each take a buffer. It took no room, so a
  // remote sender gets its credit back at once.
  Event* last = last_queued_[channel];
  if (!end && last != nullptr && last->buffer.size() + buffer.size() <= kMergeBytes) {
    last->buffer += buffer;
    if (auto consumed = consumed_[channel]) {
      mu_.Unlock();
      consumed();
      mu_.Lock();
    }
    return;
  }
  // End-of-partition markers never wait: they carry no data.
  auto has_room = [this, channel, end]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return end || in_flight_[channel] < capacity_ || cancelled_->load();
  };
  while (!has_room()) mu_.AwaitWithTimeout(absl::Condition(&has_room), absl::Milliseconds(50));
  if (cancelled_->load()) throw TaskCancelled{};
  if (!end) ++in_flight_[channel];
  queue_.push_back(Event{channel, std::move(buffer), end});
  last_queued_[channel] = end ? nullptr : &queue_.back();  // deque: stays valid until popped
}

std::optional<InputGate::Event> InputGate::Next(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || cancelled_->load();
  };
  mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
  if (cancelled_->load()) throw TaskCancelled{};
  if (queue_.empty()) return std::nullopt;
  if (last_queued_[queue_.front().channel] == &queue_.front()) {
    last_queued_[queue_.front().channel] = nullptr;
  }
  Event event = std::move(queue_.front());
  queue_.pop_front();
  if (event.end_of_partition) return event;
  --in_flight_[event.channel];
  if (auto& consumed = consumed_[event.channel]) {
    auto callback = consumed;
    mu_.Unlock();
    callback();
    mu_.Lock();
  }
  return event;
}

void InputGate::Wake() {
  absl::MutexLock lock(&mu_);  // conditions are re-evaluated on unlock
}

double InputGate::Usage(int channel) const {
  absl::MutexLock lock(&mu_);
  return static_cast<double>(in_flight_[channel]) / capacity_;
}

int InputGate::queued() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(queue_.size());
}

}  // namespace sluice::engine
