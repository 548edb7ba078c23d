// Accepts job submissions: checks the library and the graph, then starts a
// JobMaster for each accepted job; lists, looks up and cancels jobs. Bad
// submissions are refused with a clear error and touch no other job.
//
// Threads: a submission is checked on the submit worker (a "jm-submit"
// mailbox unless one is given), one at a time, as that loads the library and
// runs the user's build function: never on the caller's (a gRPC) thread.
// Each JobMaster runs on a mailbox of its own. The job table is guarded by a
// mutex: List, Get, Find and Cancel are called from gRPC, REST and session
// threads.
#ifndef SLUICE_JOBMANAGER_DISPATCHER_H_
#define SLUICE_JOBMANAGER_DISPATCHER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/mailbox.h"
#include "engine/job_library.h"
#include "jobmanager/job_history.h"
#include "jobmanager/job_master.h"
#include "jobmanager/library_store.h"
#include "sluice/v1/jobmanager.pb.h"

namespace sluice {

// Makes the JobMaster of an accepted job, running on `executor`.
using JobMasterFactory =
    std::function<std::shared_ptr<JobMaster>(std::string id, v1::JobSubmission submission,
                                             JobGraph graph, std::shared_ptr<Executor> executor)>;

class Dispatcher {
 public:
  using SubmitDone = std::function<void(absl::StatusOr<v1::JobStatus>)>;

  // `total_slots` returns the cluster's slots now (0: unknown). Submissions
  // are checked on `submit_worker`; null: a mailbox of the Dispatcher's own.
  Dispatcher(JobMasterFactory make_master, std::function<int()> total_slots,
             JobHistoryLimits history, std::unique_ptr<Executor> submit_worker = nullptr);
  // Drops submissions not yet checked (unanswered: stop the RPC server
  // first), cancels every job, waits briefly for them to end.
  ~Dispatcher();

  // Checks the submission and starts its JobMaster on the submit worker;
  // `done` runs there with the new job's status or why it was refused.
  // `library_path` is the stored, digest-checked library.
  void Submit(v1::JobSubmission submission, std::string library_path, SubmitDone done);
  // Every job still remembered (see JobHistoryLimits), oldest first.
  std::vector<v1::JobStatus> List();
  absl::StatusOr<v1::JobStatus> Get(const std::string& job_id) const;
  absl::StatusOr<v1::JobStatus> Cancel(const std::string& job_id);
  // The JobMaster of a job, for task state updates; null if unknown.
  std::shared_ptr<JobMaster> Find(const std::string& job_id) const;

 private:
  // On the submit worker.
  absl::StatusOr<v1::JobStatus> Accept(const v1::JobSubmission& submission,
                                       const std::string& library_path);
  absl::StatusOr<JobGraph> CheckGraph(const v1::JobSubmission& submission,
                                      const engine::JobLibrary& library) const;
  // Drops the ended jobs the history limits say to forget; returns the
  // statuses of the others.
  std::vector<v1::JobStatus> ForgetOldJobs();

  // A JobMaster and its main thread. The thread stops before the JobMaster
  // is let go, so a JobMaster never ends on its own thread.
  struct Job {
    std::shared_ptr<Mailbox> mailbox;
    std::shared_ptr<JobMaster> master;
    void Stop() { mailbox->Stop(); }
  };

  const JobMasterFactory make_master_;
  const std::function<int()> total_slots_;
  const JobHistoryLimits history_;
  mutable absl::Mutex mu_;
  std::map<std::string, Job> jobs_ ABSL_GUARDED_BY(mu_);
  // The submit worker's.
  std::map<std::string, std::unique_ptr<engine::JobLibrary>> libraries_;
  std::unique_ptr<Executor> submit_worker_;  // stopped first by ~Dispatcher
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_DISPATCHER_H_
