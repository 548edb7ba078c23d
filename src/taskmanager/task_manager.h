// A running TaskManager: its slots, its RPC endpoint, its metrics, and the
// session with the ResourceManager that registers it, carries heartbeats with
// the slot report, and brings slot requests: the TaskManager reserves the slot
// and offers it to the job's JobMaster, which deploys task attempts into it.
//
// Threads: the slot table and the deployments' bookkeeping belong to the
// mailbox thread ("taskmanager"); the session keeper, offer answers and gRPC
// callbacks only post to it, and it answers the calls. Whatever blocks
// (library downloads, dlopen, the user's build function, joining stopped
// subtasks) runs on the deploy worker ("tm-deploy"). See README.md.
//
// Shutdown is one ordered sequence, so that nothing a handler, the data
// server, the session keeper or a metrics scrape can reach is torn down under
// it: refuse RPCs and deployments, stop the RPC and metrics servers (which
// waits until every call is answered: deployments under way are answered
// UNAVAILABLE), cancel and join every subtask, deregister from the
// ResourceManager, stop the mailbox and the deploy worker, end the calls to
// JobMasters, close the data port and connections; only then are the members
// destroyed.
#ifndef SLUICE_TASKMANAGER_TASK_MANAGER_H_
#define SLUICE_TASKMANAGER_TASK_MANAGER_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/daemon.h"
#include "common/log_files.h"
#include "common/mailbox.h"
#include "common/metrics/metrics_endpoint.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/grpc_status.h"
#include "common/rpc/session_keeper.h"
#include "common/work_dir.h"
#include "prometheus/gauge.h"
#include "sluice/v1/resourcemanager.grpc.pb.h"
#include "sluice/v1/taskmanager.grpc.pb.h"
#include "taskmanager/data_exchange.h"
#include "taskmanager/job_deployments.h"
#include "taskmanager/job_master_client.h"
#include "taskmanager/job_processes.h"
#include "taskmanager/task_manager_spec.h"
#include "taskmanager/task_sampler.h"
#include "taskmanager/task_slot_table.h"

namespace sluice {

class TaskManager final : public Daemon, private v1::TaskExecutor::CallbackService {
 public:
  static absl::StatusOr<std::unique_ptr<TaskManager>> Start(const Config& config);
  ~TaskManager() override;

  // Stops in the order above; deregisters, so the slots leave at once.
  // Idempotent; RPCs get UNAVAILABLE from its start on.
  void Shutdown() override;

  const TaskManagerSpec& spec() const { return spec_; }
  int rpc_port() const { return grpc_.port; }
  int metrics_port() const { return metrics_.http().port(); }
  bool registered() const { return keeper_ && keeper_->registered(); }
  // The current slot states (allocations and jobs), as the next heartbeat reports them.
  std::vector<SlotState> SlotReport();
  // The report and the slot table's version it shows.
  std::pair<std::vector<SlotState>, uint64_t> VersionedSlotReport();

 private:
  // Handlers serve only while kServing: before that members are still being
  // created, after it they are being stopped.
  enum class State { kStarting, kServing, kStopping };

  TaskManager() = default;
  void StartSession(const Config& config);
  // Finishes the call with UNAVAILABLE unless serving; returns whether it did.
  bool RefuseUnlessServing(grpc::ServerUnaryReactor* reactor) const;
  v1::TaskManagerMessage RegisterMessage();
  v1::TaskManagerMessage HeartbeatMessage(uint64_t sequence);
  void OnResourceManagerMessage(const v1::ResourceManagerMessage& message);
  void OnSlotRequest(const v1::SlotRequest& request);
  void Offer(const std::string& allocation_id);
  void OnOfferAnswered(const std::string& allocation_id,
                       const absl::StatusOr<v1::OfferSlotsResponse>& answer);
  // The allocation ends here; the subtasks in it are stopped. Mailbox thread.
  void FreeSlot(const std::string& allocation_id, const std::string& reason);
  // On a timer: frees offers never accepted and slots nobody confirms.
  void ExpireSlots();
  // Samples the subtasks' counters each TaskSampler::kPeriod (metrics' rates).
  void SampleTasks();
  // Frees the slots of jobs whose JobMaster is silent (heartbeat.timeout).
  void FreeUnconfirmed();
  // Cancels and joins every subtask; from outside the mailbox and the worker.
  void CancelAllJobs();
  void PublishSlots();
  grpc::ServerUnaryReactor* GetSlotReport(grpc::CallbackServerContext* context,
                                          const v1::GetSlotReportRequest* request,
                                          v1::SlotReport* response) override;
  grpc::ServerUnaryReactor* DeployJob(grpc::CallbackServerContext* context,
                                      const v1::DeployJobRequest* request,
                                      v1::DeployJobResponse* response) override;
  grpc::ServerUnaryReactor* StartJob(grpc::CallbackServerContext* context,
                                     const v1::JobTasksRequest* request,
                                     v1::DeployJobResponse* response) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context,
                                      const v1::JobTasksRequest* request,
                                      v1::DeployJobResponse* response) override;
  // Starts job processes for the deployments (taskmanager.isolation: process).
  void IsolateJobs(const Config& config, const DeploymentOptions& deployment,
                   const std::string& work_dir);
  // Finishes `reactor` with what `call` returns, run on the mailbox.
  // Finishes `reactor` with what the job process answers to `request`.
  template <typename Request>
  grpc::ServerUnaryReactor* ForwardToJobProcess(grpc::ServerUnaryReactor* reactor,
                                                void (JobProcesses::*method)(const Request&,
                                                                             JobProcesses::Done),
                                                Request request) {
    mailbox_.Post([this, reactor, method, request = std::move(request)] {
      (processes_.get()->*method)(
          request, [reactor](absl::Status status) { reactor->Finish(ToGrpcStatus(status)); });
    });
    return reactor;
  }
  template <typename Call>
  grpc::ServerUnaryReactor* AnswerOnMailbox(grpc::ServerUnaryReactor* reactor, Call call) {
    mailbox_.Post([reactor, call = std::move(call)] { reactor->Finish(ToGrpcStatus(call())); });
    return reactor;
  }
  grpc::ServerUnaryReactor* TriggerCheckpoint(grpc::CallbackServerContext* context,
                                              const v1::TriggerCheckpointRequest* request,
                                              v1::DeployJobResponse* response) override;
  grpc::ServerUnaryReactor* HeartbeatFromJobMaster(grpc::CallbackServerContext* context,
                                                   const v1::JobMasterHeartbeat* request,
                                                   v1::JobMasterHeartbeatAnswer* response) override;
  grpc::ServerUnaryReactor* NotifyCheckpoint(grpc::CallbackServerContext* context,
                                             const v1::NotifyCheckpointRequest* request,
                                             v1::DeployJobResponse* response) override;
  grpc::ServerUnaryReactor* ListLogs(grpc::CallbackServerContext* context,
                                     const v1::ListLogsRequest* request,
                                     v1::LogList* response) override;
  grpc::ServerUnaryReactor* ReadLog(grpc::CallbackServerContext* context,
                                    const v1::ReadLogRequest* request,
                                    v1::LogContent* response) override;

  std::unique_ptr<WorkDir> work_dir_;  // first: removed after everything in it is closed
  const OwnLogs own_logs_ = FindOwnLogs();
  std::atomic<State> state_{State::kStarting};
  TaskManagerSpec spec_;
  absl::Duration slot_timeout_;
  absl::Duration lease_;  // heartbeat.timeout: how long a job's slots stay without its JobMaster
  MetricsEndpoint metrics_;
  prometheus::Gauge* registered_gauge_ = nullptr;
  prometheus::Gauge* free_slots_gauge_ = nullptr;
  prometheus::Gauge* allocated_slots_gauge_ = nullptr;
  std::unique_ptr<TaskSlotTable> slot_table_;  // mailbox thread only
  TaskSampler sampler_;                        // mailbox thread only
  std::unique_ptr<JobMasterClient> job_masters_;
  std::unique_ptr<DataExchange> exchange_;
  std::unique_ptr<JobDeployments> deployments_;  // mailbox thread only
  // With taskmanager.isolation: process, the jobs' tasks run in job processes
  // and deployment calls go there (deployments_ stays empty).
  std::unique_ptr<JobProcesses> processes_;  // mailbox thread only, but HandOff and metrics
  RunningGrpcServer grpc_;
  std::unique_ptr<v1::ResourceManager::Stub> rm_stub_;
  std::unique_ptr<SessionKeeper<v1::TaskManagerMessage>> keeper_;
  Mailbox deploy_worker_{"tm-deploy"};
  Mailbox mailbox_{"taskmanager"};
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_TASK_MANAGER_H_
