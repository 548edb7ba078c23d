#include "taskmanager/data_exchange.h"

#include <stdexcept>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/rpc/grpc_server.h"
#include "spdlog/spdlog.h"

namespace sluice {

// The ChannelSink of a remote channel. It connects on first use, which is
// after every TaskManager of the job has wired its inputs.
class RemoteChannel final : public engine::ChannelSink {
 public:
  RemoteChannel(DataExchange* exchange, std::string job, std::string address, int channel,
                const std::atomic<bool>* cancelled)
      : exchange_(exchange),
        job_(std::move(job)),
        address_(std::move(address)),
        channel_(channel),
        cancelled_(cancelled) {}
  ~RemoteChannel() override {
    if (connection_) connection_->CloseStream(stream_);
  }
  absl::Status Write(std::string buffer) override {
    return Guarded([&] { Connection()->Send(stream_, std::move(buffer), cancelled_); });
  }
  absl::Status Close() override {
    return Guarded([&] { Connection()->End(stream_, cancelled_); });
  }
  absl::Status WritePriority(std::string data, const engine::ChannelEvent& barrier) override {
    return Guarded(
        [&] { Connection()->SendPriority(stream_, std::move(data), barrier, cancelled_); });
  }
  // Nothing waits for credit: a Write goes out or joins the pending buffer.
  bool HasRoom() const override {
    return connection_ == nullptr || connection_->pending_bytes(stream_) == 0;
  }
  void AwaitRoom(absl::Duration at_most) override {
    if (connection_ != nullptr) connection_->AwaitNothingPending(stream_, at_most);
  }
  // Buffers sent but not yet consumed downstream: the credits not returned.
  double usage() const override {  // on the metrics thread
    DataConnection* connection = connected_.load(std::memory_order_acquire);
    if (connection == nullptr) return 0;
    const int capacity = exchange_->credits_per_channel();
    return static_cast<double>(capacity - std::min(capacity, connection->credits(stream_))) /
           capacity;
  }

 private:
  // The connection's failures as a status for the task: never an exception
  // through the operators that emitted the records.
  template <typename F>
  absl::Status Guarded(F&& send) {
    try {
      send();
      return absl::OkStatus();
    } catch (const SendCancelled&) {
      return absl::CancelledError("the job is being cancelled");
    } catch (const std::exception& e) {
      return absl::UnavailableError(e.what());
    }
  }
  DataConnection* Connection() {
    if (!connection_) {
      auto connection = exchange_->ConnectionTo(address_);
      stream_ = connection->OpenStream(job_, channel_);
      connection_ = std::move(connection);
      connected_.store(connection_.get(), std::memory_order_release);
    }
    return connection_.get();
  }

  DataExchange* const exchange_;
  const std::string job_;
  const std::string address_;
  const int channel_;
  const std::atomic<bool>* cancelled_;
  std::shared_ptr<DataConnection> connection_;
  std::atomic<DataConnection*> connected_{nullptr};  // connection_, for usage()
  uint32_t stream_ = 0;
};

class DataExchange::JobPlacement final : public engine::Placement {
 public:
  JobPlacement(DataExchange* exchange, std::string job, JobLocations locations)
      : exchange_(exchange), job_(std::move(job)), locations_(std::move(locations)) {}

  bool IsLocal(int vertex, int subtask) const override {
    auto it = locations_.find({vertex, subtask});
    return it != locations_.end() && it->second.task_manager_id == exchange_->id();
  }
  engine::ChannelSink* RemoteOutput(int channel, int vertex, int subtask) override {
    outputs_.push_back(std::make_unique<RemoteChannel>(
        exchange_, job_, locations_.at({vertex, subtask}).data_address, channel, &cancelled_));
    return outputs_.back().get();
  }
  void RemoteInput(int channel, int vertex, int subtask, engine::InputGate* gate, int gate_channel,
                   engine::ChannelSink* sink) override {
    exchange_->AddInbound(
        job_, channel,
        Inbound{gate, gate_channel, sink, locations_.at({vertex, subtask}).task_manager_id});
  }
  void Cancel() override { cancelled_ = true; }

 private:
  DataExchange* const exchange_;
  const std::string job_;
  const JobLocations locations_;
  std::vector<std::unique_ptr<RemoteChannel>> outputs_;
  std::atomic<bool> cancelled_{false};
};

absl::StatusOr<std::unique_ptr<DataExchange>> DataExchange::Start(DataExchangeOptions options) {
  std::unique_ptr<DataExchange> exchange(new DataExchange(std::move(options)));
  if (!exchange->options_.job_scope.empty()) {  // a job process: connections come by Adopt()
    exchange->server_ = DataServer::WithoutPort(exchange.get(), &exchange->traffic_);
    return exchange;
  }
  auto server = DataServer::Start(exchange->options_.bind_host, exchange->options_.port,
                                  exchange.get(), &exchange->traffic_);
  if (!server.ok()) return server.status();
  exchange->server_ = *std::move(server);
  exchange->address_ = HostPort(exchange->options_.advertised_host, exchange->server_->port());
  return exchange;
}

DataExchange::~DataExchange() { Stop(); }

void DataExchange::Adopt(net::Fd fd, std::string buffered, std::string sender, std::string peer) {
  if (server_)
    server_->Adopt(std::move(fd), std::move(peer), std::move(sender), std::move(buffered));
}

bool DataExchange::HandOff(const std::string& job, net::Fd& fd, const std::string& buffered,
                           const std::string& sender) {
  // Without job processes here, a job-scoped connection is served like any.
  return hand_off_ && hand_off_(job, fd, buffered, sender);
}

void DataExchange::Stop() {
  server_.reset();  // no more deliveries
  absl::MutexLock lock(&connections_mu_);
  stopped_ = true;
  connections_.clear();
}

std::unique_ptr<engine::Placement> DataExchange::PlacementFor(const std::string& job_id,
                                                              JobLocations locations) {
  return std::make_unique<JobPlacement>(this, job_id, std::move(locations));
}

std::shared_ptr<DataConnection> DataExchange::ConnectionTo(const std::string& address) {
  {
    absl::MutexLock lock(&connections_mu_);
    if (stopped_) throw std::runtime_error("the TaskManager's data exchange is stopped");
    auto& connection = connections_[address];
    if (connection && !connection->broken()) return connection;
  }
  // Connect without the lock: tasks bound for other TaskManagers need not
  // wait for this one's connect timeout.
  auto opened = DataConnection::Open(address, data::Hello{id_, options_.job_scope},
                                     options_.connect_timeout, &traffic_);
  if (!opened.ok()) throw std::runtime_error(std::string(opened.status().message()));
  absl::MutexLock lock(&connections_mu_);
  if (stopped_) throw std::runtime_error("the TaskManager's data exchange is stopped");
  auto& connection = connections_[address];
  // If another task connected meanwhile, its connection wins; ours closes.
  if (!connection || connection->broken()) connection = *std::move(opened);
  return connection;
}

void DataExchange::AddInbound(const std::string& job, int channel, Inbound inbound) {
  absl::MutexLock lock(&mu_);
  inbound_[job][channel] = std::move(inbound);
}

int DataExchange::Open(const std::string& sender, const std::string& job, int channel,
                       std::shared_ptr<CreditReturn> credits) {
  absl::MutexLock lock(&mu_);  // the gate cannot go away meanwhile (see StopReceiving)
  auto j = inbound_.find(job);
  if (j == inbound_.end()) return 0;  // the job is gone or never ran here
  auto it = j->second.find(channel);
  if (it == j->second.end()) return 0;
  if (it->second.sender != sender) {
    spdlog::warn("TaskManager '{}' opened channel {} of job {}, which comes from '{}'", sender,
                 channel, job, it->second.sender);
    return 0;
  }
  it->second.gate->OnConsumed(it->second.gate_channel,
                              [credits = std::move(credits)] { credits->Grant(1); });
  return options_.credits_per_channel;
}

void DataExchange::Deliver(const std::string& job, int channel, std::string buffer,
                           bool end_of_partition) {
  // Under the lock, so StopReceiving() cannot remove the gate meanwhile. The
  // write does not block: the sender had credit for it.
  absl::MutexLock lock(&mu_);
  auto j = inbound_.find(job);
  if (j == inbound_.end()) return;
  auto c = j->second.find(channel);
  if (c == j->second.end()) return;
  // A CANCELLED status: the receiving job is being cancelled; nothing to do.
  if (end_of_partition) {
    c->second.sink->Close().IgnoreError();
  } else {
    c->second.sink->Write(std::move(buffer)).IgnoreError();
  }
}

void DataExchange::DeliverPriority(const std::string& job, int channel, std::string data,
                                   const engine::ChannelEvent& barrier) {
  absl::MutexLock lock(&mu_);
  auto j = inbound_.find(job);
  if (j == inbound_.end()) return;
  auto c = j->second.find(channel);
  if (c == j->second.end()) return;
  c->second.sink->WritePriority(std::move(data), barrier).IgnoreError();
}

void DataExchange::StopReceiving(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  inbound_.erase(job_id);
}

}  // namespace sluice
