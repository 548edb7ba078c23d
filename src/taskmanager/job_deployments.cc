#include "taskmanager/job_deployments.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/check.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_status.h"
#include "common/sha256.h"
#include "engine/checkpoint_files.h"
#include "engine/task_snapshot.h"
#include "spdlog/spdlog.h"

namespace sluice {
namespace {

absl::Status ClosedError() { return absl::UnavailableError("the TaskManager is shutting down"); }

}  // namespace

JobDeployments::JobDeployments(DeploymentOptions options, DataExchange* exchange,
                               TaskSlotTable* slots, TaskStateSink report, Executor* owner,
                               Executor* worker, CheckpointSink checkpoint_report)
    : options_(std::move(options)),
      exchange_(exchange),
      slots_(slots),
      report_(std::move(report)),
      checkpoint_report_(std::move(checkpoint_report)),
      owner_(owner),
      worker_(worker) {
  std::error_code ignored;  // a failure shows when a library is stored there
  std::filesystem::create_directories(options_.library_dir, ignored);
}

JobDeployments::~JobDeployments() {
  // Normally empty (CancelAll() ran); else the subtasks are joined here.
  for (auto& [key, deployed] : jobs_) {
    if (!deployed->job) continue;
    deployed->job->Cancel();
    exchange_->StopReceiving(ChannelScope(key));
  }
  jobs_.clear();
}

std::string JobDeployments::ChannelScope(const Key& key) {
  return key.second.empty() ? key.first : absl::StrCat(key.first, "#", key.second);
}

std::string JobDeployments::Describe(const Key& key) {
  return key.second.empty() ? absl::StrCat("job ", key.first)
                            : absl::StrCat("deployment ", key.second, " of job ", key.first);
}

namespace {

std::map<int, std::pair<std::string, int>> VerticesOf(const v1::JobGraph& graph) {
  std::map<int, std::pair<std::string, int>> vertices;
  for (const auto& v : graph.vertices()) vertices[v.id()] = {v.name(), v.parallelism()};
  return vertices;
}

}  // namespace

JobDeployments::Subtasks::Subtasks(std::string job_id, std::string job_manager_address,
                                   std::map<std::pair<int, int>, LocalTask> tasks,
                                   const v1::JobGraph& graph)
    : job_id(std::move(job_id)),
      job_manager_address(std::move(job_manager_address)),
      tasks(std::move(tasks)),
      vertices(VerticesOf(graph)) {}

std::string JobDeployments::Subtasks::TaskName(int vertex, int subtask) const {
  auto it = vertices.find(vertex);
  if (it == vertices.end()) return absl::StrCat("vertex ", vertex, " (", subtask + 1, ")");
  return absl::StrCat(it->second.first, " (", subtask + 1, "/", it->second.second, ")");
}

void JobDeployments::Subtasks::SetFreed(const std::string& allocation_id,
                                        const std::string& reason) {
  absl::MutexLock lock(&mu_);
  freed_.emplace(allocation_id, reason);
}

void JobDeployments::Subtasks::SetCheckpointDirectory(int64_t id, std::string directory) {
  absl::MutexLock lock(&mu_);
  checkpoint_dirs_[id] = std::move(directory);
}

std::string JobDeployments::Subtasks::CheckpointDirectory(int64_t id) const {
  absl::MutexLock lock(&mu_);
  auto it = checkpoint_dirs_.find(id);
  return it == checkpoint_dirs_.end() ? "" : it->second;
}

void JobDeployments::Subtasks::ForgetCheckpoint(int64_t id) {
  absl::MutexLock lock(&mu_);
  checkpoint_dirs_.erase(id);
}

std::optional<std::string> JobDeployments::Subtasks::FreedReason(
    const std::string& allocation_id) const {
  absl::MutexLock lock(&mu_);
  auto it = freed_.find(allocation_id);
  if (it == freed_.end()) return std::nullopt;
  return it->second;
}

void JobDeployments::Close() {
  absl::MutexLock lock(&fetches_mu_);
  closed_ = true;
  // A download can take up to six RPC timeouts: the TaskManager's gRPC server
  // would wait that long for the DeployJob call before it stops.
  for (grpc::ClientContext* fetch : fetches_) fetch->TryCancel();
}

absl::Status JobDeployments::CheckAllocations(
    const v1::DeployJobRequest& request,
    const std::map<std::pair<int, int>, LocalTask>& tasks) const {
  if (slots_ == nullptr) return absl::OkStatus();  // a job process: its TaskManager checked them
  for (const auto& [task, local] : tasks) {
    if (slots_->Holds(local.allocation_id, request.job_id())) continue;
    return absl::FailedPreconditionError(absl::StrFormat(
        "subtask %d of vertex %d of job %s names allocation '%s', which TaskManager '%s' does "
        "not hold for that job",
        task.second, task.first, request.job_id(), local.allocation_id, options_.task_manager_id));
  }
  return absl::OkStatus();
}

absl::Status JobDeployments::FenceOlderAttempts(
    const Key& key, const std::map<std::pair<int, int>, LocalTask>& tasks) {
  std::vector<Jobs::iterator> stale;
  for (auto it = jobs_.lower_bound({key.first, ""});
       it != jobs_.end() && it->first.first == key.first; ++it) {
    for (const auto& [task, local] : it->second->subtasks->tasks) {
      auto fresh = tasks.find(task);
      if (fresh == tasks.end()) continue;
      if (fresh->second.attempt <= local.attempt) {
        return absl::AlreadyExistsError(absl::StrFormat(
            "attempt %d of subtask %d of vertex %d of job %s runs on TaskManager '%s' already "
            "(%s); a deployment must bring a newer one",
            local.attempt, task.second, task.first, key.first, options_.task_manager_id,
            Describe(it->first)));
      }
      stale.push_back(it);
      break;
    }
  }
  for (auto it : stale) {
    spdlog::info("Cancelling {}: {} brings newer attempts", Describe(it->first), Describe(key));
    StopAndForget(it, absl::CancelledError(
                          absl::StrCat(Describe(it->first), " was fenced by ", Describe(key))));
  }
  return absl::OkStatus();
}

void JobDeployments::Deploy(const v1::DeployJobRequest& request, DeployDone done) {
  if (closed_) return done(ClosedError());
  const Key key{request.job_id(), request.deployment_id()};
  if (jobs_.count(key) > 0) {
    return done(absl::AlreadyExistsError(absl::StrCat(Describe(key), " is on TaskManager '",
                                                      options_.task_manager_id, "' already")));
  }
  std::map<std::pair<int, int>, LocalTask> tasks;
  for (const auto& a : request.assignments()) {
    if (a.task_manager_id() != options_.task_manager_id) continue;
    tasks[{a.vertex(), a.subtask()}] = LocalTask{a.attempt(), a.allocation_id()};
  }
  if (absl::Status held = CheckAllocations(request, tasks); !held.ok()) return done(held);
  if (absl::Status fenced = FenceOlderAttempts(key, tasks); !fenced.ok()) return done(fenced);
  auto deployed = std::make_unique<Deployed>();
  for (const auto& [task, local] : tasks) {
    // The JobMaster deploys only into slots it accepted, even if the answer
    // to the offer has not arrived yet; an active slot does not expire.
    if (slots_ != nullptr) slots_->Activate(local.allocation_id);
    deployed->allocations.insert(local.allocation_id);
  }
  deployed->subtasks = std::make_shared<Subtasks>(key.first, request.job_manager_address(),
                                                  std::move(tasks), request.graph());
  std::shared_ptr<const Subtasks> subtasks = deployed->subtasks;
  jobs_[key] = std::move(deployed);
  worker_->Post([this, request, key, subtasks, done = std::move(done)] {
    auto built = std::make_shared<absl::StatusOr<Built>>(Build(request, subtasks));
    owner_->Post([this, key, built, done] { OnBuilt(key, std::move(*built), done); });
  });
}

absl::StatusOr<JobDeployments::Built> JobDeployments::Build(
    const v1::DeployJobRequest& request, std::shared_ptr<const Subtasks> subtasks) {
  if (closed_) return ClosedError();
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
  for (const auto& a : request.assignments()) {
    where[{a.vertex(), a.subtask()}] = {a.task_manager_id(), a.task_manager_data_address()};
  }
  Built built;
  built.placement = exchange_->PlacementFor(
      ChannelScope({request.job_id(), request.deployment_id()}), std::move(where));
  engine::LocalJobOptions run;
  run.buffer_timeout = request.has_buffer_timeout_us()
                           ? absl::Microseconds(request.buffer_timeout_us())
                           : options_.buffer_timeout;
  run.auto_watermark_interval = request.has_auto_watermark_interval_us()
                                    ? absl::Microseconds(request.auto_watermark_interval_us())
                                    : options_.auto_watermark_interval;
  run.buffers_per_channel = options_.buffers_per_channel;
  run.segment_size = options_.segment_size;
  run.placement = built.placement.get();
  run.paused = true;
  if (!request.restore_checkpoint().empty()) {
    auto restored = engine::LoadCheckpoint(request.restore_checkpoint());
    if (!restored.ok()) return restored.status();
    run.restore = std::make_shared<engine::RestoredState>(*std::move(restored));
  }
  run.on_task_end = [this, subtasks](int vertex, int subtask, engine::JobState state,
                                     const std::string& error) {
    ReportEnd(*subtasks, vertex, subtask, state, error);
  };
  run.on_snapshot = [this, subtasks](int vertex, int subtask, int64_t id,
                                     absl::StatusOr<v1::TaskSnapshotProto> snapshot) {
    OnSnapshot(*subtasks, vertex, subtask, id, std::move(snapshot));
  };
  auto job = engine::LocalJob::Start(*std::move(graph), run);
  if (!job.ok()) return job.status();
  built.job = *std::move(job);
  return built;
}

void JobDeployments::OnBuilt(const Key& key, absl::StatusOr<Built> built, DeployDone done) {
  auto it = jobs_.find(key);
  // The entry stays while the worker builds: only OnBuilt() removes it then.
  SLUICE_CHECK(it != jobs_.end() && !it->second->job, "a deployment ended twice");
  absl::Status kept = closed_ ? ClosedError() : it->second->abandoned;
  if (built.ok()) {
    it->second->placement = std::move(built->placement);
    it->second->job = std::move(built->job);
  } else {
    kept = built.status();
  }
  if (!kept.ok()) {
    std::unique_ptr<Deployed> dropped = std::move(it->second);
    jobs_.erase(it);
    if (dropped->job) Stop(key, std::move(dropped), nullptr);
    AnswerCancelAllIfIdle();
    return done(kept);
  }
  if (options_.lease > absl::ZeroDuration()) {
    it->second->job->ExtendLease(absl::Now() + options_.lease);
  }
  const int local = static_cast<int>(it->second->subtasks->tasks.size());
  spdlog::info("Deployed {} task attempts of {} ('{}')", local, Describe(key),
               it->second->job->graph().name);
  done(local);
}

absl::Status JobDeployments::Start(const std::string& job_id, const std::string& deployment_id) {
  if (closed_) return ClosedError();
  int found = 0;
  for (auto it = jobs_.lower_bound({job_id, deployment_id});
       it != jobs_.end() && it->first.first == job_id; ++it) {
    if (!deployment_id.empty() && it->first.second != deployment_id) break;
    Deployed& deployed = *it->second;
    if (!deployed.job) continue;  // still being built
    ++found;
    if (deployed.started) continue;
    deployed.started = true;
    // RUNNING before the threads start: a task's end can never overtake it.
    const Subtasks& subtasks = *deployed.subtasks;
    for (const auto& [task, local] : subtasks.tasks) {
      Report(subtasks, task.first, task.second, local.attempt, v1::EXECUTION_STATE_RUNNING, "");
    }
    deployed.job->Run();
  }
  if (found == 0) {
    return absl::NotFoundError(absl::StrCat(Describe({job_id, deployment_id}),
                                            " is not deployed on TaskManager '",
                                            options_.task_manager_id, "'"));
  }
  return absl::OkStatus();
}

void JobDeployments::Cancel(const std::string& job_id, const std::string& deployment_id,
                            Done done) {
  bool joining = false;
  for (auto it = jobs_.lower_bound({job_id, deployment_id});
       it != jobs_.end() && it->first.first == job_id;) {
    if (!deployment_id.empty() && it->first.second != deployment_id) break;
    joining = joining || it->second->job != nullptr;
    it = StopAndForget(it, absl::CancelledError(absl::StrCat(Describe(it->first),
                                                             " was cancelled while it deployed")));
  }
  // Nothing to join (only deployments being built, which OnBuilt() drops):
  // answered at once, even while the worker is busy building them.
  if (!joining) return done(absl::OkStatus());
  // After the joins Stop() posted before it.
  worker_->Post([done = std::move(done)] { done(absl::OkStatus()); });
}

void JobDeployments::OnAllocationFreed(const std::string& allocation_id,
                                       const std::string& reason) {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    Deployed& deployed = *it->second;
    if (deployed.allocations.count(allocation_id) == 0) {
      ++it;
      continue;
    }
    const std::string why =
        absl::StrCat("its slot (allocation ", allocation_id, ") was freed: ", reason);
    if (deployed.job && deployed.job->WaitFor(absl::ZeroDuration())) {
      spdlog::info("Stopping ended {}: {}", Describe(it->first), why);  // its JobMaster let it go
    } else {
      spdlog::warn("Cancelling {}: {}", Describe(it->first), why);
    }
    deployed.subtasks->SetFreed(allocation_id, why);
    it = StopAndForget(it, absl::FailedPreconditionError(
                               absl::StrCat(Describe(it->first), " was not kept: ", why)));
  }
}

JobDeployments::Jobs::iterator JobDeployments::StopAndForget(Jobs::iterator it,
                                                             const absl::Status& why) {
  if (!it->second->job) {  // being built: OnBuilt() drops it, then answers
    if (it->second->abandoned.ok()) it->second->abandoned = why;
    return std::next(it);
  }
  Key key = it->first;
  std::unique_ptr<Deployed> stopped = std::move(it->second);
  it = jobs_.erase(it);
  Stop(key, std::move(stopped), nullptr);
  return it;
}

void JobDeployments::CancelAll(std::function<void()> done) {
  on_all_cancelled_ = std::move(done);
  for (auto it = jobs_.begin(); it != jobs_.end();) it = StopAndForget(it, ClosedError());
  AnswerCancelAllIfIdle();
}

void JobDeployments::AnswerCancelAllIfIdle() {
  if (!on_all_cancelled_ || !jobs_.empty()) return;
  // After the joins posted before it.
  worker_->Post(std::move(on_all_cancelled_));
  on_all_cancelled_ = nullptr;
}

void JobDeployments::Stop(const Key& key, std::unique_ptr<Deployed> deployed, Done done) {
  deployed->job->Cancel();                      // wakes tasks, including ones waiting for credit
  exchange_->StopReceiving(ChannelScope(key));  // before the gates go away
  std::shared_ptr<Deployed> joined = std::move(deployed);
  worker_->Post([joined, done = std::move(done)]() mutable {
    joined.reset();  // joins the task threads, then closes their streams
    if (done) done(absl::OkStatus());
  });
}

void JobDeployments::ForEachTask(const TaskVisitor& visit) const {
  for (const auto& [key, deployed] : jobs_) {
    if (!deployed->job) continue;
    for (const engine::Task* task : deployed->job->tasks()) visit(key.first, *task);
  }
}

namespace {

// Whether a checkpoint's request is meant for deployment `id`: older
// attempts of the job, fenced or not yet, take no part.
bool Addresses(const google::protobuf::RepeatedPtrField<std::string>& deployment_ids,
               const std::string& id) {
  return std::find(deployment_ids.begin(), deployment_ids.end(), id) != deployment_ids.end();
}

// "r<region>-a<attempt>" (JobMaster::DeploymentId), or false.
bool ParseDeploymentId(const std::string& id, int* region, int* attempt) {
  return std::sscanf(id.c_str(), "r%d-a%d", region, attempt) == 2;
}

}  // namespace

void JobDeployments::Confirm(const v1::JobMasterHeartbeat& heartbeat) {
  std::map<int, int> current;  // region -> attempt, as the JobMaster has them
  for (const auto& id : heartbeat.deployment_ids()) {
    int region = 0, attempt = 0;
    if (ParseDeploymentId(id, &region, &attempt)) current[region] = attempt;
  }
  const absl::Time until = absl::Now() + options_.lease;
  for (auto it = jobs_.lower_bound({heartbeat.job_id(), ""});
       it != jobs_.end() && it->first.first == heartbeat.job_id();) {
    int region = 0, attempt = 0;
    auto newer = ParseDeploymentId(it->first.second, &region, &attempt) ? current.find(region)
                                                                        : current.end();
    if (newer != current.end() && newer->second > attempt) {
      spdlog::warn("Stopping {}: its JobMaster runs attempt {} of that region now",
                   Describe(it->first), newer->second);
      it = StopAndForget(it, absl::CancelledError("a newer attempt of its region runs"));
      continue;
    }
    if (it->second->job && options_.lease > absl::ZeroDuration()) {
      it->second->job->ExtendLease(until);
    }
    ++it;
  }
}

absl::Status JobDeployments::TriggerCheckpoint(const v1::TriggerCheckpointRequest& request) {
  int triggered = 0;
  for (auto it = jobs_.lower_bound({request.job_id(), ""});
       it != jobs_.end() && it->first.first == request.job_id(); ++it) {
    Deployed& deployed = *it->second;
    if (!deployed.job || !deployed.started) continue;
    if (!Addresses(request.deployment_ids(), it->first.second)) continue;
    const engine::ChannelEvent barrier{engine::EventKind::kCheckpointBarrier,
                                       request.checkpoint_id(), request.timestamp_ms()};
    ++triggered;
    if (request.switch_to_unaligned()) {
      deployed.job->SwitchToUnaligned(barrier);
      continue;
    }
    deployed.subtasks->SetCheckpointDirectory(request.checkpoint_id(), request.directory());
    const auto after = !request.stop_sources() ? engine::Task::AfterEvent::kContinue
                       : request.drain()       ? engine::Task::AfterEvent::kEnd
                                               : engine::Task::AfterEvent::kPause;
    deployed.job->InjectAtSources(barrier, after, request.unaligned());
  }
  if (triggered == 0) {
    return absl::NotFoundError(absl::StrCat(
        "job ", request.job_id(), " does not run on TaskManager '", options_.task_manager_id, "'"));
  }
  return absl::OkStatus();
}

absl::Status JobDeployments::NotifyCheckpoint(const v1::NotifyCheckpointRequest& request) {
  for (auto it = jobs_.lower_bound({request.job_id(), ""});
       it != jobs_.end() && it->first.first == request.job_id(); ++it) {
    Deployed& deployed = *it->second;
    deployed.subtasks->ForgetCheckpoint(request.checkpoint_id());
    if (!request.completed() || !deployed.job) continue;
    if (Addresses(request.deployment_ids(), it->first.second)) {
      deployed.job->NotifyCheckpointComplete(request.checkpoint_id());
    }
  }
  return absl::OkStatus();
}

void JobDeployments::OnSnapshot(const Subtasks& subtasks, int vertex, int subtask, int64_t id,
                                absl::StatusOr<v1::TaskSnapshotProto> snapshot) {
  if (!checkpoint_report_) return;
  auto task = subtasks.tasks.find({vertex, subtask});
  v1::CheckpointAcknowledgement ack;
  ack.set_job_id(subtasks.job_id);
  ack.set_vertex(vertex);
  ack.set_subtask(subtask);
  ack.set_attempt(task == subtasks.tasks.end() ? 0 : task->second.attempt);
  ack.set_checkpoint_id(id);
  ack.set_task_manager_id(options_.task_manager_id);
  const std::string dir = subtasks.CheckpointDirectory(id);
  auto* state = ack.mutable_state();
  state->set_vertex(vertex);
  state->set_subtask(subtask);
  state->set_attempt(ack.attempt());
  if (!snapshot.ok()) {
    ack.set_decline_reason(std::string(snapshot.status().message()));
    return checkpoint_report_(subtasks.job_manager_address, std::move(ack));
  }
  // The operator ids a resume checks against the job.
  for (const auto& op : snapshot->operators()) state->add_operator_ids(op.operator_id());
  if (snapshot->has_source_position()) state->add_operator_ids(snapshot->source_operator_id());
  for (const auto& list : snapshot->list_states()) state->add_operator_ids(list.operator_id());
  std::string bytes = snapshot->SerializeAsString();
  if (dir.empty()) {
    ack.set_decline_reason("the checkpoint was not triggered on this TaskManager");
  } else if (bytes.size() <= kInlineStateBytes) {
    state->set_size_bytes(static_cast<int64_t>(bytes.size()));
    state->set_inline_bytes(std::move(bytes));
  } else {
    // Written and fsynced off the task's thread, which goes on processing.
    state_writer_.Post([this, dir, bytes = std::move(bytes), ack = std::move(ack),
                        address = subtasks.job_manager_address]() mutable {
      const std::string name =
          absl::StrCat("task-", ack.vertex(), "-", ack.subtask(), "-", ack.attempt());
      absl::Status written = engine::WriteCheckpointFile(
          absl::StrCat(dir, "/", name), engine::CheckpointFileKind::kTaskState, bytes);
      if (written.ok()) {
        ack.mutable_state()->set_path(name);
        ack.mutable_state()->set_size_bytes(static_cast<int64_t>(bytes.size()));
      } else {
        ack.set_decline_reason(std::string(written.message()));
      }
      checkpoint_report_(address, std::move(ack));
    });
    return;
  }
  checkpoint_report_(subtasks.job_manager_address, std::move(ack));
}

void JobDeployments::ReportEnd(const Subtasks& subtasks, int vertex, int subtask,
                               engine::JobState state, const std::string& error) {
  auto it = subtasks.tasks.find({vertex, subtask});
  const int attempt = it == subtasks.tasks.end() ? 0 : it->second.attempt;
  v1::ExecutionState reported = ToExecutionState(state);
  std::string why = error;
  if (reported == v1::EXECUTION_STATE_CANCELED && it != subtasks.tasks.end()) {
    // Cancelled because its slot went: the JobMaster must not wait for it.
    if (auto freed = subtasks.FreedReason(it->second.allocation_id)) {
      reported = v1::EXECUTION_STATE_FAILED;
      why = *freed;
    }
  }
  Report(subtasks, vertex, subtask, attempt, reported, why);
}

absl::StatusOr<std::string> JobDeployments::FetchLibrary(const std::string& address,
                                                         const std::string& sha256) {
  std::string path = absl::StrCat(options_.library_dir, "/", sha256, ".so");
  if (std::filesystem::exists(path)) {  // cached by digest, if it still has it
    if (Sha256::OfFile(path) == sha256) return path;
    spdlog::warn("Cached job library {} does not match its digest: fetching it again", path);
    std::remove(path.c_str());
  }
  auto stub = v1::JobManager::NewStub(CreateChannel(address, absl::Seconds(2)));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout * 6));
  {
    absl::MutexLock lock(&fetches_mu_);  // Close() sets closed_ under it
    if (closed_) return ClosedError();
    fetches_.insert(&context);
  }
  absl::Cleanup untrack = [this, &context] {
    absl::MutexLock lock(&fetches_mu_);
    fetches_.erase(&context);
  };
  v1::FetchLibraryRequest request;
  request.set_sha256(sha256);
  auto reader = stub->FetchLibrary(&context, request);
  // Unique names for the partial files: the job processes of one TaskManager
  // share its library directory, and two jobs of one library fetch it at once.
  static std::atomic<int64_t> downloads{0};
  std::string temp = absl::StrCat(path, ".part-", getpid(), "-", downloads++);
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
  if (auto it = libraries_.find(sha256); it != libraries_.end()) return it->second.get();
  if (!Sha256::IsHexDigest(sha256)) {  // it names a file below
    return absl::InvalidArgumentError(
        absl::StrCat("library digest '", sha256, "' is not lower-case SHA-256 hex"));
  }
  auto path = FetchLibrary(address, sha256);
  if (!path.ok()) return path.status();
  auto library = engine::JobLibrary::Load(*path);
  if (!library.ok()) return library.status();
  return (libraries_[sha256] = *std::move(library)).get();
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

void JobDeployments::Report(const Subtasks& subtasks, int vertex, int subtask, int attempt,
                            v1::ExecutionState state, const std::string& error) {
  const std::string& job_id = subtasks.job_id;
  const std::string& address = subtasks.job_manager_address;
  // As Flink: "Map -> Sink: Print (2/4)#0 of job <id> switched to FINISHED".
  const std::string task = absl::StrCat(subtasks.TaskName(vertex, subtask), "#", attempt);
  if (state == v1::EXECUTION_STATE_FAILED) {
    spdlog::warn("{} of job {} failed: {}", task, job_id, error);
  } else {
    spdlog::info(
        "{} of job {} switched to {}", task, job_id,
        std::string(absl::StripPrefix(v1::ExecutionState_Name(state), "EXECUTION_STATE_")));
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
  report_(address, std::move(update));
}

}  // namespace sluice
