// Accepts job submissions: checks the library and the graph, then starts a
// JobMaster for each accepted job; lists, looks up and cancels jobs. Bad
// submissions are refused with a clear error and touch no other job.
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
  // `total_slots` returns the cluster's slots now (0: unknown).
  Dispatcher(JobMasterFactory make_master, std::function<int()> total_slots,
             JobHistoryLimits history)
      : make_master_(std::move(make_master)),
        total_slots_(std::move(total_slots)),
        history_(history) {}
  ~Dispatcher();  // cancels every job, waits briefly for them to end

  // `library_path` is the stored, digest-checked library.
  absl::StatusOr<v1::JobStatus> Submit(const v1::JobSubmission& submission,
                                       const std::string& library_path);
  // Every job still remembered (see JobHistoryLimits), oldest first.
  std::vector<v1::JobStatus> List();
  absl::StatusOr<v1::JobStatus> Get(const std::string& job_id) const;
  absl::StatusOr<v1::JobStatus> Cancel(const std::string& job_id);
  // The JobMaster of a job, for task state updates; null if unknown.
  std::shared_ptr<JobMaster> Find(const std::string& job_id) const;

 private:
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
  std::map<std::string, std::unique_ptr<engine::JobLibrary>> libraries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_DISPATCHER_H_
