// The TaskManager's side of job processes (taskmanager.isolation: process):
// one child process per job with tasks here (job_process.h), started at the
// job's first deployment and stopped once its last deployment is cancelled.
// Each deployment call is checked against the slot table here and forwarded
// to the job's process over its Unix socket; data connections whose hello
// names the job are handed to it (SCM_RIGHTS).
//
// When a job process dies without being told to — a fatal signal, exit()
// from the job's code, the kernel's OOM killer — every attempt it ran
// reports FAILED with how it ended and, when the process could say so, the
// signal or exit and the task (its chained operators) it came from; the JobMaster's
// restart strategy takes it from there. Other jobs' processes and the
// TaskManager go on. A cancelled job whose tasks do not stop within
// task.cancellation.timeout has its process killed, so its slots and its
// memory are free again.
//
// Threads: everything but HandOff, CollectMetrics and Close runs on the owner
// executor (the TaskManager's mailbox) and answers there; a watcher thread
// per process waits for it to end.
#ifndef SLUICE_TASKMANAGER_JOB_PROCESSES_H_
#define SLUICE_TASKMANAGER_JOB_PROCESSES_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/mailbox.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "sluice/v1/job_process.grpc.pb.h"
#include "sluice/v1/taskmanager.grpc.pb.h"
#include "taskmanager/job_deployments.h"
#include "taskmanager/job_process.h"
#include "taskmanager/task_slot_table.h"

namespace sluice {

struct JobProcessLaunch {
  std::string binary;      // sluice-job-process
  std::string work_dir;    // the processes' sockets go to <work_dir>/jobs
  JobProcessOptions base;  // all but the job, its socket and its memory
  absl::Duration cancellation_timeout = absl::Seconds(180);  // task.cancellation.timeout
  int64_t runtime_memory_bytes = 256 << 20;                  // allowed beyond the slots' memory
};

// Where the job process binary is: next to this executable, else the build tree's.
std::string DefaultJobProcessPath();

class JobProcesses {
 public:
  using DeployDone = JobDeployments::DeployDone;
  using Done = JobDeployments::Done;
  using TaskStateSink = JobDeployments::TaskStateSink;

  // `slots` and `owner` must outlive this.
  JobProcesses(JobProcessLaunch launch, TaskSlotTable* slots, TaskStateSink report, Mailbox* owner);
  ~JobProcesses();  // kills the processes left and joins their watchers

  void Deploy(const v1::DeployJobRequest& request, DeployDone done);
  void Start(const v1::JobTasksRequest& request, Done done);
  // Answers once the attempts are joined; when the job has nothing left
  // here, once its process has ended.
  void Cancel(const v1::JobTasksRequest& request, Done done);
  void TriggerCheckpoint(const v1::TriggerCheckpointRequest& request, Done done);
  void NotifyCheckpoint(const v1::NotifyCheckpointRequest& request, Done done);
  void Heartbeat(const v1::JobMasterHeartbeat& request, v1::JobMasterHeartbeatAnswer* answer,
                 Done done);
  void OnAllocationFreed(const std::string& allocation_id, const std::string& reason);
  // Stops every process; `done` runs on the owner once each has ended.
  void CancelAll(std::function<void()> done);
  // Any thread: deployments fail with UNAVAILABLE from now on.
  void Close() { closed_ = true; }

  // Any thread (the data port's readers): hands a connection scoped to
  // `job` to its process; one for a job without a process here is closed.
  bool HandOff(const std::string& job, net::Fd& fd, const std::string& buffered,
               const std::string& sender);
  // Any thread (a scrape): the task metrics of every job process.
  std::vector<prometheus::MetricFamily> CollectMetrics();

 private:
  struct Attempt {
    int vertex = 0;
    int subtask = 0;
    int attempt = 0;
    std::string allocation_id;
  };
  struct Process {
    std::string job_id;
    int generation = 0;
    pid_t pid = -1;
    int hand_off_fd = -1;  // closed by the destructor
    int crash_fd = -1;     // read by the watcher
    std::unique_ptr<v1::TaskExecutor::Stub> tasks;
    std::unique_ptr<v1::JobProcess::Stub> control;
    std::thread watcher;
    // Calls in flight, guarded by JobProcesses::mu_.
    std::map<grpc::ClientContext*, std::shared_ptr<grpc::ClientContext>> calls;
    // Owner only.
    std::string job_manager_address;
    std::map<std::string, std::vector<Attempt>> deployments;  // by deployment id
    bool stopping = false;
    bool exited = false;  // reaped: its pid may belong to another process now
    std::vector<std::function<void()>> on_exit;
    ~Process();
  };
  using ProcessPtr = std::shared_ptr<Process>;

  absl::StatusOr<ProcessPtr> Spawn(const std::string& job_id);
  // The job's running process (not one being stopped), or null.
  ProcessPtr Find(const std::string& job_id);
  // Calls the process with a deadline: `start(context, request, response,
  // callback)` begins the call; `done` runs on the owner.
  template <typename Request, typename Response, typename Starter>
  void Call(const ProcessPtr& process, Starter start, const Request& request, Response* response,
            absl::Duration timeout, bool wait_for_ready, std::function<void(absl::Status)> done);
  // Tells the process to end: SIGTERM, then SIGKILL after `grace` (the
  // cancellation timeout; shorter when the TaskManager itself stops).
  void Stop(const ProcessPtr& process, absl::Duration grace);
  void Stop(const ProcessPtr& process) { Stop(process, launch_.cancellation_timeout); }
  void StopIfIdle(const ProcessPtr& process);
  void SetMemoryLimit(const Process& process);
  // Owner: the process ended (`status` from waitpid, `note` from its crash report).
  void OnExited(const ProcessPtr& process, int status, const std::string& note);
  void ReportFailed(const Process& process, const std::string& cause);

  const JobProcessLaunch launch_;
  TaskSlotTable* const slots_;
  const TaskStateSink report_;
  Mailbox* const owner_;
  std::atomic<bool> closed_{false};
  int generations_ = 0;  // owner only
  absl::Mutex mu_;
  std::map<std::string, ProcessPtr> running_ ABSL_GUARDED_BY(mu_);  // by job
  std::vector<ProcessPtr> all_ ABSL_GUARDED_BY(mu_);                // running and ending ones
  // Calls in flight, so the destructor can wait for their callbacks.
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

// The job processes' task metrics in the TaskManager's /metrics.
class JobProcessMetrics final : public prometheus::Collectable {
 public:
  explicit JobProcessMetrics(JobProcesses* processes) : processes_(processes) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    return processes_->CollectMetrics();
  }

 private:
  JobProcesses* const processes_;
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_JOB_PROCESSES_H_
