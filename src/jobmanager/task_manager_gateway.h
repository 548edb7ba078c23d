// TaskManagerGateway over gRPC: the TaskExecutor service of one TaskManager,
// called asynchronously (the callback API) with a deadline on every call, so
// a JobMaster's thread never waits on the network.
#ifndef SLUICE_JOBMANAGER_TASK_MANAGER_GATEWAY_H_
#define SLUICE_JOBMANAGER_TASK_MANAGER_GATEWAY_H_

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "jobmanager/gateways.h"
#include "sluice/v1/taskmanager.grpc.pb.h"

namespace sluice {

class GrpcTaskManagerGateway final : public TaskManagerGateway {
 public:
  GrpcTaskManagerGateway(const std::string& address, absl::Duration timeout);

  void DeployTasks(const v1::DeployJobRequest& request, Done done) override;
  void StartTasks(const std::string& job_id, Done done) override;
  void CancelTasks(const std::string& job_id, const std::string& deployment_id, Done done) override;
  void TriggerCheckpoint(const v1::TriggerCheckpointRequest& request, Done done) override;
  void NotifyCheckpoint(const v1::NotifyCheckpointRequest& request, Done done) override;
  void Heartbeat(const v1::JobMasterHeartbeat& request, HeartbeatDone done) override;

 private:
  std::unique_ptr<v1::TaskExecutor::Stub> stub_;
  const absl::Duration timeout_;
};

// One gateway per TaskManager address, made on first use; thread-safe.
class TaskManagerGatewayCache {
 public:
  explicit TaskManagerGatewayCache(absl::Duration timeout) : timeout_(timeout) {}
  TaskManagerGateway* At(const std::string& address);

 private:
  const absl::Duration timeout_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<GrpcTaskManagerGateway>> gateways_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_TASK_MANAGER_GATEWAY_H_
