// How a JobMaster reaches its peers. The JobManager implements them over
// gRPC (task_manager_gateway.h) and its ResourceManager session; tests use
// in-memory fakes (tests/testing/fake_gateways.h), so a JobMaster with
// several TaskManagers runs in one thread.
#ifndef SLUICE_JOBMANAGER_GATEWAYS_H_
#define SLUICE_JOBMANAGER_GATEWAYS_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sluice/v1/resourcemanager.pb.h"
#include "sluice/v1/taskmanager.pb.h"

namespace sluice {

class ResourceManagerGateway {
 public:
  virtual ~ResourceManagerGateway() = default;
  virtual void DeclareResources(const v1::DeclareResources& declaration) = 0;
  // The job is over: its declaration and slots go.
  virtual void ReleaseJob(const std::string& job_id) = 0;
};

// One TaskManager. Each call answers through `done`, on any thread, once;
// every call has a deadline.
class TaskManagerGateway {
 public:
  using Done = std::function<void(absl::Status)>;
  virtual ~TaskManagerGateway() = default;
  // Prepares this TaskManager's task attempts of the job (library fetched,
  // graph rebuilt, channels wired) without starting them.
  virtual void DeployTasks(const v1::DeployJobRequest& request, Done done) = 0;
  virtual void StartTasks(const std::string& job_id, Done done) = 0;
  // Cancels deployment `deployment_id` of the job there (empty: every one).
  virtual void CancelTasks(const std::string& job_id, const std::string& deployment_id,
                           Done done) = 0;
  virtual void TriggerCheckpoint(const v1::TriggerCheckpointRequest& request, Done done) = 0;
  virtual void NotifyCheckpoint(const v1::NotifyCheckpointRequest& request, Done done) = 0;
  // Answered with how the job's subtasks there are doing.
  using HeartbeatDone = std::function<void(absl::StatusOr<v1::JobMasterHeartbeatAnswer>)>;
  virtual void Heartbeat(const v1::JobMasterHeartbeat& request, HeartbeatDone done) = 0;
};

// The gateway of the TaskManager at an RPC address (kept by the caller).
using TaskManagerGateways = std::function<TaskManagerGateway*(const std::string& address)>;

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_GATEWAYS_H_
