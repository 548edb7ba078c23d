// Data exchange between TaskManagers. For each job and pair of TaskManagers,
// the sending side opens one stream that carries the buffers of every channel
// between them, tagged with the channel id. Flow control is credit-based: the
// receiver grants each channel as many credits as it has buffers for it, and
// one more each time its subtask has consumed a buffer; the sender sends only
// against credit, so a slow consumer backpressures its producers and memory
// stays bounded on both sides.
#ifndef SLUICE_TASKMANAGER_DATA_EXCHANGE_H_
#define SLUICE_TASKMANAGER_DATA_EXCHANGE_H_

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/input_gate.h"
#include "engine/local_job.h"
#include "sluice/v1/taskmanager.grpc.pb.h"

namespace sluice {

class DataExchange final : public v1::DataExchange::CallbackService {
 public:
  explicit DataExchange(int credits_per_channel);
  // Set once the TaskManager knows its id (after binding its port).
  void SetId(std::string task_manager_id) { id_ = std::move(task_manager_id); }
  ~DataExchange() override;

  // The placement of one job's subtasks, seen from this TaskManager:
  // `where` maps (vertex, subtask) to (TaskManager id, address).
  std::unique_ptr<engine::Placement> PlacementFor(
      const std::string& job_id,
      std::map<std::pair<int, int>, std::pair<std::string, std::string>> where);
  // Drops a job's incoming channels: frames for it are ignored from now on.
  // Call before its gates go away.
  void StopReceiving(const std::string& job_id);
  // Also closes its outgoing streams. Call once its tasks have stopped.
  void Forget(const std::string& job_id);
  // Feeds a frame into its channel's gate (internal, for the streams).
  void Deliver(const std::string& job, v1::DataFrame& frame);

  grpc::ServerBidiReactor<v1::DataFrame, v1::CreditFrame>* Exchange(
      grpc::CallbackServerContext* context) override;

  // For the streams (internal).
  struct Inbound {
    engine::InputGate* gate = nullptr;
    int gate_channel = 0;
    ChannelSink* sink = nullptr;
    std::string sender;
  };
  class Receiver;
  class Sender;
  class JobPlacement;
  struct CreditLink;
  std::vector<std::pair<int, Inbound*>> InboundFrom(const std::string& job,
                                                    const std::string& sender);
  void Attach(const std::string& job, int channel, std::shared_ptr<CreditLink> link);
  const std::string& id() const { return id_; }
  int credits() const { return credits_; }
  Sender* SenderTo(const std::string& job, const std::string& address);

 private:
  std::string id_;
  const int credits_;
  absl::Mutex mu_;
  std::map<std::string, std::map<int, Inbound>> inbound_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Sender>> senders_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_DATA_EXCHANGE_H_
