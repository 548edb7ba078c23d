// One JobMaster per submitted job: it asks the ResourceManager for the slots
// the job needs (as many as its largest parallelism: one subtask of each
// vertex shares a slot), deploys the subtasks into the offered slots, follows
// their states and gives the slots back when the job ends.
//
// Threads: a thread of its own asks for slots and deploys, then ends; task
// reports and Cancel() drive the job from there. Status() and Cancel() may be
// called from anywhere.
#ifndef SLUICE_JOBMANAGER_JOB_MASTER_H_
#define SLUICE_JOBMANAGER_JOB_MASTER_H_

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "jobmanager/slot_pool.h"
#include "sluice/internal/graph.h"
#include "sluice/v1/jobmanager.pb.h"

namespace sluice {

enum class JobMasterState { kCreated, kRunning, kFinished, kCanceling, kCanceled, kFailed };
const char* JobMasterStateName(JobMasterState state);
// Slots a job needs: its largest parallelism (one subtask of each vertex
// shares a slot).
int SlotsNeeded(const JobGraph& graph);

// What a JobMaster needs from its JobManager.
struct JobMasterHost {
  std::function<void(const v1::DeclareResources&)> declare;
  std::function<void(const std::string& job_id)> release;
  const SlotPool* slot_pool = nullptr;
  // Deploys the job's subtasks into `slots` and reports through the returned
  // status whether that worked; empty until deployment exists.
  std::function<absl::Status(const std::string& job_id, const std::vector<OfferedSlot>& slots)>
      deploy;
  // Stops the job's running tasks on their TaskManagers.
  std::function<void(const std::string& job_id)> cancel_tasks;
};

class JobMaster {
 public:
  JobMaster(std::string id, v1::JobSubmission submission, JobGraph graph, JobMasterHost host);
  ~JobMaster();  // cancels and joins

  v1::JobStatus Status() const;
  void Cancel();
  // A task ended (or the job's TaskManager is gone): drives the job's state.
  void TaskFinished();
  void Fail(const std::string& root_cause);
  const JobGraph& graph() const { return graph_; }
  const v1::JobSubmission& submission() const { return submission_; }
  const std::string& id() const { return id_; }

 private:
  void Run();
  bool AwaitSlots();
  void End(JobMasterState state, const std::string& error);
  bool IsTerminal() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string id_;
  const v1::JobSubmission submission_;
  const JobGraph graph_;
  const JobMasterHost host_;
  const int slots_needed_;
  const int total_tasks_;
  const absl::Time started_;
  mutable absl::Mutex mu_;
  JobMasterState state_ ABSL_GUARDED_BY(mu_) = JobMasterState::kCreated;
  std::string error_ ABSL_GUARDED_BY(mu_);
  int finished_tasks_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time ended_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_JOB_MASTER_H_
