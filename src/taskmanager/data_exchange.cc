#include "taskmanager/data_exchange.h"

#include <deque>

#include "absl/strings/str_cat.h"
#include "common/rpc/channel.h"
#include "common/rpc/session_stream.h"
#include "spdlog/spdlog.h"

namespace sluice {

// Sends the buffers of all channels of one job to one other TaskManager.
class DataExchange::Sender {
 public:
  Sender(const std::string& job, const std::string& self, const std::string& address)
      : stub_(v1::DataExchange::NewStub(CreateChannel(address, absl::Seconds(1)))) {
    stream_ = std::make_unique<SessionStream<v1::DataFrame, v1::CreditFrame>>(
        [this](grpc::ClientContext* context, auto* reactor) {
          stub_->async()->Exchange(context, reactor);
        },
        [this](v1::CreditFrame credit) {
          absl::MutexLock lock(&mu_);
          credits_[credit.channel()] += credit.credits();
        },
        [this, address](const grpc::Status& status) {
          absl::MutexLock lock(&mu_);
          broken_ = true;
          if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
            spdlog::warn("Data stream to {} ended: {}", address, status.error_message());
          }
        });
    v1::DataFrame hello;
    hello.set_job_id(job);
    hello.set_sender(self);
    hello.set_channel(-1);
    stream_->Start(std::move(hello));
  }
  ~Sender() {
    stream_->Cancel();
    stream_->WaitDone();
  }

  // Blocks until the channel has credit (backpressure), then sends.
  void Send(int channel, std::string buffer, const std::atomic<bool>* cancelled) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this, channel, cancelled]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return credits_[channel] > 0 || broken_ || cancelled->load();
      };
      while (!ready()) mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(50));
      if (cancelled->load()) throw engine::TaskCancelled{};
      if (broken_) throw std::runtime_error("the data stream to a downstream TaskManager broke");
      --credits_[channel];
    }
    v1::DataFrame frame;
    frame.set_channel(channel);
    frame.set_buffer(std::move(buffer));
    stream_->Send(std::move(frame));
  }
  void End(int channel) {
    v1::DataFrame frame;
    frame.set_channel(channel);
    frame.set_end_of_partition(true);
    stream_->Send(std::move(frame));
  }

 private:
  std::unique_ptr<v1::DataExchange::Stub> stub_;
  std::unique_ptr<SessionStream<v1::DataFrame, v1::CreditFrame>> stream_;
  absl::Mutex mu_;
  std::map<int, int> credits_ ABSL_GUARDED_BY(mu_);
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
};

// Lets a gate return credits to the stream its buffers came on, as long as
// that stream lives.
struct DataExchange::CreditLink {
  absl::Mutex mu;
  Receiver* receiver ABSL_GUARDED_BY(mu) = nullptr;
  void Grant(int channel);
};

// Receives one sender's stream and feeds its buffers into the gates.
class DataExchange::Receiver final
    : public grpc::ServerBidiReactor<v1::DataFrame, v1::CreditFrame> {
 public:
  explicit Receiver(DataExchange* exchange)
      : exchange_(exchange), link_(std::make_shared<CreditLink>()) {
    {
      absl::MutexLock lock(&link_->mu);
      link_->receiver = this;
    }
    StartRead(&frame_);
  }

  void Grant(int channel, int credits) {
    absl::MutexLock lock(&mu_);
    if (done_) return;
    v1::CreditFrame credit;
    credit.set_channel(channel);
    credit.set_credits(credits);
    outbox_.push_back(std::move(credit));
    if (!writing_) {
      writing_ = true;
      StartWrite(&outbox_.front());
    }
  }

 private:
  void OnReadDone(bool ok) override {
    if (!ok) {
      Close();
      return;
    }
    if (frame_.channel() < 0) {
      job_ = frame_.job_id();
      for (auto& [channel, inbound] : exchange_->InboundFrom(job_, frame_.sender())) {
        exchange_->Attach(job_, channel, link_);
        Grant(channel, exchange_->credits());
      }
    } else {
      exchange_->Deliver(job_, frame_);
    }
    StartRead(&frame_);
  }
  void OnWriteDone(bool) override {
    absl::MutexLock lock(&mu_);
    outbox_.pop_front();
    if (!outbox_.empty() && !done_) {
      StartWrite(&outbox_.front());
    } else {
      writing_ = false;
      MaybeFinish();
    }
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    done_ = true;
    MaybeFinish();
  }
  void MaybeFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (done_ && !writing_ && !finished_) {
      finished_ = true;
      Finish(grpc::Status::OK);
    }
  }
  void OnDone() override {
    {
      absl::MutexLock lock(&link_->mu);
      link_->receiver = nullptr;  // credits for this stream go nowhere now
    }
    delete this;
  }

  DataExchange* const exchange_;
  const std::shared_ptr<CreditLink> link_;
  v1::DataFrame frame_;
  std::string job_;
  absl::Mutex mu_;
  std::deque<v1::CreditFrame> outbox_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

void DataExchange::CreditLink::Grant(int channel) {
  absl::MutexLock lock(&mu);
  if (receiver != nullptr) receiver->Grant(channel, 1);
}

// The ChannelSink of a remote channel. Its stream opens on first use, which
// is after every TaskManager of the job has wired its inputs.
class RemoteChannel final : public ChannelSink {
 public:
  RemoteChannel(DataExchange* exchange, std::string job, std::string address, int channel,
                const std::atomic<bool>* cancelled)
      : exchange_(exchange),
        job_(std::move(job)),
        address_(std::move(address)),
        channel_(channel),
        cancelled_(cancelled) {}
  void Write(std::string buffer) override {
    sender()->Send(channel_, std::move(buffer), cancelled_);
  }
  void Close() override { sender()->End(channel_); }

 private:
  DataExchange::Sender* sender() {
    if (sender_ == nullptr) sender_ = exchange_->SenderTo(job_, address_);
    return sender_;
  }
  DataExchange* exchange_;
  std::string job_;
  std::string address_;
  int channel_;
  const std::atomic<bool>* cancelled_;
  DataExchange::Sender* sender_ = nullptr;
};

class DataExchange::JobPlacement final : public engine::Placement {
 public:
  JobPlacement(DataExchange* exchange, std::string job,
               std::map<std::pair<int, int>, std::pair<std::string, std::string>> where)
      : exchange_(exchange), job_(std::move(job)), where_(std::move(where)) {}

  bool IsLocal(int vertex, int subtask) const override {
    auto it = where_.find({vertex, subtask});
    return it != where_.end() && it->second.first == exchange_->id();
  }
  ChannelSink* RemoteOutput(int channel, int vertex, int subtask) override {
    outputs_.push_back(std::make_unique<RemoteChannel>(
        exchange_, job_, where_.at({vertex, subtask}).second, channel, &cancelled_));
    return outputs_.back().get();
  }
  void RemoteInput(int channel, int vertex, int subtask, engine::InputGate* gate, int gate_channel,
                   ChannelSink* sink) override {
    absl::MutexLock lock(&exchange_->mu_);
    exchange_->inbound_[job_][channel] =
        Inbound{gate, gate_channel, sink, where_.at({vertex, subtask}).first};
  }
  void Cancel() override { cancelled_ = true; }

 private:
  DataExchange* exchange_;
  std::string job_;
  std::map<std::pair<int, int>, std::pair<std::string, std::string>> where_;
  std::vector<std::unique_ptr<RemoteChannel>> outputs_;
  std::atomic<bool> cancelled_{false};
};

DataExchange::DataExchange(int credits_per_channel) : credits_(credits_per_channel) {}

DataExchange::~DataExchange() = default;

std::unique_ptr<engine::Placement> DataExchange::PlacementFor(
    const std::string& job_id,
    std::map<std::pair<int, int>, std::pair<std::string, std::string>> where) {
  return std::make_unique<JobPlacement>(this, job_id, std::move(where));
}

DataExchange::Sender* DataExchange::SenderTo(const std::string& job, const std::string& address) {
  absl::MutexLock lock(&mu_);
  auto& sender = senders_[{job, address}];
  if (!sender) sender = std::make_unique<Sender>(job, id_, address);
  return sender.get();
}

void DataExchange::Deliver(const std::string& job, v1::DataFrame& frame) {
  // Under the lock, so StopReceiving() cannot remove the gate meanwhile. The
  // write does not block: the sender had credit for it.
  absl::MutexLock lock(&mu_);
  auto j = inbound_.find(job);
  if (j == inbound_.end()) return;
  auto c = j->second.find(frame.channel());
  if (c == j->second.end()) return;
  try {
    if (frame.end_of_partition()) {
      c->second.sink->Close();
    } else {
      c->second.sink->Write(std::move(*frame.mutable_buffer()));
    }
  } catch (const engine::TaskCancelled&) {
    // The receiving job is being cancelled.
  }
}

void DataExchange::StopReceiving(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  inbound_.erase(job_id);
}

void DataExchange::Forget(const std::string& job_id) {
  StopReceiving(job_id);
  std::vector<std::unique_ptr<Sender>> closing;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = senders_.begin(); it != senders_.end();) {
      if (it->first.first == job_id) {
        closing.push_back(std::move(it->second));
        it = senders_.erase(it);
      } else {
        ++it;
      }
    }
  }
  closing.clear();  // cancels and waits for the streams outside the lock
}

std::vector<std::pair<int, DataExchange::Inbound*>> DataExchange::InboundFrom(
    const std::string& job, const std::string& sender) {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<int, Inbound*>> out;
  for (auto& [channel, inbound] : inbound_[job]) {
    if (inbound.sender == sender) out.emplace_back(channel, &inbound);
  }
  return out;
}

void DataExchange::Attach(const std::string& job, int channel, std::shared_ptr<CreditLink> link) {
  absl::MutexLock lock(&mu_);  // the gate cannot go away meanwhile (see StopReceiving)
  auto j = inbound_.find(job);
  if (j == inbound_.end()) return;
  auto c = j->second.find(channel);
  if (c == j->second.end()) return;
  c->second.gate->OnConsumed(c->second.gate_channel,
                             [link = std::move(link), channel] { link->Grant(channel); });
}

grpc::ServerBidiReactor<v1::DataFrame, v1::CreditFrame>* DataExchange::Exchange(
    grpc::CallbackServerContext*) {
  return new Receiver(this);
}

}  // namespace sluice
