#include "jobmanager/job_master.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/config/value_parsers.h"
#include "common/random_id.h"
#include "engine/checkpoint_files.h"
#include "spdlog/spdlog.h"

namespace sluice {

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
    case JobMasterState::kRestarting:
      return "RESTARTING";
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

std::shared_ptr<JobMaster> JobMaster::Create(std::string id, v1::JobSubmission submission,
                                             JobGraph graph, JobMasterServices services) {
  std::shared_ptr<JobMaster> master(
      new JobMaster(std::move(id), std::move(submission), std::move(graph), std::move(services)));
  master->Publish();
  return master;
}

JobMaster::JobMaster(std::string id, v1::JobSubmission submission, JobGraph graph,
                     JobMasterServices services)
    : id_(std::move(id)),
      submission_(std::move(submission)),
      graph_(std::move(graph)),
      services_(std::move(services)),
      slots_needed_(SlotsNeeded(graph_)),
      started_(services_.clock->Now()),
      executions_(graph_) {
  // Savepoints need the coordinator even without periodic checkpoints.
  if (!services_.schedule) {
    SLUICE_CHECK(!services_.checkpointing.enabled(), "checkpointing needs a scheduler");
    return;
  }
  std::vector<TaskAttemptId> tasks;
  for (const auto& e : executions_.executions()) tasks.push_back({e.vertex, e.subtask, e.attempt});
  checkpoint_hooks_ = std::make_unique<CheckpointHooks>(this);
  checkpoints_ = std::make_unique<CheckpointCoordinator>(services_.checkpointing, std::move(tasks),
                                                         services_.clock, services_.schedule,
                                                         checkpoint_hooks_.get());
  checkpoints_->ContinueAfter(submission_.restore_checkpoint_id());
}

// A JobMaster forgotten before its cancels were answered still frees its slots.
JobMaster::~JobMaster() {
  if (ended() && !slots_released_) services_.resource_manager->ReleaseJob(id_);
}

// The coordinator's way out, on the JobMaster's executor.
class JobMaster::CheckpointHooks final : public CheckpointCoordinator::Hooks {
 public:
  explicit CheckpointHooks(JobMaster* master) : m_(master) {}
  absl::Status TriggerSources(int64_t id, absl::Time timestamp,
                              const SavepointTrigger* savepoint) override {
    const auto& o = m_->services_.checkpointing;
    if (savepoint == nullptr) {
      if (absl::Status created = engine::CreateCheckpointDirectory(o.dir, m_->id_, id);
          !created.ok()) {
        return created;
      }
    }
    v1::TriggerCheckpointRequest request;
    request.set_job_id(m_->id_);
    request.set_checkpoint_id(id);
    request.set_timestamp_ms(absl::ToUnixMillis(timestamp));
    request.set_directory(savepoint ? savepoint->directory
                                    : engine::CheckpointDirectory(o.dir, m_->id_, id));
    request.set_stop_sources(savepoint && savepoint->stop);
    request.set_unaligned(savepoint == nullptr && o.unaligned &&
                          o.aligned_timeout == absl::ZeroDuration());
    request.set_drain(savepoint && savepoint->drain);
    Send(std::move(request));
    return absl::OkStatus();
  }
  void SwitchToUnaligned(int64_t id, absl::Time timestamp) override {
    spdlog::info("Job {}: checkpoint {} goes unaligned after {} of alignment", m_->id_, id,
                 HumanDuration(m_->services_.checkpointing.aligned_timeout));
    v1::TriggerCheckpointRequest request;
    request.set_job_id(m_->id_);
    request.set_checkpoint_id(id);
    request.set_timestamp_ms(absl::ToUnixMillis(timestamp));
    request.set_switch_to_unaligned(true);
    Send(std::move(request));
  }
  void NotifyComplete(int64_t id) override { Notify(id, true, ""); }
  // To every TaskManager of the job's current deployments.
  void Send(v1::TriggerCheckpointRequest request) {
    for (const auto& deployment : m_->DeploymentIds()) request.add_deployment_ids(deployment);
    m_->ToTaskManagers([&request, job = m_->id_](TaskManagerGateway& tm) {
      tm.TriggerCheckpoint(request, [job, id = request.checkpoint_id()](absl::Status status) {
        // Not fatal: the checkpoint expires without this TaskManager's acks.
        if (!status.ok())
          spdlog::warn("Job {}: checkpoint {} not triggered: {}", job, id,
                       std::string(status.message()));
      });
    });
  }
  void SavepointDone(int64_t id, const absl::StatusOr<std::string>& directory) override {
    m_->OnSavepointDone(id, directory);
  }
  void NotifyAborted(int64_t id, const std::string& reason) override {
    spdlog::warn("Job {}: checkpoint {} failed: {}", m_->id_, id, reason);
    Notify(id, false, reason);
  }
  void Finalize(const CompletedCheckpoint& checkpoint,
                std::function<void(absl::Status)> written) override {
    const std::string directory =
        checkpoint.savepoint ? checkpoint.savepoint->directory : Directory(checkpoint.id);
    std::string done =
        absl::StrCat(checkpoint.savepoint ? "savepoint " : "checkpoint ", checkpoint.id,
                     " complete (", checkpoint.size_bytes(), " bytes)");
    m_->OffThread(
        [directory, meta = Metadata(checkpoint)] { return engine::WriteMetadata(directory, meta); },
        [master = m_, job = m_->id_, done = std::move(done),
         written = std::move(written)](absl::Status status) {
          if (status.ok()) spdlog::info("Job {}: {}", job, done);
          written(std::move(status));
          master->Publish();  // the checkpoint's new state, for REST and metrics
        });
  }
  void Discard(const CompletedCheckpoint& checkpoint) override {
    m_->OffThread(
        [directory = Directory(checkpoint.id)] { return engine::DiscardCheckpoint(directory); },
        [job = m_->id_](const absl::Status& gone) {
          if (!gone.ok()) spdlog::warn("Job {}: {}", job, std::string(gone.message()));
        });
  }
  void FailJob(const std::string& reason) override {
    m_->End(JobMasterState::kFailed, reason);  // restarts come with the restart strategy
  }

 private:
  v1::CheckpointMetadata Metadata(const CompletedCheckpoint& checkpoint) const {
    v1::CheckpointMetadata meta;
    meta.set_job_id(m_->id_);
    meta.set_checkpoint_id(checkpoint.id);
    meta.set_trigger_time_ms(absl::ToUnixMillis(checkpoint.triggered));
    meta.set_completion_time_ms(absl::ToUnixMillis(checkpoint.completed));
    meta.set_graph_hash(m_->graph_.Hash());
    meta.set_savepoint(checkpoint.savepoint.has_value());
    for (const auto& [task, state] : checkpoint.states) {
      auto* handle = meta.add_states();
      handle->set_vertex(task.vertex);
      handle->set_subtask(task.subtask);
      handle->set_attempt(task.attempt);
      handle->set_path(state.path);
      handle->set_inline_bytes(state.inline_bytes);
      handle->set_size_bytes(state.size_bytes);
      for (const auto& op : state.operator_ids) handle->add_operator_ids(op);
    }
    return meta;
  }
  std::string Directory(int64_t id) const {
    return engine::CheckpointDirectory(m_->services_.checkpointing.dir, m_->id_, id);
  }
  void Notify(int64_t id, bool completed, const std::string& reason) {
    v1::NotifyCheckpointRequest request;
    request.set_job_id(m_->id_);
    request.set_checkpoint_id(id);
    request.set_completed(completed);
    request.set_reason(reason);
    for (const auto& deployment : m_->DeploymentIds()) request.add_deployment_ids(deployment);
    m_->ToTaskManagers(
        [&request](TaskManagerGateway& tm) { tm.NotifyCheckpoint(request, [](absl::Status) {}); });
  }

  JobMaster* const m_;
};

// File work that may block on fsync runs on the I/O executor, then `then`
// with its outcome back on the JobMaster's, if the JobMaster is still
// there; both inline without an I/O executor.
void JobMaster::OffThread(std::function<absl::Status()> io,
                          std::function<void(absl::Status)> then) {
  if (!services_.io_executor) return then(io());
  services_.io_executor->Post([io = std::move(io), then = std::move(then),
                               executor = services_.executor, master = weak_from_this()]() mutable {
    executor->Post([status = io(), then = std::move(then), master = std::move(master)]() mutable {
      if (auto self = master.lock()) then(std::move(status));
    });
  });
}

template <typename F>
void JobMaster::Post(F handler) {
  services_.executor->Post([weak = weak_from_this(), handler = std::move(handler)]() mutable {
    if (auto self = weak.lock()) handler(*self);
  });
}

void JobMaster::Start() {
  Post([](JobMaster& m) {
    v1::DeclareResources declaration;
    declaration.set_job_id(m.id_);
    declaration.set_tenant(m.submission_.tenant());
    declaration.set_token(m.submission_.token());
    declaration.set_priority(m.submission_.priority());
    declaration.set_min_task_managers(m.submission_.num_task_managers());
    auto* requirement = declaration.add_requirements();
    requirement->set_desired(m.slots_needed_);
    requirement->set_min(m.slots_needed_);
    m.services_.resource_manager->DeclareResources(declaration);
    spdlog::info("Job {} ('{}') needs {} slots for {} tasks", m.id_, m.graph_.name, m.slots_needed_,
                 m.executions_.executions().size());
    m.ScheduleHeartbeats();
  });
}

void JobMaster::ScheduleHeartbeats() {
  if (!services_.schedule || services_.heartbeat_interval <= absl::ZeroDuration()) return;
  services_.schedule(services_.heartbeat_interval, [weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      self->Post([](JobMaster& m) {
        if (m.ended()) return;  // silence now tells the TaskManagers to let go
        m.SendHeartbeats();
        m.CheckTaskManagersHeard();
        m.ScheduleHeartbeats();
      });
    }
  });
}

void JobMaster::SendHeartbeats() {
  std::set<std::string> addresses = task_managers_;
  for (const auto& slot : slots_) addresses.insert(slot.task_manager_address);
  v1::JobMasterHeartbeat heartbeat;
  heartbeat.set_job_id(id_);
  for (const auto& deployment : DeploymentIds()) heartbeat.add_deployment_ids(deployment);
  const absl::Time now = services_.clock->Now();
  for (const auto& address : addresses) {
    heard_.try_emplace(address, now);  // a new one has a whole timeout to answer
    services_.task_managers(address)->Heartbeat(
        heartbeat,
        [weak = weak_from_this(), address](absl::StatusOr<v1::JobMasterHeartbeatAnswer> answer) {
          if (!answer.ok()) return;
          if (auto self = weak.lock()) {
            self->Post([address, answer = *std::move(answer)](JobMaster& m) {
              m.OnHeartbeatAnswer(address, answer);
            });
          }
        });
  }
  std::erase_if(heard_, [&](const auto& entry) { return addresses.count(entry.first) == 0; });
}

void JobMaster::NoteAttemptStarts() {
  const absl::Time now = services_.clock->Now();
  for (const auto& e : executions_.executions()) {
    if (e.state != v1::EXECUTION_STATE_DEPLOYING) continue;
    auto& started = attempt_started_[{e.vertex, e.subtask}];
    if (started.second == absl::Time() || started.first != e.attempt) started = {e.attempt, now};
  }
}

void JobMaster::OnHeartbeatAnswer(const std::string& address,
                                  const v1::JobMasterHeartbeatAnswer& answer) {
  heard_[address] = services_.clock->Now();
  if (answer.subtasks().empty()) return;
  for (const auto& subtask : answer.subtasks()) {
    subtask_metrics_[{subtask.vertex(), subtask.subtask()}] = subtask;
  }
  Publish();
}

void JobMaster::RecordException(const std::string& reason) {
  v1::JobException exception;
  exception.set_timestamp_ms(absl::ToUnixMillis(services_.clock->Now()));
  exception.set_message(reason);
  exception.set_task_name(std::exchange(failing_task_, ""));
  exception.set_location(std::exchange(failing_location_, ""));
  exceptions_.push_back(std::move(exception));
  if (exceptions_.size() > kExceptionsKept) exceptions_.erase(exceptions_.begin());
}

void JobMaster::CheckTaskManagersHeard() {
  const absl::Time deadline = services_.clock->Now() - services_.heartbeat_timeout;
  std::vector<std::string> silent;
  for (const auto& [address, heard] : heard_) {
    if (heard < deadline) silent.push_back(address);
  }
  for (const auto& address : silent) {
    heard_.erase(address);
    // Its slots are gone with it; the ResourceManager replaces them once it
    // declares the TaskManager lost too.
    std::erase_if(slots_, [&](const OfferedSlot& s) { return s.task_manager_address == address; });
    const std::string reason =
        absl::StrCat("TaskManager ", address, " did not answer the JobMaster's heartbeats for ",
                     absl::FormatDuration(services_.heartbeat_timeout));
    spdlog::warn("Job {}: {}", id_, reason);
    if (task_managers_.count(address) != 0 && state_ != JobMasterState::kRestarting) {
      Failover(reason);
    }
  }
}

void JobMaster::OnSlots(std::vector<OfferedSlot> slots) {
  Post([slots = std::move(slots)](JobMaster& m) {
    m.slots_ = slots;
    if (m.state_ == JobMasterState::kRestarting) return m.TryRedeploy();
    if (m.state_ != JobMasterState::kCreated || m.deploying_) return;
    if (static_cast<int>(slots.size()) < m.slots_needed_) return;
    m.Deploy(slots);
  });
}

void JobMaster::OnSlotRequestFailed(std::string reason) {
  Post([reason = std::move(reason)](JobMaster& m) { m.End(JobMasterState::kFailed, reason); });
}

void JobMaster::OnSlotLost(std::string allocation_id, std::string reason) {
  Post([allocation_id = std::move(allocation_id), reason = std::move(reason)](JobMaster& m) {
    if (m.ended()) return;
    const size_t held = std::erase_if(
        m.slots_, [&](const OfferedSlot& s) { return s.allocation_id == allocation_id; });
    if (m.state_ == JobMasterState::kRestarting) return;  // it waits for slots anyway
    const int failed = m.executions_.FailAllocation(allocation_id, reason);
    if (held == 0 && failed == 0) return;  // not one of its slots (a grant it never got)
    // A running job cannot continue without a slot: it fails over.
    if (failed > 0 || !m.deploying_) m.Failover(reason);
  });
}

void JobMaster::OnTaskState(v1::TaskStateUpdate update) {
  Post([update = std::move(update)](JobMaster& m) { m.HandleTaskState(update); });
}

void JobMaster::OnCheckpointAck(v1::CheckpointAcknowledgement ack) {
  Post([ack = std::move(ack)](JobMaster& m) { m.HandleCheckpointAck(ack); });
}

void JobMaster::HandleCheckpointAck(const v1::CheckpointAcknowledgement& ack) {
  if (!checkpoints_) return;
  const TaskAttemptId task{ack.vertex(), ack.subtask(), ack.attempt()};
  if (!ack.decline_reason().empty()) {
    checkpoints_->Decline(ack.checkpoint_id(), task, ack.decline_reason());
  } else {
    TaskStateHandle handle;
    handle.path = ack.state().path();
    handle.inline_bytes = ack.state().inline_bytes();
    handle.size_bytes = ack.state().size_bytes();
    handle.operator_ids.assign(ack.state().operator_ids().begin(),
                               ack.state().operator_ids().end());
    auto result = checkpoints_->Acknowledge(ack.checkpoint_id(), task, std::move(handle));
    if (result != CheckpointCoordinator::Ack::kRecorded) {
      spdlog::debug(
          "Job {}: ignored an acknowledgement of checkpoint {} by subtask {} of vertex {}", id_,
          ack.checkpoint_id(), ack.subtask(), ack.vertex());
    }
  }
  Publish();
}

std::string JobMaster::DeploymentId(int region, int attempt) {
  return absl::StrCat("r", region, "-a", attempt);
}

std::vector<std::string> JobMaster::DeploymentIds() const {
  std::map<int, int> attempts;  // region -> its latest attempt
  for (const auto& e : executions_.executions()) {
    attempts[e.region] = std::max(attempts[e.region], e.attempt);
  }
  std::vector<std::string> ids;
  for (const auto& [region, attempt] : attempts) ids.push_back(DeploymentId(region, attempt));
  return ids;
}

void JobMaster::ToTaskManagers(const std::function<void(TaskManagerGateway&)>& call) {
  for (const auto& address : task_managers_) call(*services_.task_managers(address));
}

void JobMaster::StartCheckpoints() {
  if (!checkpoints_) return;
  std::vector<TaskAttemptId> tasks;
  for (const auto& e : executions_.executions()) tasks.push_back({e.vertex, e.subtask, e.attempt});
  checkpoints_->SetTasks(std::move(tasks));
  checkpoints_->Start();
}

CheckpointStats JobMaster::CheckpointStatistics() const {
  absl::MutexLock lock(&status_mu_);
  return checkpoint_stats_;
}

void JobMaster::Cancel(std::function<void()> handled) {
  Post([handled = std::move(handled)](JobMaster& m) {
    if (!m.ended()) m.End(JobMasterState::kCanceled, "");
    if (handled) handled();
  });
}

// Slot i hosts subtask i of every vertex (slot sharing). Each pipelined
// region is its own deployment, sent to every TaskManager it spans with the
// region's whole placement, so each knows where its channels lead.
void JobMaster::Deploy(const std::vector<OfferedSlot>& offered) {
  std::vector<OfferedSlot> slots = offered;
  std::sort(slots.begin(), slots.end(),
            [](const auto& a, const auto& b) { return a.allocation_id < b.allocation_id; });
  executions_.Schedule(slots);
  executions_.TransitionAll(v1::EXECUTION_STATE_SCHEDULED, v1::EXECUTION_STATE_DEPLOYING);
  NoteAttemptStarts();
  RecordRestore();
  deploying_ = true;
  std::map<int, std::set<std::string>> region_task_managers;
  for (const auto& e : executions_.executions()) {
    task_managers_.insert(e.slot.task_manager_address);
    region_task_managers[e.region].insert(e.slot.task_manager_address);
  }
  awaiting_deploy_ = 0;
  for (const auto& [region, addresses] : region_task_managers) {
    awaiting_deploy_ += static_cast<int>(addresses.size());
  }
  for (const auto& [region, addresses] : region_task_managers) SendDeployment(region, addresses);
  Publish();
}

v1::DeployJobRequest JobMaster::DeployRequest(int region) const {
  v1::DeployJobRequest request;
  request.set_job_id(id_);
  request.set_job_manager_address(services_.job_manager_address);
  request.set_library_sha256(submission_.library_sha256());
  request.set_job_name(submission_.job_name());
  *request.mutable_args() = submission_.args();
  request.set_parallelism(submission_.parallelism());
  request.set_max_parallelism(submission_.max_parallelism());
  if (submission_.has_auto_watermark_interval_us()) {
    request.set_auto_watermark_interval_us(submission_.auto_watermark_interval_us());
  }
  if (submission_.has_buffer_timeout_us()) {
    request.set_buffer_timeout_us(submission_.buffer_timeout_us());
  }
  *request.mutable_graph() = submission_.graph();
  int attempt = 0;
  for (const auto& e : executions_.executions()) {
    if (e.region != region) continue;
    attempt = std::max(attempt, e.attempt);
    auto* a = request.add_assignments();
    a->set_vertex(e.vertex);
    a->set_subtask(e.subtask);
    a->set_attempt(e.attempt);
    a->set_allocation_id(e.slot.allocation_id);
    a->set_task_manager_id(e.slot.task_manager_id);
    a->set_task_manager_address(e.slot.task_manager_address);
    a->set_task_manager_data_address(e.slot.data_address);
  }
  request.set_deployment_id(DeploymentId(region, attempt));
  if (auto restore = RestorePoint()) request.set_restore_checkpoint(restore->path);
  return request;
}

std::optional<CheckpointStats::Restore> JobMaster::RestorePoint() const {
  CheckpointStats::Restore restore;
  restore.at = services_.clock->Now();
  if (const CompletedCheckpoint* latest = checkpoints_ ? checkpoints_->latest() : nullptr) {
    restore.id = latest->id;
    restore.path = engine::CheckpointDirectory(services_.checkpointing.dir, id_, latest->id);
  } else if (!submission_.restore_path().empty()) {  // sluice run -s, checked at submission
    restore.id = submission_.restore_checkpoint_id();
    restore.path = submission_.restore_path();
    restore.savepoint = true;  // or another job's retained checkpoint: resumed by the user
  } else {
    return std::nullopt;
  }
  return restore;
}

std::string JobMaster::DescribeRestorePoint() const {
  auto restore = RestorePoint();
  return restore ? absl::StrCat(restore->savepoint ? "savepoint " : "checkpoint ", restore->id)
                 : std::string("the beginning");
}

void JobMaster::RecordRestore() {
  if (auto restore = RestorePoint()) {
    latest_restore_ = *std::move(restore);
    ++restores_;
  }
}

void JobMaster::OnDeployed(const std::string& address, const absl::Status& status) {
  if (ended() || !deploying_) return;  // End() or Failover() stopped what was deployed
  if (!status.ok()) {
    Failover(absl::StrCat("deploying to TaskManager ", address, " failed: ", status.message()));
    return;
  }
  if (--awaiting_deploy_ > 0) return;
  // Everything is wired before anything starts, so no data arrives early.
  deploying_ = false;
  region_restart_ = false;
  state_ = JobMasterState::kRunning;
  for (const auto& tm : task_managers_) {
    services_.task_managers(tm)->StartTasks(id_, [weak = weak_from_this(), tm,
                                                  restarts = restarts_](absl::Status started) {
      if (started.ok()) return;
      if (auto self = weak.lock()) {
        self->Post([tm, started, restarts](JobMaster& m) {
          if (m.ended() || restarts != m.restarts_) return;
          m.Failover(absl::StrCat("starting on TaskManager ", tm, " failed: ", started.message()));
        });
      }
    });
  }
  spdlog::info("Job {} runs on {} TaskManager(s)", id_, task_managers_.size());
  StartCheckpoints();
  Publish();
}

void JobMaster::HandleTaskState(const v1::TaskStateUpdate& update) {
  if (ended()) return;
  const ExecutionId id{update.vertex(), update.subtask(), update.attempt()};
  auto report = executions_.Update(id, update.state(), update.error());
  if (report != ExecutionGraph::Report::kApplied) {
    spdlog::debug("Job {}: ignored {} of subtask {} of vertex {} (attempt {})", id_,
                  ExecutionStateName(update.state()), id.subtask, id.vertex, id.attempt);
    return;
  }
  if (update.state() == v1::EXECUTION_STATE_FAILED) {
    const Execution* failed = executions_.Find(update.vertex(), update.subtask());
    if (failed != nullptr) {
      const JobVertex& vertex = graph_.vertices.at(static_cast<size_t>(failed->vertex));
      failing_task_ =
          absl::StrCat(vertex.name, " (", failed->subtask + 1, "/", vertex.parallelism, ")");
      failing_location_ = failed->slot.task_manager_address;
    }
    if (failed != nullptr && executions_.regions() > 1 && state_ == JobMasterState::kRunning &&
        !deploying_ && !region_restart_) {
      return FailoverRegion(failed->region, *executions_.Failure());
    }
    Failover(*executions_.Failure());
  } else if (executions_.AllFinished()) {
    // A stop ends once its savepoint is written (it may still be).
    if (stopping_) return Publish();
    End(JobMasterState::kFinished, "");
  } else {
    Publish();
  }
}

std::optional<absl::Duration> JobMaster::RestartDelay() {
  if (!services_.restart_strategy || !services_.schedule) return std::nullopt;
  return services_.restart_strategy->OnFailure(services_.clock->Now());
}

void JobMaster::Failover(const std::string& reason) {
  if (ended()) return;
  const std::optional<absl::Duration> wait = RestartDelay();
  if (!wait) return End(JobMasterState::kFailed, reason);
  RecordException(reason);
  ++restarts_;
  error_ = reason;
  state_ = JobMasterState::kRestarting;
  deploying_ = false;
  restart_due_ = false;
  if (checkpoints_) checkpoints_->Stop("the job is restarting");
  region_restart_ = false;
  FailSavepoints("the job is restarting");
  // The old attempts stop; a TaskManager also fences them when the new
  // attempts arrive. By their ids: a cancel that reaches a TaskManager after
  // the new attempts (a slow one) must not stop those.
  const std::vector<std::string> old_deployments = DeploymentIds();
  for (const auto& tm : task_managers_) {
    for (const auto& deployment : old_deployments) {
      services_.task_managers(tm)->CancelTasks(id_, deployment, [](absl::Status) {});
    }
  }
  task_managers_.clear();
  executions_.Restart();
  spdlog::warn("Job {} ('{}') restarts in {} from {} ({}, restart {}): {}", id_, graph_.name,
               absl::FormatDuration(*wait), DescribeRestorePoint(),
               services_.restart_strategy->Describe(), restarts_, reason);
  services_.schedule(*wait, [weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      self->Post([](JobMaster& m) {
        m.restart_due_ = true;
        m.TryRedeploy();
      });
    }
  });
  Publish();
}

// A task failed in its slot: only its pipelined region starts again (from
// the latest checkpoint, in the same slots), as Flink's region failover;
// the job stays RUNNING. A second failure meanwhile restarts the whole job.
void JobMaster::FailoverRegion(int region, const std::string& reason) {
  const std::optional<absl::Duration> wait = RestartDelay();
  if (!wait) return End(JobMasterState::kFailed, reason);
  RecordException(reason);
  ++restarts_;
  error_ = reason;
  region_restart_ = true;
  if (checkpoints_) checkpoints_->Stop("a region is restarting");
  FailSavepoints("a region is restarting");
  executions_.RestartRegion(region);
  spdlog::warn("Job {} ('{}'): region {} restarts in {} from {} (restart {}): {}", id_, graph_.name,
               region, absl::FormatDuration(*wait), DescribeRestorePoint(), restarts_, reason);
  services_.schedule(*wait, [weak = weak_from_this(), region, generation = restarts_] {
    if (auto self = weak.lock()) {
      self->Post([region, generation](JobMaster& m) {
        if (m.restarts_ == generation && m.state_ == JobMasterState::kRunning) {
          m.DeployRegion(region);
        }
      });
    }
  });
  Publish();
}

// Its new attempts fence the old ones on each TaskManager.
void JobMaster::DeployRegion(int region) {
  executions_.TransitionAll(v1::EXECUTION_STATE_SCHEDULED, v1::EXECUTION_STATE_DEPLOYING);
  NoteAttemptStarts();
  RecordRestore();
  const std::set<std::string> addresses = executions_.TaskManagersOf(region);
  deploying_ = true;
  awaiting_deploy_ = static_cast<int>(addresses.size());
  SendDeployment(region, addresses);
  Publish();
}

void JobMaster::SendDeployment(int region, const std::set<std::string>& addresses) {
  const v1::DeployJobRequest request = DeployRequest(region);
  for (const auto& address : addresses) {
    services_.task_managers(address)->DeployTasks(
        request, [weak = weak_from_this(), address, restarts = restarts_](absl::Status status) {
          if (auto self = weak.lock()) {
            self->Post([address, status, restarts](JobMaster& m) {
              if (restarts == m.restarts_) m.OnDeployed(address, status);  // else: stale
            });
          }
        });
  }
}

void JobMaster::TryRedeploy() {
  if (state_ != JobMasterState::kRestarting || !restart_due_ || deploying_) return;
  if (static_cast<int>(slots_.size()) < slots_needed_) return;  // until slots come back
  Deploy(slots_);
}

bool JobMaster::ended() const {
  return state_ == JobMasterState::kFinished || state_ == JobMasterState::kCanceled ||
         state_ == JobMasterState::kFailed;
}

void JobMaster::End(JobMasterState state, const std::string& error) {
  if (ended()) return;
  if (state == JobMasterState::kFailed) RecordException(error);
  state_ = state;
  error_ = error;
  ended_ = services_.clock->Now();
  deploying_ = false;
  executions_.EndAll(state == JobMasterState::kFailed ? v1::EXECUTION_STATE_FAILED
                                                      : v1::EXECUTION_STATE_CANCELED);
  if (checkpoints_) checkpoints_->Stop(absl::StrCat("the job is ", JobMasterStateName(state)));
  FailSavepoints(absl::StrCat("the job is ", JobMasterStateName(state)));
  if (checkpoints_ && services_.checkpointing.enabled()) {
    // externalized-checkpoint-retention: what the ended job keeps for a resume.
    const std::string job_dir = absl::StrCat(services_.checkpointing.dir, "/", id_);
    if (!services_.checkpointing.Retains(state == JobMasterState::kFailed)) {
      // After any metadata write still under way.
      OffThread([job_dir] { return engine::DiscardCheckpoint(job_dir); },
                [job = id_](const absl::Status& gone) {
                  if (!gone.ok()) spdlog::warn("Job {}: {}", job, std::string(gone.message()));
                });
    } else if (const CompletedCheckpoint* latest = checkpoints_->latest()) {
      spdlog::info("Job {}: checkpoint {} retained in {}/chk-{} (resume with sluice run -s)", id_,
                   latest->id, job_dir, latest->id);
    }
  }
  ReleaseSlotsOnceCancelled();
  if (state == JobMasterState::kFailed) {
    spdlog::error("Job {} ('{}') FAILED: {}", id_, graph_.name, error);
  } else {
    spdlog::info("Job {} ('{}') {}", id_, graph_.name, JobMasterStateName(state));
  }
  Publish();
}

// Stops what still runs (the other tasks of a failed job) and lets the
// TaskManagers forget the job; then every slot goes back at once. Not
// before, as Flink frees a slot when its task is gone: a slot freed first
// fails the task a slow cancel has not reached yet. Each cancel ends within
// rpc.timeout.
void JobMaster::ReleaseSlotsOnceCancelled() {
  if (task_managers_.empty()) return ReleaseSlots();
  auto waiting = std::make_shared<size_t>(task_managers_.size());
  for (const auto& tm : task_managers_) {
    services_.task_managers(tm)->CancelTasks(
        id_, "", [executor = services_.executor, master = weak_from_this(), waiting](absl::Status) {
          executor->Post([master, waiting] {
            auto self = master.lock();
            if (self && --*waiting == 0) self->ReleaseSlots();
          });
        });
  }
}

void JobMaster::ReleaseSlots() {
  if (slots_released_) return;
  slots_released_ = true;
  services_.resource_manager->ReleaseJob(id_);
}

std::string JobMaster::TriggerSavepoint(SavepointTrigger trigger, SavepointDone done) {
  const std::string trigger_id = RandomHexId(32);
  {
    absl::MutexLock lock(&status_mu_);
    savepoint_ops_[trigger_id] = SavepointOperation{};
    while (savepoint_ops_.size() > kSavepointsKept) savepoint_ops_.erase(savepoint_ops_.begin());
  }
  Post([trigger_id, trigger = std::move(trigger), done = std::move(done)](JobMaster& m) mutable {
    m.StartSavepoint(trigger_id, std::move(trigger), std::move(done));
  });
  return trigger_id;
}

std::optional<JobMaster::SavepointOperation> JobMaster::Savepoint(
    const std::string& trigger_id) const {
  absl::MutexLock lock(&status_mu_);
  auto it = savepoint_ops_.find(trigger_id);
  if (it == savepoint_ops_.end()) return std::nullopt;
  return it->second;
}

void JobMaster::StartSavepoint(const std::string& trigger_id, SavepointTrigger trigger,
                               SavepointDone done) {
  auto fail = [&](const std::string& why) {
    FinishSavepoint({trigger_id, trigger.stop, trigger.drain, std::move(done)},
                    absl::FailedPreconditionError(why));
  };
  if (trigger.directory.empty()) trigger.directory = services_.savepoint_dir;
  if (trigger.directory.empty()) {
    return fail(
        "no savepoint directory: give one, or set execution.checkpointing.savepoint-dir "
        "(state.savepoints.dir)");
  }
  if (state_ != JobMasterState::kRunning || !checkpoints_) {
    return fail(absl::StrCat("job ", id_, " is ", JobMasterStateName(state_),
                             ": only a running job can take a savepoint"));
  }
  if (trigger.stop && stopping_) return fail(absl::StrCat("job ", id_, " is being stopped"));
  // Flink's name: savepoint-<first 6 of the job id>-<12 random hex digits>.
  trigger.directory =
      absl::StrCat(trigger.directory, "/savepoint-", id_.substr(0, 6), "-", RandomHexId(12));
  std::error_code error;
  std::filesystem::create_directories(trigger.directory, error);
  if (error) return fail(absl::StrCat("cannot create ", trigger.directory, ": ", error.message()));
  const bool stop = trigger.stop, drain = trigger.drain;
  const std::string origin = trigger.origin.empty() ? "the JobManager" : trigger.origin;
  auto id = checkpoints_->TriggerSavepoint(std::move(trigger));
  if (!id.ok()) return fail(std::string(id.status().message()));
  stopping_ = stopping_ || stop;
  draining_savepoint_ = draining_savepoint_ || (stop && drain);
  savepoints_[*id] = PendingSavepoint{trigger_id, stop, drain, std::move(done)};
  spdlog::info("Job {}: savepoint {} triggered{}: requested by {}", id_, *id,
               stop ? (drain ? " (stop, drain)" : " (stop)") : "", origin);
}

void JobMaster::OnSavepointDone(int64_t id, const absl::StatusOr<std::string>& directory) {
  auto it = savepoints_.find(id);
  if (it == savepoints_.end()) return;
  PendingSavepoint pending = std::move(it->second);
  savepoints_.erase(it);
  const bool stop = pending.stop, drain = pending.drain;
  FinishSavepoint(std::move(pending), directory);
  if (!stop || ended()) return;
  stopping_ = false;
  if (drain) {
    draining_savepoint_ = false;
    if (executions_.AllFinished()) return End(JobMasterState::kFinished, "");
  }
  if (!directory.ok()) {
    // The sources stopped at its barrier: the job starts again from its
    // latest checkpoint instead.
    return Failover(absl::StrCat("stop-with-savepoint failed: ", directory.status().message()));
  }
  // Stopped (Flink's state for it: FINISHED); drained, it ends with its last task.
  if (!drain) End(JobMasterState::kFinished, "");
}

void JobMaster::FinishSavepoint(PendingSavepoint pending,
                                const absl::StatusOr<std::string>& directory) {
  SavepointOperation op;
  op.status =
      directory.ok() ? SavepointOperation::Status::kCompleted : SavepointOperation::Status::kFailed;
  if (directory.ok()) {
    op.location = *directory;
    spdlog::info("Job {}: savepoint stored in {}", id_, *directory);
  } else {
    op.failure = std::string(directory.status().message());
    spdlog::warn("Job {}: savepoint failed: {}", id_, op.failure);
  }
  {
    absl::MutexLock lock(&status_mu_);
    savepoint_ops_[pending.trigger_id] = op;
  }
  if (pending.done) pending.done(op);
}

void JobMaster::FailSavepoints(const std::string& reason) {
  std::map<int64_t, PendingSavepoint> pending;
  pending.swap(savepoints_);
  stopping_ = draining_savepoint_ = false;
  for (auto& [id, savepoint] : pending) {
    FinishSavepoint(std::move(savepoint), absl::AbortedError(reason));
  }
}

void JobMaster::Publish() {
  v1::JobStatus status;
  status.set_job_id(id_);
  status.set_name(graph_.name);
  status.set_state(JobMasterStateName(state_));
  status.set_start_time_ms(absl::ToUnixMillis(started_));
  status.set_end_time_ms(ended() ? absl::ToUnixMillis(ended_) : 0);
  status.set_parallelism(slots_needed_);
  status.set_tenant(submission_.tenant().empty() ? "default" : submission_.tenant());
  status.set_error(error_);
  const int total = static_cast<int>(executions_.executions().size());
  status.set_running_tasks(state_ == JobMasterState::kRunning
                               ? total - executions_.Count(v1::EXECUTION_STATE_FINISHED)
                               : 0);
  status.set_total_tasks(total);
  for (const auto& e : executions_.executions()) {
    auto* task = status.add_tasks();
    task->set_vertex(e.vertex);
    task->set_subtask(e.subtask);
    task->set_attempt(e.attempt);
    task->set_state(e.state);
    task->set_task_manager_id(e.slot.task_manager_id);
    task->set_task_manager_address(e.slot.task_manager_address);
    task->set_allocation_id(e.slot.allocation_id);
    if (auto it = subtask_metrics_.find({e.vertex, e.subtask}); it != subtask_metrics_.end()) {
      *task->mutable_metrics() = it->second;
    }
    if (auto it = attempt_started_.find({e.vertex, e.subtask});
        it != attempt_started_.end() && it->second.first == e.attempt) {
      task->set_start_time_ms(absl::ToUnixMillis(it->second.second));
    }
  }
  for (const auto& exception : exceptions_) *status.add_exceptions() = exception;
  status.set_restarts(restarts_);
  if (checkpoints_ && services_.checkpointing.enabled()) {
    const CheckpointStats& stats = checkpoints_->stats();
    auto* summary = status.mutable_checkpoints();
    summary->set_completed(stats.completed);
    summary->set_failed(stats.failed);
    summary->set_in_progress(stats.in_progress);
    if (const auto& last = stats.latest_completed) {
      summary->set_last_id(last->id);
      summary->set_last_completion_time_ms(absl::ToUnixMillis(last->ended));
      summary->set_last_duration_ms(absl::ToInt64Milliseconds(last->ended - last->triggered));
      summary->set_last_size_bytes(last->size_bytes);
    }
    if (latest_restore_) summary->set_last_restore_time_ms(absl::ToUnixMillis(latest_restore_->at));
  }
  absl::MutexLock lock(&status_mu_);
  status_ = std::move(status);
  if (checkpoints_) checkpoint_stats_ = checkpoints_->stats();
  checkpoint_stats_.latest_restore = latest_restore_;
  checkpoint_stats_.restored = restores_;
}

v1::JobStatus JobMaster::Status() const {
  v1::JobStatus status;
  {
    absl::MutexLock lock(&status_mu_);
    status = status_;
  }
  // The duration of a running job grows without events.
  absl::Time until = status.end_time_ms() > 0 ? absl::FromUnixMillis(status.end_time_ms())
                                              : services_.clock->Now();
  status.set_duration_ms(absl::ToInt64Milliseconds(until - started_));
  return status;
}

}  // namespace sluice
