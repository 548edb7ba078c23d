// Accepts job submissions: checks the library and the graph, then starts a
// JobMaster for each accepted job; lists, looks up and cancels jobs. Bad
// submissions are refused with a clear error and touch no other job.
//
// An actor: the job table changes only on the Dispatcher's main executor (a
// "jm-dispatcher" mailbox unless one is given): accepting a job, forgetting
// ended ones (which joins their idle threads). A submission is checked on the
// submit worker (a "jm-submit" mailbox unless one is given); the user's build
// function runs outside the JobManager, in the process a GraphBuilder starts,
// and its answer comes back to the submit worker. Each
// JobMaster runs on a mailbox of its own. List, Get, Find and Cancel may be
// called from any thread (gRPC, REST, metrics): they read a snapshot of the
// table, never block, and Cancel answers once the JobMaster has handled it.
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
#include "jobmanager/graph_builder_process.h"
#include "jobmanager/job_history.h"
#include "jobmanager/job_master.h"
#include "jobmanager/library_store.h"
#include "sluice/v1/jobmanager.pb.h"

namespace sluice {

// Makes the JobMaster of an accepted job, running on `executor`.
using JobMasterFactory =
    std::function<std::shared_ptr<JobMaster>(std::string id, v1::JobSubmission submission,
                                             JobGraph graph, std::shared_ptr<Executor> executor)>;

// Builds a submission's graph from its library, outside this process, and
// answers (on any thread) with the built graph's hash.
using GraphBuilder = std::function<void(
    GraphBuildRequest request, std::function<void(absl::StatusOr<uint64_t> graph_hash)> done)>;

class Dispatcher {
 public:
  using SubmitDone = std::function<void(absl::StatusOr<v1::JobStatus>)>;
  using StatusDone = std::function<void(absl::StatusOr<v1::JobStatus>)>;

  // `total_slots` returns the cluster's slots now (0: unknown). Submissions
  // are checked on `submit_worker`, the table kept on `main`; null: a mailbox
  // of the Dispatcher's own for each.
  // `build_graph` must answer every request, and stop answering before the
  // Dispatcher is destroyed.
  Dispatcher(JobMasterFactory make_master, GraphBuilder build_graph,
             std::function<int()> total_slots, JobHistoryLimits history,
             std::unique_ptr<Executor> submit_worker = nullptr,
             std::unique_ptr<Executor> main = nullptr);
  // Drops submissions not yet checked (unanswered: stop the RPC server
  // first), cancels every job, waits briefly for them to end.
  ~Dispatcher();

  // Checks the submission on the submit worker and starts its JobMaster on
  // the main executor; `done` runs there with the new job's status or on the
  // worker with why it was refused. `library_path` is the stored,
  // digest-checked library.
  void Submit(v1::JobSubmission submission, std::string library_path, SubmitDone done);
  // Every job still remembered (see JobHistoryLimits), oldest first.
  std::vector<v1::JobStatus> List();
  absl::StatusOr<v1::JobStatus> Get(const std::string& job_id) const;
  // `done` runs on the job's JobMaster thread once the cancellation took
  // effect, with the job's status then (NOT_FOUND at once for unknown jobs).
  // `origin` (who asked, from where) goes to the log.
  void Cancel(const std::string& job_id, const std::string& origin, StatusDone done);
  // Refuses submissions that `check` refuses (with its error), before their
  // library is even loaded. Call before the first submission.
  void CheckSubmissionsWith(std::function<absl::Status(const v1::JobSubmission&)> check) {
    check_submission_ = std::move(check);
  }
  // The JobMaster of a job, for task state updates; null if unknown.
  std::shared_ptr<JobMaster> Find(const std::string& job_id) const;

 private:
  // A JobMaster and its main thread. The thread stops before the JobMaster
  // is let go, so a JobMaster never ends on its own thread.
  struct Job {
    std::shared_ptr<Mailbox> mailbox;
    std::shared_ptr<JobMaster> master;
    void Stop() { mailbox->Stop(); }
  };
  using Table = std::map<std::string, std::shared_ptr<JobMaster>>;

  // On the submit worker.
  // The checks that need no user code: options, the described graph, slots.
  absl::StatusOr<JobGraph> Precheck(const v1::JobSubmission& submission) const;
  // With the built graph's hash: determinism, the savepoint to resume from.
  absl::StatusOr<Job> Accept(const v1::JobSubmission& submission, JobGraph described,
                             const absl::StatusOr<uint64_t>& built_hash);
  // On the main executor.
  void Add(std::string id, Job job, SubmitDone done);
  // Drops the ended jobs the history limits say to forget.
  void ForgetOldJobs();
  void Publish();
  Table Snapshot() const;

  const JobMasterFactory make_master_;
  const GraphBuilder build_graph_;
  std::function<absl::Status(const v1::JobSubmission&)> check_submission_;
  const std::function<int()> total_slots_;
  const JobHistoryLimits history_;
  // The main executor's.
  std::map<std::string, Job> jobs_;
  // What List, Get and Find read.
  mutable absl::Mutex snapshot_mu_;
  Table snapshot_ ABSL_GUARDED_BY(snapshot_mu_);
  // Stopped first by ~Dispatcher, the worker before the main executor.
  std::unique_ptr<Executor> main_;
  std::unique_ptr<Executor> submit_worker_;
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_DISPATCHER_H_
