#include "jobmanager/job_master.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace sluice {
namespace {

int TaskCount(const JobGraph& graph) {
  int tasks = 0;
  for (const auto& v : graph.vertices) tasks += v.parallelism;
  return tasks;
}

}  // namespace

int SlotsNeeded(const JobGraph& graph) {
  int largest = 1;
  for (const auto& v : graph.vertices) largest = std::max(largest, v.parallelism);
  return largest;
}

const char* JobMasterStateName(JobMasterState state) {
  switch (state) {
    case JobMasterState::kCreated:
      return "CREATED";
    case JobMasterState::kRunning:
      return "RUNNING";
    case JobMasterState::kFinished:
      return "FINISHED";
    case JobMasterState::kCanceling:
      return "CANCELING";
    case JobMasterState::kCanceled:
      return "CANCELED";
    case JobMasterState::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

JobMaster::JobMaster(std::string id, v1::JobSubmission submission, JobGraph graph,
                     JobMasterHost host)
    : id_(std::move(id)),
      submission_(std::move(submission)),
      graph_(std::move(graph)),
      host_(std::move(host)),
      slots_needed_(SlotsNeeded(graph_)),
      total_tasks_(TaskCount(graph_)),
      started_(absl::Now()) {
  thread_ = std::thread([this] { Run(); });
}

JobMaster::~JobMaster() {
  Cancel();
  if (thread_.joinable()) thread_.join();
}

bool JobMaster::IsTerminal() const {
  return state_ == JobMasterState::kFinished || state_ == JobMasterState::kCanceled ||
         state_ == JobMasterState::kFailed;
}

void JobMaster::Run() {
  v1::DeclareResources declaration;
  declaration.set_job_id(id_);
  declaration.set_tenant(submission_.tenant());
  declaration.set_token(submission_.token());
  declaration.set_priority(submission_.priority());
  declaration.set_min_task_managers(submission_.num_task_managers());
  auto* requirement = declaration.add_requirements();
  requirement->set_desired(slots_needed_);
  requirement->set_min(slots_needed_);
  host_.declare(declaration);
  spdlog::info("Job {} ('{}') needs {} slots for {} tasks", id_, graph_.name, slots_needed_,
               total_tasks_);
  if (!AwaitSlots()) return;
  auto deployed = host_.deploy(id_, host_.slot_pool->Slots(id_));
  if (!deployed.ok()) {
    Fail(std::string(deployed.message()));  // a no-op if the job ended meanwhile
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (state_ == JobMasterState::kCreated) {
      state_ = JobMasterState::kRunning;
      return;  // from here task reports and Cancel() drive the job
    }
  }
  // Cancelled while deploying: Cancel() left the ending to this thread.
  End(JobMasterState::kCanceled, "");
}

// Waits for the slots, a failed request, or cancellation.
bool JobMaster::AwaitSlots() {
  while (true) {
    if (host_.slot_pool->AwaitSlots(id_, slots_needed_, absl::Milliseconds(100))) return true;
    if (auto failure = host_.slot_pool->Failure(id_)) {
      Fail(*failure);
      return false;
    }
    if (auto refused = host_.slot_pool->DeclarationStatus(id_); refused && !refused->ok()) {
      Fail(std::string(refused->message()));
      return false;
    }
    absl::MutexLock lock(&mu_);
    if (state_ == JobMasterState::kCanceling) {
      mu_.Unlock();
      End(JobMasterState::kCanceled, "");
      mu_.Lock();
      return false;
    }
    if (IsTerminal()) return false;
  }
}

void JobMaster::TaskFinished() {
  bool all;
  {
    absl::MutexLock lock(&mu_);
    all = ++finished_tasks_ == total_tasks_;
  }
  if (all) End(JobMasterState::kFinished, "");
}

void JobMaster::Fail(const std::string& root_cause) { End(JobMasterState::kFailed, root_cause); }

void JobMaster::Cancel() {
  bool running;
  {
    absl::MutexLock lock(&mu_);
    if (IsTerminal() || state_ == JobMasterState::kCanceling) return;
    running = state_ == JobMasterState::kRunning;
    state_ = JobMasterState::kCanceling;
  }
  // Waiting for slots or deploying: the JobMaster's thread ends the job.
  if (!running) return;
  End(JobMasterState::kCanceled, "");
}

void JobMaster::End(JobMasterState state, const std::string& error) {
  {
    absl::MutexLock lock(&mu_);
    if (IsTerminal()) return;
    state_ = state;
    error_ = error;
    ended_ = absl::Now();
  }
  // Stops what still runs (the other tasks of a failed job) and lets the
  // TaskManagers forget the job; then every slot goes back at once.
  host_.cancel_tasks(id_);
  host_.release(id_);
  if (state == JobMasterState::kFailed) {
    spdlog::error("Job {} ('{}') FAILED: {}", id_, graph_.name, error);
  } else {
    spdlog::info("Job {} ('{}') {}", id_, graph_.name, JobMasterStateName(state));
  }
}

v1::JobStatus JobMaster::Status() const {
  absl::MutexLock lock(&mu_);
  v1::JobStatus status;
  status.set_job_id(id_);
  status.set_name(graph_.name);
  status.set_state(JobMasterStateName(state_));
  status.set_start_time_ms(absl::ToUnixMillis(started_));
  absl::Time until = IsTerminal() ? ended_ : absl::Now();
  status.set_duration_ms(absl::ToInt64Milliseconds(until - started_));
  status.set_parallelism(slots_needed_);
  status.set_tenant(submission_.tenant().empty() ? "default" : submission_.tenant());
  status.set_error(error_);
  status.set_running_tasks(state_ == JobMasterState::kRunning ? total_tasks_ - finished_tasks_ : 0);
  status.set_total_tasks(total_tasks_);
  return status;
}

}  // namespace sluice
