// The jobs a TaskManager runs subtasks of: deployment (library fetched from
// the JobManager and cached by digest, graph rebuilt from it and its hash
// checked against the JobMaster's, channels wired), start, cancel, and a
// report to the JobMaster when each subtask ends.
#ifndef SLUICE_TASKMANAGER_JOB_DEPLOYMENTS_H_
#define SLUICE_TASKMANAGER_JOB_DEPLOYMENTS_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/job_library.h"
#include "engine/local_job.h"
#include "sluice/v1/jobmanager.grpc.pb.h"
#include "sluice/v1/taskmanager.pb.h"
#include "taskmanager/data_exchange.h"
#include "taskmanager/job_master_client.h"

namespace sluice {

struct DeploymentOptions {
  std::string task_manager_id;
  std::string library_dir;
  absl::Duration rpc_timeout = absl::Seconds(10);
  absl::Duration buffer_timeout = absl::Milliseconds(100);
  int buffers_per_channel = 2;
  size_t segment_size = 32 << 10;  // taskmanager.memory.segment-size
};

class JobDeployments {
 public:
  JobDeployments(DeploymentOptions options, DataExchange* exchange, JobMasterClient* job_masters);
  ~JobDeployments();  // cancels every job

  // Returns the number of local subtasks.
  absl::StatusOr<int> Deploy(const v1::DeployJobRequest& request);
  absl::Status Start(const std::string& job_id);
  absl::Status Cancel(const std::string& job_id);
  // The TaskManager is stopping: Deploy and Start fail with UNAVAILABLE from
  // now on, and library downloads in progress are aborted, so that a Deploy
  // under way returns soon (its job is not kept). Jobs already here run on.
  void Close();
  // Cancels every job and joins its subtasks.
  void CancelAll();
  // Calls `visit` for every subtask running here (under the lock: keep it short).
  void ForEachTask(
      const std::function<void(const std::string& job_id, const engine::Task&)>& visit);

 private:
  struct Deployed {
    std::string job_manager_address;
    // The attempt of each local subtask (vertex, subtask), named in its reports.
    std::map<std::pair<int, int>, int> attempts;
    std::unique_ptr<engine::Placement> placement;
    std::unique_ptr<engine::LocalJob> job;
  };
  static v1::ExecutionState ToExecutionState(engine::JobState state);
  absl::StatusOr<std::string> FetchLibrary(const std::string& job_manager_address,
                                           const std::string& sha256);
  absl::StatusOr<const engine::JobLibrary*> Library(const std::string& job_manager_address,
                                                    const std::string& sha256);
  // Stops a job that is no longer in jobs_: cancels, then joins its subtasks.
  void Stop(const std::string& job_id, std::unique_ptr<Deployed> deployed);
  void Report(const std::string& job_id, const std::string& job_manager_address, int vertex,
              int subtask, int attempt, v1::ExecutionState state, const std::string& error);

  const DeploymentOptions options_;
  DataExchange* const exchange_;
  JobMasterClient* const job_masters_;  // task state reports
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<engine::JobLibrary>> libraries_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<Deployed>> jobs_ ABSL_GUARDED_BY(mu_);
  std::set<grpc::ClientContext*> fetches_ ABSL_GUARDED_BY(mu_);  // for Close()
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_JOB_DEPLOYMENTS_H_
