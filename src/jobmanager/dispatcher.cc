#include "jobmanager/dispatcher.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/job_graph_convert.h"

namespace sluice {
namespace {

std::string NewJobId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrFormat("%016x%016x", rng(), rng());
}

}  // namespace

Dispatcher::Dispatcher(JobMasterFactory make_master, std::function<int()> total_slots,
                       JobHistoryLimits history, std::unique_ptr<Executor> submit_worker)
    : make_master_(std::move(make_master)),
      total_slots_(std::move(total_slots)),
      history_(history),
      submit_worker_(submit_worker ? std::move(submit_worker)
                                   : std::make_unique<Mailbox>("jm-submit")) {}

Dispatcher::~Dispatcher() {
  submit_worker_.reset();  // a Mailbox joins: no JobMaster is started after this
  std::map<std::string, Job> jobs;
  {
    absl::MutexLock lock(&mu_);
    jobs.swap(jobs_);
  }
  // Their cancellations (tasks, slots) go out from their threads.
  std::vector<std::future<void>> handled;
  for (auto& [id, job] : jobs) {
    auto promise = std::make_shared<std::promise<void>>();
    handled.push_back(promise->get_future());
    job.master->Cancel([promise] { promise->set_value(); });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (auto& done : handled) done.wait_until(deadline);
  for (auto& [id, job] : jobs) job.Stop();
}

absl::StatusOr<JobGraph> Dispatcher::CheckGraph(const v1::JobSubmission& submission,
                                                const engine::JobLibrary& library) const {
  if (submission.has_buffer_timeout_us() && submission.buffer_timeout_us() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("execution.buffer-timeout must not be negative, got ",
                     submission.buffer_timeout_us(), " us"));
  }
  auto described = engine::FromProto(submission.graph());
  if (!described.ok()) return described.status();
  auto built =
      library.Build(submission.job_name(), {submission.args().begin(), submission.args().end()},
                    submission.parallelism(), submission.max_parallelism());
  if (!built.ok()) return built.status();
  if (built->Hash() != described->Hash()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "job '%s': the graph built here (hash %016x) differs from the submitted one (hash "
        "%016x): its build function is not deterministic",
        submission.job_name(), built->Hash(), described->Hash()));
  }
  const int needed = SlotsNeeded(*built);
  if (int total = total_slots_(); total > 0 && needed > total) {
    return absl::ResourceExhaustedError(
        absl::StrCat("job '", submission.job_name(), "' needs ", needed,
                     " slots (its largest parallelism) but the whole cluster has ", total));
  }
  return built;
}

void Dispatcher::Submit(v1::JobSubmission submission, std::string library_path, SubmitDone done) {
  submit_worker_->Post([this, submission = std::move(submission),
                        library_path = std::move(library_path),
                        done = std::move(done)] { done(Accept(submission, library_path)); });
}

absl::StatusOr<v1::JobStatus> Dispatcher::Accept(const v1::JobSubmission& submission,
                                                 const std::string& library_path) {
  auto& loaded = libraries_[submission.library_sha256()];
  if (!loaded) {
    auto fresh = engine::JobLibrary::Load(library_path);
    if (!fresh.ok()) {
      libraries_.erase(submission.library_sha256());
      return fresh.status();
    }
    loaded = std::move(*fresh);
  }
  const engine::JobLibrary* library = loaded.get();
  auto graph = CheckGraph(submission, *library);
  if (!graph.ok()) return graph.status();
  ForgetOldJobs();
  std::string id = NewJobId();
  Job job;
  job.mailbox = std::make_shared<Mailbox>(absl::StrCat("jm-", id.substr(0, 8)));
  job.master = make_master_(id, submission, *std::move(graph), job.mailbox);
  std::shared_ptr<JobMaster> master = job.master;
  {
    // Findable before it declares: the slots it asks for may arrive at once.
    absl::MutexLock lock(&mu_);
    jobs_[id] = std::move(job);
  }
  master->Start();
  return master->Status();
}

std::vector<v1::JobStatus> Dispatcher::ForgetOldJobs() {
  std::vector<Job> forgotten;  // stopped outside the lock
  absl::MutexLock lock(&mu_);
  std::vector<v1::JobStatus> statuses;
  for (const auto& [id, job] : jobs_) statuses.push_back(job.master->Status());
  const auto forget = JobsToForget(statuses, absl::Now(), history_);
  std::vector<v1::JobStatus> kept;
  for (auto& status : statuses) {
    if (std::find(forget.begin(), forget.end(), status.job_id()) == forget.end()) {
      kept.push_back(std::move(status));
    } else {
      forgotten.push_back(std::move(jobs_[status.job_id()]));
      jobs_.erase(status.job_id());
    }
  }
  mu_.Unlock();
  for (auto& job : forgotten) job.Stop();  // ended jobs: their threads are idle
  mu_.Lock();
  return kept;
}

std::vector<v1::JobStatus> Dispatcher::List() {
  std::vector<v1::JobStatus> out = ForgetOldJobs();
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.start_time_ms() < b.start_time_ms(); });
  return out;
}

std::shared_ptr<JobMaster> Dispatcher::Find(const std::string& job_id) const {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : it->second.master;
}

absl::StatusOr<v1::JobStatus> Dispatcher::Get(const std::string& job_id) const {
  auto master = Find(job_id);
  if (!master) return absl::NotFoundError(absl::StrCat("no job with id ", job_id));
  return master->Status();
}

absl::StatusOr<v1::JobStatus> Dispatcher::Cancel(const std::string& job_id) {
  auto master = Find(job_id);
  if (!master) return absl::NotFoundError(absl::StrCat("no job with id ", job_id));
  // The answer says how the job ended: wait (briefly) for its thread to
  // handle the cancellation.
  auto handled = std::make_shared<std::promise<void>>();
  std::future<void> done = handled->get_future();
  master->Cancel([handled] { handled->set_value(); });
  done.wait_for(std::chrono::seconds(5));
  return master->Status();
}

}  // namespace sluice
