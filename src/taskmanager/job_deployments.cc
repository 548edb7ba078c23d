#include "taskmanager/job_deployments.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_status.h"
#include "common/sha256.h"
#include "engine/job_graph_convert.h"
#include "spdlog/spdlog.h"

namespace sluice {

JobDeployments::JobDeployments(DeploymentOptions options, DataExchange* exchange,
                               JobMasterClient* job_masters)
    : options_(std::move(options)), exchange_(exchange), job_masters_(job_masters) {
  std::error_code ignored;  // a failure shows when a library is stored there
  std::filesystem::create_directories(options_.library_dir, ignored);
}

JobDeployments::~JobDeployments() { CancelAll(); }

namespace {

absl::Status ClosedError() { return absl::UnavailableError("the TaskManager is shutting down"); }

}  // namespace

void JobDeployments::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  // A download can take up to six RPC timeouts: the TaskManager's gRPC server
  // would wait that long for the DeployJob call before it stops.
  for (grpc::ClientContext* fetch : fetches_) fetch->TryCancel();
}

void JobDeployments::CancelAll() {
  std::vector<std::string> jobs;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, deployed] : jobs_) jobs.push_back(id);
  }
  for (const auto& id : jobs) (void)Cancel(id);  // in the safe order
}

absl::StatusOr<std::string> JobDeployments::FetchLibrary(const std::string& address,
                                                         const std::string& sha256) {
  std::string path = absl::StrCat(options_.library_dir, "/", sha256, ".so");
  if (std::filesystem::exists(path)) return path;  // cached by digest
  auto stub = v1::JobManager::NewStub(CreateChannel(address, absl::Seconds(2)));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout * 6));
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return ClosedError();
    fetches_.insert(&context);
  }
  absl::Cleanup untrack = [this, &context] {
    absl::MutexLock lock(&mu_);
    fetches_.erase(&context);
  };
  v1::FetchLibraryRequest request;
  request.set_sha256(sha256);
  auto reader = stub->FetchLibrary(&context, request);
  static std::atomic<int64_t> downloads{0};  // two jobs may fetch one library at once
  std::string temp = absl::StrCat(path, ".part-", downloads++);
  std::ofstream out(temp, std::ios::binary);
  Sha256 sha;
  for (v1::LibraryChunk chunk; reader->Read(&chunk);) {
    out.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    sha.Update(chunk.data());
  }
  out.close();
  const bool written = !out.fail();
  grpc::Status status = reader->Finish();
  if (!status.ok()) {
    std::remove(temp.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot fetch job library ", sha256, ": ", status.error_message()));
  }
  if (sha.HexDigest() != sha256) {
    std::remove(temp.c_str());
    return absl::DataLossError(absl::StrCat("job library ", sha256, " failed its digest check"));
  }
  if (!written || std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return absl::UnavailableError(absl::StrCat("cannot store job library ", sha256, " in ",
                                               options_.library_dir, ": ", std::strerror(errno)));
  }
  return path;
}

absl::StatusOr<const engine::JobLibrary*> JobDeployments::Library(const std::string& address,
                                                                  const std::string& sha256) {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = libraries_.find(sha256); it != libraries_.end()) return it->second.get();
  }
  if (!Sha256::IsHexDigest(sha256)) {  // it names a file below
    return absl::InvalidArgumentError(
        absl::StrCat("library digest '", sha256, "' is not lower-case SHA-256 hex"));
  }
  auto path = FetchLibrary(address, sha256);
  if (!path.ok()) return path.status();
  auto library = engine::JobLibrary::Load(*path);
  if (!library.ok()) return library.status();
  absl::MutexLock lock(&mu_);
  auto& slot = libraries_[sha256];
  if (!slot) slot = std::move(*library);
  return slot.get();
}

absl::StatusOr<int> JobDeployments::Deploy(const v1::DeployJobRequest& request) {
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return ClosedError();
  }
  auto library = Library(request.job_manager_address(), request.library_sha256());
  if (!library.ok()) return library.status();
  auto graph = (*library)->Build(request.job_name(), {request.args().begin(), request.args().end()},
                                 request.parallelism(), request.max_parallelism());
  if (!graph.ok()) return graph.status();
  if (graph->Hash() != request.graph().hash()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "job '%s' built on TaskManager '%s' has hash %016x, not the JobMaster's %016x: its "
        "build function is not deterministic",
        request.job_name(), options_.task_manager_id, graph->Hash(), request.graph().hash()));
  }
  JobLocations where;
  int local = 0;
  auto deployed = std::make_unique<Deployed>();
  for (const auto& a : request.assignments()) {
    where[{a.vertex(), a.subtask()}] = {a.task_manager_id(), a.task_manager_data_address()};
    if (a.task_manager_id() != options_.task_manager_id) continue;
    ++local;
    deployed->attempts[{a.vertex(), a.subtask()}] = a.attempt();
  }
  deployed->job_manager_address = request.job_manager_address();
  deployed->placement = exchange_->PlacementFor(request.job_id(), std::move(where));
  engine::LocalJobOptions run;
  run.buffer_timeout = request.has_buffer_timeout_us()
                           ? absl::Microseconds(request.buffer_timeout_us())
                           : options_.buffer_timeout;
  run.buffers_per_channel = options_.buffers_per_channel;
  run.segment_size = options_.segment_size;
  run.placement = deployed->placement.get();
  run.paused = true;
  run.on_task_end = [this, job = request.job_id(), address = request.job_manager_address(),
                     attempts = deployed->attempts](int vertex, int subtask, engine::JobState state,
                                                    const std::string& error) {
    const int attempt = attempts.count({vertex, subtask}) ? attempts.at({vertex, subtask}) : 0;
    Report(job, address, vertex, subtask, attempt, ToExecutionState(state), error);
  };
  auto job = engine::LocalJob::Start(*std::move(graph), run);
  if (!job.ok()) return job.status();
  deployed->job = std::move(*job);
  bool kept = false;
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) {
      jobs_[request.job_id()] = std::move(deployed);
      kept = true;
    }
  }
  if (!kept) {  // closed while it was built: CancelAll() may have been and gone
    Stop(request.job_id(), std::move(deployed));
    return ClosedError();
  }
  spdlog::info("Deployed {} subtasks of job {} ('{}')", local, request.job_id(),
               request.job_name());
  return local;
}

absl::Status JobDeployments::Start(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  if (closed_) return ClosedError();
  auto it = jobs_.find(job_id);
  if (it == jobs_.end())
    return absl::NotFoundError(absl::StrCat("job ", job_id, " is not deployed here"));
  const Deployed& deployed = *it->second;
  // RUNNING before the threads start: a task's end can never overtake it.
  for (const auto& [task, attempt] : deployed.attempts) {
    Report(job_id, deployed.job_manager_address, task.first, task.second, attempt,
           v1::EXECUTION_STATE_RUNNING, "");
  }
  it->second->job->Run();
  return absl::OkStatus();
}

absl::Status JobDeployments::Cancel(const std::string& job_id) {
  std::unique_ptr<Deployed> deployed;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return absl::OkStatus();  // idempotent
    deployed = std::move(it->second);
    jobs_.erase(it);
  }
  Stop(job_id, std::move(deployed));
  return absl::OkStatus();
}

void JobDeployments::Stop(const std::string& job_id, std::unique_ptr<Deployed> deployed) {
  deployed->job->Cancel();           // wakes tasks, including ones waiting for credit
  exchange_->StopReceiving(job_id);  // before the gates go away
  deployed.reset();                  // joins the task threads, then closes their streams
}

void JobDeployments::ForEachTask(
    const std::function<void(const std::string&, const engine::Task&)>& visit) {
  absl::MutexLock lock(&mu_);
  for (const auto& [job_id, deployed] : jobs_) {
    for (const engine::Task* task : deployed->job->tasks()) visit(job_id, *task);
  }
}

v1::ExecutionState JobDeployments::ToExecutionState(engine::JobState state) {
  switch (state) {
    case engine::JobState::kRunning:
      return v1::EXECUTION_STATE_RUNNING;
    case engine::JobState::kFinished:
      return v1::EXECUTION_STATE_FINISHED;
    case engine::JobState::kFailed:
      return v1::EXECUTION_STATE_FAILED;
    case engine::JobState::kCanceled:
      return v1::EXECUTION_STATE_CANCELED;
  }
  return v1::EXECUTION_STATE_UNSPECIFIED;
}

void JobDeployments::Report(const std::string& job_id, const std::string& address, int vertex,
                            int subtask, int attempt, v1::ExecutionState state,
                            const std::string& error) {
  if (state == v1::EXECUTION_STATE_FAILED) {
    spdlog::warn("Subtask {} of vertex {} of job {} failed: {}", subtask, vertex, job_id, error);
  } else if (state != v1::EXECUTION_STATE_RUNNING) {
    spdlog::info("Subtask {} of vertex {} of job {} {}", subtask, vertex, job_id,
                 v1::ExecutionState_Name(state));
  }
  v1::TaskStateUpdate update;
  update.set_job_id(job_id);
  update.set_vertex(vertex);
  update.set_subtask(subtask);
  update.set_attempt(attempt);
  update.set_state(state);
  update.set_error(
      error.empty() ? "" : absl::StrCat(error, " on TaskManager '", options_.task_manager_id, "'"));
  update.set_task_manager_id(options_.task_manager_id);
  job_masters_->UpdateTaskState(address, std::move(update));
}

}  // namespace sluice
