// A running TaskManager: its slots, its RPC endpoint, its metrics, and the
// session with the ResourceManager that registers it and carries heartbeats
// with the slot report. Tasks arrive with the streaming engine.
#ifndef SLUICE_TASKMANAGER_TASK_MANAGER_H_
#define SLUICE_TASKMANAGER_TASK_MANAGER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/config/config.h"
#include "common/daemon.h"
#include "common/metrics/metrics_endpoint.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/session_keeper.h"
#include "prometheus/gauge.h"
#include "sluice/v1/resourcemanager.grpc.pb.h"
#include "sluice/v1/taskmanager.grpc.pb.h"
#include "taskmanager/task_manager_spec.h"

namespace sluice {

class TaskManager final : public Daemon, private v1::TaskExecutor::CallbackService {
 public:
  static absl::StatusOr<std::unique_ptr<TaskManager>> Start(const Config& config);
  ~TaskManager() override;

  // Deregisters from the ResourceManager, so the slots leave at once, and stops.
  void Shutdown() override;

  const TaskManagerSpec& spec() const { return spec_; }
  int rpc_port() const { return grpc_.port; }
  int metrics_port() const { return metrics_.http().port(); }
  bool registered() const { return keeper_ && keeper_->registered(); }

 private:
  TaskManager() = default;
  void StartSession(const Config& config);
  v1::TaskManagerMessage RegisterMessage() const;
  v1::TaskManagerMessage HeartbeatMessage(uint64_t sequence) const;
  std::vector<SlotState> SlotReport() const;
  grpc::ServerUnaryReactor* GetSlotReport(grpc::CallbackServerContext* context,
                                          const v1::GetSlotReportRequest* request,
                                          v1::SlotReport* response) override;

  TaskManagerSpec spec_;
  MetricsEndpoint metrics_;
  prometheus::Gauge* registered_gauge_ = nullptr;
  RunningGrpcServer grpc_;
  std::unique_ptr<v1::ResourceManager::Stub> rm_stub_;
  std::unique_ptr<SessionKeeper<v1::TaskManagerMessage>> keeper_;
  mutable absl::Mutex slots_mu_;
  std::vector<SlotState> slots_ ABSL_GUARDED_BY(slots_mu_);
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_TASK_MANAGER_H_
