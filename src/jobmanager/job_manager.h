// A running JobManager. For now it registers with the ResourceManager, keeps
// the cluster overview that arrives with every heartbeat ack, answers the
// CLI's cluster status (asking the RM), and serves /metrics, /overview and
// /taskmanagers on rest.port. Jobs, scheduling and checkpoints build on it.
#ifndef SLUICE_JOBMANAGER_JOB_MANAGER_H_
#define SLUICE_JOBMANAGER_JOB_MANAGER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/config/config.h"
#include "common/daemon.h"
#include "common/mailbox.h"
#include "common/metrics/metrics_endpoint.h"
#include "common/metrics/utilization_gauges.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/session_keeper.h"
#include "common/work_dir.h"
#include "jobmanager/client_auth.h"
#include "jobmanager/dispatcher.h"
#include "jobmanager/job_manager_service.h"
#include "jobmanager/job_master_service.h"
#include "jobmanager/library_store.h"
#include "jobmanager/slot_pool.h"
#include "jobmanager/task_manager_gateway.h"
#include "prometheus/gauge.h"
#include "sluice/v1/jobmanager.grpc.pb.h"
#include "sluice/v1/resourcemanager.grpc.pb.h"
#include "sluice/v1/taskmanager.grpc.pb.h"

namespace sluice {

class JobManager final : public Daemon {
 public:
  static absl::StatusOr<std::unique_ptr<JobManager>> Start(const Config& config);
  ~JobManager() override;

  void Shutdown() override;
  int rpc_port() const { return grpc_.port; }
  int rest_port() const { return rest_.http().port(); }
  bool registered() const { return keeper_ && keeper_->registered(); }
  // The cluster overview of the latest heartbeat ack, if any.
  std::optional<v1::ClusterOverview> overview() const;

  // Slot allocation for jobs: declarations go to the ResourceManager (again
  // after every reconnect); offered slots, revocations and failures land in
  // the slot pool. Any thread: handled on the slot pool's mailbox.
  void DeclareResources(const v1::DeclareResources& declaration);
  void ReleaseJob(const std::string& job_id);
  // Runs `inspect` on the slot pool's mailbox and returns what it returns
  // (for tests and tools; blocks the caller, never the pool).
  template <typename F>
  auto InspectSlotPool(F inspect) const {
    return slots_->Ask([this, inspect] { return inspect(slot_pool_); }).get();
  }

 private:
  JobManager() = default;
  void StartSession(const Config& config);
  // Session thread: the overview stays there, slot messages go to the pool.
  void OnResourceManagerMessage(const v1::ResourceManagerMessage& message);
  void OnSlotMessage(const v1::ResourceManagerMessage& message);
  void OfferSlots(v1::OfferSlotsRequest request, std::function<void(v1::OfferSlotsResponse)> done);
  void SendToResourceManager(v1::JobManagerMessage message);
  class ResourceManagerLink;
  std::shared_ptr<JobMaster> MakeJobMaster(std::string id, v1::JobSubmission submission,
                                           JobGraph graph, std::shared_ptr<Executor> executor);
  // The slot pool changed for `job_id`: its JobMaster hears of it. On the
  // slot pool's mailbox, like every use of slot_pool_.
  void OnSlotsChanged(const std::string& job_id);
  void OnTaskState(const v1::TaskStateUpdate& update);
  void ServeRestApi();

  std::unique_ptr<WorkDir> work_dir_;  // first: removed after everything in it is closed
  std::string id_;
  std::string rpc_address_;
  MetricsEndpoint rest_;  // /metrics plus the REST API, on rest.port
  std::unique_ptr<UtilizationGauges> utilization_;
  prometheus::Gauge* taskmanagers_gauge_ = nullptr;
  prometheus::Gauge* slots_total_gauge_ = nullptr;
  prometheus::Gauge* slots_available_gauge_ = nullptr;
  std::unique_ptr<v1::ResourceManager::Stub> rm_stub_;
  std::unique_ptr<Mailbox> slots_;  // "jm-slots": owns slot_pool_
  SlotPool slot_pool_;
  bool dispatcher_gone_ = false;                  // on jm-slots: set as the JobManager shuts down
  std::unique_ptr<ResourceManagerLink> rm_link_;  // the JobMasters' ResourceManagerGateway
  std::unique_ptr<TaskManagerGatewayCache> task_managers_;
  std::unique_ptr<LibraryStore> libraries_;
  // "jm-io": the JobMasters' checkpoint metadata writes and deletions.
  std::shared_ptr<Mailbox> checkpoint_io_;
  std::unique_ptr<Dispatcher> dispatcher_;
  // After the Dispatcher: destroyed first, as it answers into the Dispatcher.
  std::unique_ptr<GraphBuilderProcess> graph_builder_;
  std::unique_ptr<JobManagerService> service_;
  std::unique_ptr<JobMasterServiceImpl> job_master_service_;
  RunningGrpcServer grpc_;
  std::unique_ptr<SessionKeeper<v1::JobManagerMessage>> keeper_;
  mutable absl::Mutex mu_;
  std::optional<v1::ClusterOverview> overview_ ABSL_GUARDED_BY(mu_);
  absl::Duration rpc_timeout_;
  absl::Duration heartbeat_interval_;  // JobMaster -> TaskManager, as to the ResourceManager
  absl::Duration heartbeat_timeout_;
  std::string savepoint_dir_;           // execution.checkpointing.savepoint-dir
  CheckpointingOptions checkpointing_;  // execution.checkpointing.*, for every job
  // A restart strategy (restart-strategy.*) for each new job.
  std::function<std::shared_ptr<RestartStrategy>()> restart_strategies_;
  std::unique_ptr<Config> config_;
  ClientAuth client_auth_;  // security.admin-token and the tenants' tokens  // the cluster's, under
                            // each job's own keys
  std::atomic<bool> shut_down_{false};
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_JOB_MANAGER_H_
