// Data exchange between TaskManagers. Each TaskManager serves a data port
// (`taskmanager.data.port`); all channels from one TaskManager to another,
// of every job, share one TCP connection, as framed buffers tagged with their
// stream (see data_protocol.h). Flow control is credit-based: the receiver
// grants each channel as many credits as it has buffers for it, and one more
// each time its subtask has consumed a buffer; the sender sends only against
// credit, so a slow consumer backpressures its producers and memory stays
// bounded on both sides.
#ifndef SLUICE_TASKMANAGER_DATA_EXCHANGE_H_
#define SLUICE_TASKMANAGER_DATA_EXCHANGE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/input_gate.h"
#include "engine/local_job.h"
#include "taskmanager/data_connection.h"
#include "taskmanager/data_server.h"

namespace sluice {

struct DataExchangeOptions {
  std::string bind_host = "127.0.0.1";
  int port = 0;                               // taskmanager.data.port; 0: any free port
  std::string advertised_host = "localhost";  // how other TaskManagers reach this one
  int credits_per_channel = 2;                // taskmanager.network.buffers-per-channel
  absl::Duration connect_timeout = absl::Seconds(10);
  // In a job process (taskmanager.isolation: process): the job whose
  // channels its connections carry, and no data port of its own: its
  // TaskManager accepts the connections and hands them over (Adopt).
  std::string job_scope;
};

// Where a subtask of a job runs: its TaskManager's id and data address.
struct SubtaskLocation {
  std::string task_manager_id;
  std::string data_address;
};
using JobLocations = std::map<std::pair<int, int>, SubtaskLocation>;  // (vertex, subtask)

class DataExchange final : public DataRouter {
 public:
  static absl::StatusOr<std::unique_ptr<DataExchange>> Start(DataExchangeOptions options);
  ~DataExchange() override;  // Stop()s

  // Closes the data port and every connection; connecting fails from now on.
  // Call once no job runs here any more. Idempotent.
  void Stop();

  // Set once the TaskManager knows its id.
  void SetId(std::string task_manager_id) { id_ = std::move(task_manager_id); }
  const std::string& id() const { return id_; }
  // host:port of the data port, for the other TaskManagers.
  const std::string& address() const { return address_; }
  int credits_per_channel() const { return options_.credits_per_channel; }

  // The placement of one job's subtasks, seen from this TaskManager.
  std::unique_ptr<engine::Placement> PlacementFor(const std::string& job_id,
                                                  JobLocations locations);
  // Drops a job's incoming channels: buffers for it are ignored from now on.
  // Call before its gates go away.
  void StopReceiving(const std::string& job_id);
  // The shared connection to a TaskManager's data port (reconnects if the
  // last one broke); throws std::runtime_error if it cannot connect.
  std::shared_ptr<DataConnection> ConnectionTo(const std::string& address);
  const data::Traffic& traffic() const { return traffic_; }

  // In a job process: serves a connection its TaskManager accepted, whose
  // hello (from `sender`) is read already; `buffered` is what followed it.
  void Adopt(net::Fd fd, std::string buffered, std::string sender, std::string peer);
  // In a TaskManager with job processes: where a connection whose hello
  // names a job goes (the job's process); false: it is closed.
  using HandOffTo = std::function<bool(const std::string& job, net::Fd& fd,
                                       const std::string& buffered, const std::string& sender)>;
  void SetHandOff(HandOffTo hand_off) { hand_off_ = std::move(hand_off); }

  // DataRouter
  bool HandOff(const std::string& job, net::Fd& fd, const std::string& buffered,
               const std::string& sender) override;
  int Open(const std::string& sender, const std::string& job, int channel,
           std::shared_ptr<CreditReturn> credits) override;
  void DeliverPriority(const std::string& job, int channel, std::string data,
                       const engine::ChannelEvent& barrier) override;
  void Deliver(const std::string& job, int channel, std::string buffer,
               bool end_of_partition) override;

 private:
  class JobPlacement;
  struct Inbound {
    engine::InputGate* gate = nullptr;
    int gate_channel = 0;
    engine::ChannelSink* sink = nullptr;
    std::string sender;  // the TaskManager id the channel comes from
  };
  explicit DataExchange(DataExchangeOptions options) : options_(std::move(options)) {}
  void AddInbound(const std::string& job, int channel, Inbound inbound);

  const DataExchangeOptions options_;
  std::string id_;
  std::string address_;
  data::Traffic traffic_;
  std::unique_ptr<DataServer> server_;
  HandOffTo hand_off_;  // set before connections arrive
  absl::Mutex mu_;
  std::map<std::string, std::map<int, Inbound>> inbound_ ABSL_GUARDED_BY(mu_);
  absl::Mutex connections_mu_;
  std::map<std::string, std::shared_ptr<DataConnection>> connections_
      ABSL_GUARDED_BY(connections_mu_);
  bool stopped_ ABSL_GUARDED_BY(connections_mu_) = false;
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_DATA_EXCHANGE_H_
