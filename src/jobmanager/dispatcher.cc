#include "jobmanager/dispatcher.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/random_id.h"
#include "engine/job_graph_convert.h"
#include "jobmanager/resume_check.h"
#include "spdlog/spdlog.h"

namespace sluice {
namespace {

std::string NewJobId() { return RandomHexId(32); }

}  // namespace

Dispatcher::Dispatcher(JobMasterFactory make_master, GraphBuilder build_graph,
                       std::function<int()> total_slots, JobHistoryLimits history,
                       std::unique_ptr<Executor> submit_worker, std::unique_ptr<Executor> main)
    : make_master_(std::move(make_master)),
      build_graph_(std::move(build_graph)),
      total_slots_(std::move(total_slots)),
      history_(history),
      main_(main ? std::move(main) : std::make_unique<Mailbox>("jm-dispatcher")),
      submit_worker_(submit_worker ? std::move(submit_worker)
                                   : std::make_unique<Mailbox>("jm-submit")) {}

Dispatcher::~Dispatcher() {
  // A Mailbox joins: no JobMaster is checked, and none added, after this.
  submit_worker_.reset();
  main_.reset();
  // Their cancellations (tasks, slots) go out from their threads.
  std::vector<std::future<void>> handled;
  for (auto& [id, job] : jobs_) {
    auto promise = std::make_shared<std::promise<void>>();
    handled.push_back(promise->get_future());
    job.master->Cancel([promise] { promise->set_value(); });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (auto& done : handled) done.wait_until(deadline);
  for (auto& [id, job] : jobs_) job.Stop();
}

absl::StatusOr<JobGraph> Dispatcher::Precheck(const v1::JobSubmission& submission) const {
  if (check_submission_) {
    if (absl::Status checked = check_submission_(submission); !checked.ok()) return checked;
  }
  if (submission.has_auto_watermark_interval_us() && submission.auto_watermark_interval_us() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("pipeline.auto-watermark-interval must be positive, got ",
                     submission.auto_watermark_interval_us(), " us"));
  }
  if (submission.has_buffer_timeout_us() && submission.buffer_timeout_us() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("execution.buffer-timeout must not be negative, got ",
                     submission.buffer_timeout_us(), " us"));
  }
  auto described = engine::FromProto(submission.graph());
  if (!described.ok()) return described.status();
  const int needed = SlotsNeeded(*described);
  if (int total = total_slots_(); total > 0 && needed > total) {
    return absl::ResourceExhaustedError(
        absl::StrCat("job '", submission.job_name(), "' needs ", needed,
                     " slots (its largest parallelism) but the whole cluster has ", total));
  }
  return described;
}

void Dispatcher::Submit(v1::JobSubmission submission, std::string library_path, SubmitDone done) {
  submit_worker_->Post([this, submission = std::move(submission),
                        library_path = std::move(library_path), done = std::move(done)]() mutable {
    auto described = Precheck(submission);
    if (!described.ok()) return done(described.status());
    GraphBuildRequest request{library_path,
                              submission.job_name(),
                              {submission.args().begin(), submission.args().end()},
                              submission.parallelism(),
                              submission.max_parallelism()};
    build_graph_(std::move(request), [this, submission = std::move(submission),
                                      described = *std::move(described), done = std::move(done)](
                                         absl::StatusOr<uint64_t> built_hash) mutable {
      submit_worker_->Post([this, submission = std::move(submission),
                            described = std::move(described), built_hash = std::move(built_hash),
                            done = std::move(done)]() mutable {
        auto job = Accept(submission, std::move(described), built_hash);
        if (!job.ok()) return done(job.status());
        main_->Post([this, job = *std::move(job), done = std::move(done)]() mutable {
          std::string id = job.master->id();
          Add(std::move(id), std::move(job), std::move(done));
        });
      });
    });
  });
}

absl::StatusOr<Dispatcher::Job> Dispatcher::Accept(const v1::JobSubmission& submission,
                                                   JobGraph described,
                                                   const absl::StatusOr<uint64_t>& built_hash) {
  if (!built_hash.ok()) return built_hash.status();
  if (*built_hash != described.Hash()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "job '%s': the graph built here (hash %016x) differs from the submitted one (hash "
        "%016x): its build function is not deterministic",
        submission.job_name(), *built_hash, described.Hash()));
  }
  v1::JobSubmission accepted = submission;
  if (!submission.restore_path().empty()) {
    auto resume =
        CheckResume(described, submission.restore_path(), submission.allow_non_restored_state());
    if (!resume.ok()) return resume.status();
    accepted.set_restore_path(resume->directory);
    accepted.set_restore_checkpoint_id(resume->checkpoint_id);
  }
  std::string id = NewJobId();
  Job job;
  job.mailbox = std::make_shared<Mailbox>(absl::StrCat("jm-", id.substr(0, 8)));
  job.master = make_master_(id, std::move(accepted), std::move(described), job.mailbox);
  return job;
}

void Dispatcher::Add(std::string id, Job job, SubmitDone done) {
  ForgetOldJobs();
  std::shared_ptr<JobMaster> master = job.master;
  jobs_[id] = std::move(job);
  // Findable before it declares: the slots it asks for may arrive at once.
  Publish();
  master->Start();
  done(master->Status());
}

void Dispatcher::ForgetOldJobs() {
  std::vector<v1::JobStatus> statuses;
  for (const auto& [id, job] : jobs_) statuses.push_back(job.master->Status());
  const auto forget = JobsToForget(statuses, absl::Now(), history_);
  if (forget.empty()) return;
  for (const auto& id : forget) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    it->second.Stop();  // an ended job: its thread is idle
    jobs_.erase(it);
  }
  Publish();
}

void Dispatcher::Publish() {
  Table table;
  for (const auto& [id, job] : jobs_) table[id] = job.master;
  absl::MutexLock lock(&snapshot_mu_);
  snapshot_ = std::move(table);
}

Dispatcher::Table Dispatcher::Snapshot() const {
  absl::MutexLock lock(&snapshot_mu_);
  return snapshot_;
}

std::vector<v1::JobStatus> Dispatcher::List() {
  std::vector<v1::JobStatus> statuses;
  for (const auto& [id, master] : Snapshot()) statuses.push_back(master->Status());
  const auto forget = JobsToForget(statuses, absl::Now(), history_);
  if (!forget.empty()) main_->Post([this] { ForgetOldJobs(); });
  std::vector<v1::JobStatus> out;
  for (auto& status : statuses) {
    if (std::find(forget.begin(), forget.end(), status.job_id()) == forget.end()) {
      out.push_back(std::move(status));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.start_time_ms() < b.start_time_ms(); });
  return out;
}

std::shared_ptr<JobMaster> Dispatcher::Find(const std::string& job_id) const {
  absl::MutexLock lock(&snapshot_mu_);
  auto it = snapshot_.find(job_id);
  return it == snapshot_.end() ? nullptr : it->second;
}

absl::StatusOr<v1::JobStatus> Dispatcher::Get(const std::string& job_id) const {
  auto master = Find(job_id);
  if (!master) return absl::NotFoundError(absl::StrCat("no job with id ", job_id));
  return master->Status();
}

void Dispatcher::Cancel(const std::string& job_id, const std::string& origin, StatusDone done) {
  auto master = Find(job_id);
  if (!master) return done(absl::NotFoundError(absl::StrCat("no job with id ", job_id)));
  spdlog::info("Cancelling job {} ('{}'): requested by {}", job_id, master->graph().name, origin);
  // The answer says how the job ended: given once its thread handled it,
  // or, should that thread have stopped, with the status before.
  struct Answer {
    StatusDone done;
    v1::JobStatus status;
    ~Answer() { done(std::move(status)); }
  };
  std::shared_ptr<Answer> answer(new Answer{std::move(done), master->Status()});
  master->Cancel([answer, weak = std::weak_ptr<JobMaster>(master)] {
    if (auto handled = weak.lock()) answer->status = handled->Status();
  });
}

}  // namespace sluice
