// A job process (taskmanager.isolation: process): one job's task attempts on
// one TaskManager, in a process of their own, so that the job's code can
// crash, exit or run out of memory without taking the TaskManager or any
// other job with it. The TaskManager keeps the control plane (slots, the
// ResourceManager, its RPC port): it checks each deployment call and
// forwards it here over a Unix socket; the data plane of the job runs here
// (the TaskManager hands over the connections whose hello names the job,
// and this process opens its own connections to other TaskManagers). Task
// reports and checkpoint acknowledgements go from here to the JobMaster.
//
// Threads: as in a TaskManager (README.md): the mailbox "job-process" owns
// the deployments, the deploy worker "jp-deploy" does what blocks, task
// threads run the operators; one more thread receives handed-over
// connections.
#ifndef SLUICE_TASKMANAGER_JOB_PROCESS_H_
#define SLUICE_TASKMANAGER_JOB_PROCESS_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/mailbox.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/grpc_status.h"
#include "sluice/v1/job_process.grpc.pb.h"
#include "sluice/v1/taskmanager.grpc.pb.h"
#include "taskmanager/data_exchange.h"
#include "taskmanager/job_deployments.h"
#include "taskmanager/job_master_client.h"
#include "taskmanager/task_metrics.h"
#include "taskmanager/task_sampler.h"

namespace sluice {

inline constexpr char kJobProcessName[] = "sluice-job-process";
// Descriptors a job process is started with.
inline constexpr int kHandOffFd = 3;      // SOCK_SEQPACKET: connections handed over
inline constexpr int kCrashReportFd = 4;  // pipe: the line naming a crash's cause

struct JobProcessOptions {
  std::string job_id;
  std::string socket_path;  // where it serves its RPCs
  std::string host;         // the TaskManager's, for metric labels
  DeploymentOptions deployment;
  int64_t memory_bytes = 0;  // the job's slots' memory here (0: no limit)
  // The TaskManager's pid: a job process whose parent is another one (its
  // TaskManager died before it could ask to die with it) ends at once. Not
  // "parent is init": in a container the TaskManager itself is pid 1.
  int64_t parent_pid = 0;
};

// The arguments a TaskManager starts a job process with, and back.
std::vector<std::string> JobProcessArguments(const JobProcessOptions& options);
absl::StatusOr<JobProcessOptions> ParseJobProcessArguments(const std::vector<std::string>& args);

class JobProcessServer final : public v1::TaskExecutor::CallbackService,
                               public v1::JobProcess::CallbackService {
 public:
  static absl::StatusOr<std::unique_ptr<JobProcessServer>> Start(JobProcessOptions options,
                                                                 int hand_off_fd);
  ~JobProcessServer() override;  // Shutdown()s
  // Cancels and joins every task, stops serving. Idempotent.
  void Shutdown();

 private:
  explicit JobProcessServer(JobProcessOptions options) : options_(std::move(options)) {}
  // Receives handed-over connections until the TaskManager closes its end.
  void ReceiveConnections();
  void SampleTasks();
  template <typename Call>
  grpc::ServerUnaryReactor* AnswerOnMailbox(grpc::CallbackServerContext* context, Call call) {
    auto* reactor = context->DefaultReactor();
    mailbox_.Post([reactor, call = std::move(call)] { reactor->Finish(ToGrpcStatus(call())); });
    return reactor;
  }

  // TaskExecutor (as forwarded by the TaskManager).
  grpc::ServerUnaryReactor* DeployJob(grpc::CallbackServerContext* context,
                                      const v1::DeployJobRequest* request,
                                      v1::DeployJobResponse* response) override;
  grpc::ServerUnaryReactor* StartJob(grpc::CallbackServerContext* context,
                                     const v1::JobTasksRequest* request,
                                     v1::DeployJobResponse* response) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context,
                                      const v1::JobTasksRequest* request,
                                      v1::DeployJobResponse* response) override;
  grpc::ServerUnaryReactor* TriggerCheckpoint(grpc::CallbackServerContext* context,
                                              const v1::TriggerCheckpointRequest* request,
                                              v1::DeployJobResponse* response) override;
  grpc::ServerUnaryReactor* NotifyCheckpoint(grpc::CallbackServerContext* context,
                                             const v1::NotifyCheckpointRequest* request,
                                             v1::DeployJobResponse* response) override;
  grpc::ServerUnaryReactor* HeartbeatFromJobMaster(grpc::CallbackServerContext* context,
                                                   const v1::JobMasterHeartbeat* request,
                                                   v1::JobMasterHeartbeatAnswer* answer) override;
  // JobProcess
  grpc::ServerUnaryReactor* FreeAllocation(grpc::CallbackServerContext* context,
                                           const v1::FreeAllocationRequest* request,
                                           v1::FreeAllocationResponse* response) override;
  grpc::ServerUnaryReactor* CollectMetrics(grpc::CallbackServerContext* context,
                                           const v1::CollectMetricsRequest* request,
                                           v1::CollectMetricsResponse* response) override;

  const JobProcessOptions options_;
  std::unique_ptr<DataExchange> exchange_;
  std::unique_ptr<JobMasterClient> job_masters_;
  std::unique_ptr<JobDeployments> deployments_;  // mailbox only
  TaskSampler sampler_;                          // mailbox only
  std::unique_ptr<TaskMetrics> metrics_;
  std::unique_ptr<grpc::Server> server_;
  int hand_off_fd_ = -1;
  std::thread receiver_;
  bool shut_down_ = false;
  Mailbox worker_{"jp-deploy"};
  Mailbox mailbox_{"job-process"};
};

// Prometheus families to and from the wire (counters and gauges).
void ToProto(const std::vector<prometheus::MetricFamily>& families,
             v1::CollectMetricsResponse* out);
std::vector<prometheus::MetricFamily> FromProto(const v1::CollectMetricsResponse& in);

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_JOB_PROCESS_H_
