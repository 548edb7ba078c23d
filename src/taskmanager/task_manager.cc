#include "taskmanager/task_manager.h"

#include <unistd.h>

#include <algorithm>
#include <future>

#include "absl/strings/str_cat.h"
#include "common/net/listen_policy.h"
#include "common/process_stats.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_status.h"
#include "common/rpc/proto_convert.h"
#include "common/rpc/session_options.h"
#include "prometheus/family.h"
#include "spdlog/spdlog.h"
#include "taskmanager/task_metrics.h"

namespace sluice {

absl::StatusOr<std::unique_ptr<TaskManager>> TaskManager::Start(const Config& config) {
  if (absl::Status listen = net::CheckListenAddresses(config, {"taskmanager.bind-host"});
      !listen.ok()) {
    return listen;
  }
  std::unique_ptr<TaskManager> tm(new TaskManager());
  const std::string& bind_host = config.GetString("taskmanager.bind-host");
  auto grpc = StartGrpcServer(bind_host, static_cast<int>(config.GetInt("taskmanager.rpc.port")),
                              {static_cast<v1::TaskExecutor::CallbackService*>(tm.get())});
  if (!grpc.ok()) return grpc.status();
  tm->grpc_ = std::move(*grpc);
  tm->spec_ = SpecFromConfig(config, tm->grpc_.port);
  const absl::Duration rpc_timeout = config.GetDuration("rpc.timeout");
  const int buffers_per_channel =
      static_cast<int>(config.GetInt("taskmanager.network.buffers-per-channel"));
  DataExchangeOptions data;
  data.bind_host = bind_host;
  data.port = static_cast<int>(config.GetInt("taskmanager.data.port"));
  data.advertised_host = tm->spec_.host;
  data.credits_per_channel = buffers_per_channel;  // one per buffer a gate holds
  data.connect_timeout = rpc_timeout;
  auto exchange = DataExchange::Start(data);
  if (!exchange.ok()) return exchange.status();
  tm->exchange_ = *std::move(exchange);
  tm->exchange_->SetId(tm->spec_.id);
  DeploymentOptions deployment;
  deployment.task_manager_id = tm->spec_.id;
  tm->work_dir_ =
      std::make_unique<WorkDir>(config.GetString("taskmanager.work-dir"), "taskmanager");
  const std::string& work_dir = tm->work_dir_->path();
  deployment.library_dir = absl::StrCat(work_dir, "/libraries");
  deployment.rpc_timeout = rpc_timeout;
  deployment.buffer_timeout = config.GetDuration("execution.buffer-timeout");
  deployment.auto_watermark_interval = config.GetDuration("pipeline.auto-watermark-interval");
  deployment.buffers_per_channel = buffers_per_channel;
  deployment.segment_size =
      static_cast<size_t>(config.GetMemoryBytes("taskmanager.memory.segment-size"));
  tm->job_masters_ = std::make_unique<JobMasterClient>(rpc_timeout);
  tm->slot_timeout_ = config.GetDuration("taskmanager.slot.timeout");
  tm->lease_ = config.GetDuration("heartbeat.timeout");
  deployment.lease = tm->lease_;
  tm->slot_table_ =
      std::make_unique<TaskSlotTable>(SystemClock::Get(), tm->spec_.slots, tm->slot_timeout_);
  tm->deployments_ = std::make_unique<JobDeployments>(
      deployment, tm->exchange_.get(), tm->slot_table_.get(),
      [job_masters = tm->job_masters_.get()](const std::string& address,
                                             v1::TaskStateUpdate update) {
        job_masters->UpdateTaskState(address, std::move(update));
      },
      &tm->mailbox_, &tm->deploy_worker_,
      [job_masters = tm->job_masters_.get()](const std::string& address,
                                             v1::CheckpointAcknowledgement ack) {
        job_masters->AcknowledgeCheckpoint(address, std::move(ack));
      });

  if (config.GetString("taskmanager.isolation") == "process") {
    tm->IsolateJobs(config, deployment, work_dir);
  }

  auto& registry = tm->metrics_.registry();
  tm->registered_gauge_ = &prometheus::BuildGauge()
                               .Name("sluice_taskmanager_registered")
                               .Help("1 while registered with the ResourceManager, else 0.")
                               .Register(registry)
                               .Add({});
  auto& slots = prometheus::BuildGauge()
                    .Name("sluice_taskmanager_slots")
                    .Help("Slots of this TaskManager by state.")
                    .Register(registry);
  tm->free_slots_gauge_ = &slots.Add({{"state", "free"}});
  tm->allocated_slots_gauge_ = &slots.Add({{"state", "allocated"}});
  tm->mailbox_.Post([raw = tm.get()] { raw->PublishSlots(); });
  // A scrape visits the subtasks on the mailbox thread, which owns the deployments.
  tm->metrics_.AddCollectable(std::make_shared<TaskMetrics>(
      [raw = tm.get()](const TaskMetrics::TaskVisitor& visit) {
        raw->mailbox_
            .Ask([raw, &visit] {
              raw->deployments_->ForEachTask([&](const std::string& job, const engine::Task& task) {
                visit(job, task, raw->sampler_);
              });
            })
            .get();
      },
      tm->exchange_.get(),
      std::vector<prometheus::ClientMetric::Label>{{"tm_id", tm->spec_.id},
                                                   {"host", tm->spec_.host}}));
  if (tm->processes_) {
    tm->metrics_.AddCollectable(std::make_shared<JobProcessMetrics>(tm->processes_.get()));
  }
  auto metrics_port =
      tm->metrics_.Start(bind_host, config.GetPortRange("metrics.reporter.prom.port"));
  if (!metrics_port.ok()) return metrics_port.status();

  spdlog::info(
      "TaskManager '{}' serving RPC on {} and data on {} with {} slots{}; metrics at "
      "http://{}/metrics",
      tm->spec_.id, tm->spec_.rpc_address, tm->exchange_->address(), tm->spec_.slots.size(),
      tm->spec_.tenant.empty() ? "" : absl::StrCat(" for tenant ", tm->spec_.tenant),
      HostPort(bind_host, *metrics_port));
  // On the mailbox thread, like every use of the slot table.
  tm->mailbox_.Post([raw = tm.get()] { raw->ExpireSlots(); });
  tm->mailbox_.Post([raw = tm.get()] { raw->SampleTasks(); });
  tm->state_ = State::kServing;  // every member is in place
  tm->StartSession(config);
  return tm;
}

void TaskManager::IsolateJobs(const Config& config, const DeploymentOptions& deployment,
                              const std::string& work_dir) {
  JobProcessLaunch launch;
  launch.binary = DefaultJobProcessPath();
  launch.work_dir = work_dir;
  launch.base.host = spec_.host;
  launch.base.deployment = deployment;
  launch.cancellation_timeout = config.GetDuration("task.cancellation.timeout");
  processes_ = std::make_unique<JobProcesses>(
      std::move(launch), slot_table_.get(),
      [job_masters = job_masters_.get()](const std::string& address, v1::TaskStateUpdate update) {
        job_masters->UpdateTaskState(address, std::move(update));
      },
      &mailbox_);
  exchange_->SetHandOff([processes = processes_.get()](const std::string& job, net::Fd& fd,
                                                       const std::string& buffered,
                                                       const std::string& sender) {
    return processes->HandOff(job, fd, buffered, sender);
  });
  spdlog::info("Jobs run in processes of their own (taskmanager.isolation: process)");
}

void TaskManager::StartSession(const Config& config) {
  SessionKeeperOptions options = ResourceManagerSessionOptions(config);
  rm_stub_ = v1::ResourceManager::NewStub(
      CreateChannel(ResourceManagerAddress(config), options.max_backoff));

  SessionKeeper<v1::TaskManagerMessage>::Hooks hooks;
  hooks.start_call = [this](grpc::ClientContext* context, auto* reactor) {
    rm_stub_->async()->TaskManagerSession(context, reactor);
  };
  hooks.make_register = [this] { return RegisterMessage(); };
  hooks.make_heartbeat = [this](uint64_t sequence) { return HeartbeatMessage(sequence); };
  hooks.make_deregister = [] {
    v1::TaskManagerMessage message;
    message.mutable_deregister()->set_reason("TaskManager shutting down");
    return message;
  };
  hooks.on_message = [this](const v1::ResourceManagerMessage& message) {
    OnResourceManagerMessage(message);
  };
  hooks.on_state = [this](bool registered) { registered_gauge_->Set(registered ? 1 : 0); };
  keeper_ = std::make_unique<SessionKeeper<v1::TaskManagerMessage>>(options, std::move(hooks));
  keeper_->Start();
}

std::vector<SlotState> TaskManager::SlotReport() {
  if (mailbox_.IsMailboxThread()) return slot_table_->Report();
  return mailbox_.Ask([this] { return slot_table_->Report(); }).get();
}

std::pair<std::vector<SlotState>, uint64_t> TaskManager::VersionedSlotReport() {
  return mailbox_
      .Ask([this] { return std::make_pair(slot_table_->Report(), slot_table_->version()); })
      .get();
}

v1::TaskManagerMessage TaskManager::RegisterMessage() {
  v1::TaskManagerMessage message;
  auto* reg = message.mutable_register_();
  reg->set_task_manager_id(spec_.id);
  reg->set_rpc_address(spec_.rpc_address);
  reg->set_hostname(spec_.host);
  const std::string& data = exchange_->address();  // host:port
  reg->set_data_port(std::stoi(data.substr(data.rfind(':') + 1)));
  reg->set_version(SLUICE_VERSION);
  reg->set_tenant(spec_.tenant);
  ToProto(spec_.total, reg->mutable_total_resources());
  for (const auto& slot : SlotReport()) ToProto(slot, reg->add_slots());
  return message;
}

v1::TaskManagerMessage TaskManager::HeartbeatMessage(uint64_t sequence) {
  v1::TaskManagerMessage message;
  auto* heartbeat = message.mutable_heartbeat();
  heartbeat->set_sequence(sequence);
  auto [slots, version] = VersionedSlotReport();
  for (const auto& slot : slots) ToProto(slot, heartbeat->add_slots());
  heartbeat->set_slot_report_version(version);
  ToProto(ReadProcessUsage(), heartbeat->mutable_usage());
  return message;
}

void TaskManager::OnResourceManagerMessage(const v1::ResourceManagerMessage& message) {
  if (message.has_slot_request()) {
    mailbox_.Post([this, request = message.slot_request()] { OnSlotRequest(request); });
  } else if (message.has_free_allocation()) {
    mailbox_.Post([this, free = message.free_allocation()] {
      FreeSlot(free.allocation_id(), free.reason());
    });
  }
}

void TaskManager::OnSlotRequest(const v1::SlotRequest& request) {
  auto outcome = slot_table_->Request(request.slot_index(), request.allocation_id(),
                                      request.job_id(), request.job_master_address());
  v1::TaskManagerMessage answer;
  auto* result = answer.mutable_slot_request_result();
  result->set_allocation_id(request.allocation_id());
  result->set_accepted(outcome.accepted);
  result->set_occupant_job_id(outcome.occupant_job);
  result->set_occupant_allocation_id(outcome.occupant_allocation);
  result->set_slot_report_version(slot_table_->version());
  keeper_->Send(std::move(answer));
  if (!outcome.accepted) {
    spdlog::warn("Slot {} requested for allocation {} is held by allocation {} of job '{}'",
                 request.slot_index(), request.allocation_id(), outcome.occupant_allocation,
                 outcome.occupant_job);
    return;
  }
  PublishSlots();
  if (outcome.offer) Offer(request.allocation_id());
}

void TaskManager::Offer(const std::string& allocation_id) {
  const TaskSlotTable::Slot* slot = slot_table_->Find(allocation_id);
  if (slot == nullptr || slot->use != TaskSlotTable::Use::kOffered) return;
  v1::OfferSlotsRequest request;
  request.set_job_id(slot->state.job_id);
  request.set_task_manager_id(spec_.id);
  request.set_task_manager_address(spec_.rpc_address);
  request.set_data_address(exchange_->address());
  auto* offer = request.add_offers();
  offer->set_allocation_id(allocation_id);
  offer->set_slot_index(slot->state.index);
  ToProto(slot->state.profile, offer->mutable_profile());
  job_masters_->OfferSlots(slot->job_master_address, std::move(request),
                           [this, allocation_id](absl::StatusOr<v1::OfferSlotsResponse> answer) {
                             mailbox_.Post([this, allocation_id, answer = std::move(answer)] {
                               OnOfferAnswered(allocation_id, answer);
                             });
                           });
}

void TaskManager::OnOfferAnswered(const std::string& allocation_id,
                                  const absl::StatusOr<v1::OfferSlotsResponse>& answer) {
  if (!answer.ok()) {
    // The JobMaster may be restarting: retry until the slot timeout frees it.
    spdlog::warn("Offering allocation {} failed ({}); retrying", allocation_id,
                 answer.status().ToString());
    mailbox_.PostAfter(absl::Milliseconds(500), [this, allocation_id] { Offer(allocation_id); });
    return;
  }
  const auto& accepted = answer->accepted_allocation_ids();
  if (std::find(accepted.begin(), accepted.end(), allocation_id) != accepted.end()) {
    slot_table_->Activate(allocation_id);
    spdlog::info("The JobMaster accepted allocation {}", allocation_id);
    PublishSlots();
  } else {
    FreeSlot(allocation_id, "its JobMaster rejected the offer");
  }
}

void TaskManager::FreeSlot(const std::string& allocation_id, const std::string& reason) {
  if (!slot_table_->Free(allocation_id)) return;
  spdlog::info("Freed allocation {}: {}", allocation_id, reason);
  deployments_->OnAllocationFreed(allocation_id, reason);  // freeing a slot stops its tasks
  if (processes_) processes_->OnAllocationFreed(allocation_id, reason);
  PublishSlots();
}

void TaskManager::ExpireSlots() {
  for (const auto& allocation : slot_table_->ExpireOffers()) {
    const std::string reason = absl::StrCat("its JobMaster did not accept it within ",
                                            absl::FormatDuration(slot_timeout_));
    spdlog::warn("Freed allocation {}: {}", allocation, reason);
    deployments_->OnAllocationFreed(allocation, reason);  // none: a deployment activates its slots
    PublishSlots();
  }
  FreeUnconfirmed();
  mailbox_.PostAfter(std::min({slot_timeout_ / 4, lease_ / 4, absl::Seconds(1)}),
                     [this] { ExpireSlots(); });
}

void TaskManager::SampleTasks() {
  const int64_t now_ns = absl::GetCurrentTimeNanos();
  sampler_.BeginRound();
  deployments_->ForEachTask([&](const std::string& job, const engine::Task& task) {
    sampler_.Sample(job, task, now_ns);
  });
  sampler_.EndRound();
  mailbox_.PostAfter(TaskSampler::kPeriod, [this] { SampleTasks(); });
}

void TaskManager::FreeUnconfirmed() {
  for (const auto& allocation : slot_table_->Unconfirmed(lease_)) {
    const TaskSlotTable::Slot* slot = slot_table_->Find(allocation);
    FreeSlot(allocation, absl::StrCat("the JobMaster of job ", slot ? slot->state.job_id : "?",
                                      " has not confirmed it for ", absl::FormatDuration(lease_),
                                      " (heartbeat.timeout)"));
  }
}

void TaskManager::PublishSlots() {
  int free = slot_table_->free_slots();
  free_slots_gauge_->Set(free);
  allocated_slots_gauge_->Set(static_cast<double>(spec_.slots.size()) - free);
}

bool TaskManager::RefuseUnlessServing(grpc::ServerUnaryReactor* reactor) const {
  const State state = state_.load();
  if (state == State::kServing) return false;
  reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                               state == State::kStarting ? "the TaskManager is starting"
                                                         : "the TaskManager is shutting down"));
  return true;
}

grpc::ServerUnaryReactor* TaskManager::GetSlotReport(grpc::CallbackServerContext* context,
                                                     const v1::GetSlotReportRequest*,
                                                     v1::SlotReport* response) {
  auto* reactor = context->DefaultReactor();
  if (RefuseUnlessServing(reactor)) return reactor;
  // The mailbox runs until the server has stopped, which waits for this Finish.
  mailbox_.Post([this, reactor, response] {
    response->set_task_manager_id(spec_.id);
    for (const auto& slot : slot_table_->Report()) ToProto(slot, response->add_slots());
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* TaskManager::DeployJob(grpc::CallbackServerContext* context,
                                                 const v1::DeployJobRequest* request,
                                                 v1::DeployJobResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (RefuseUnlessServing(reactor)) return reactor;
  // The mailbox checks the slots, the deploy worker fetches the library and
  // builds the subtasks, the mailbox answers. `request` lives until Finish.
  mailbox_.Post([this, reactor, request, response] {
    auto done = [reactor, response](absl::StatusOr<int> tasks) {
      if (tasks.ok()) response->set_tasks(*tasks);
      reactor->Finish(tasks.ok() ? grpc::Status::OK : ToGrpcStatus(tasks.status()));
    };
    if (processes_) return processes_->Deploy(*request, std::move(done));
    deployments_->Deploy(*request, std::move(done));
  });
  return reactor;
}

grpc::ServerUnaryReactor* TaskManager::StartJob(grpc::CallbackServerContext* context,
                                                const v1::JobTasksRequest* request,
                                                v1::DeployJobResponse*) {
  auto* reactor = context->DefaultReactor();
  if (RefuseUnlessServing(reactor)) return reactor;
  if (processes_) return ForwardToJobProcess(reactor, &JobProcesses::Start, *request);
  return AnswerOnMailbox(reactor,
                         [this, job_id = request->job_id(), deployment = request->deployment_id()] {
                           return deployments_->Start(job_id, deployment);
                         });
}

grpc::ServerUnaryReactor* TaskManager::CancelJob(grpc::CallbackServerContext* context,
                                                 const v1::JobTasksRequest* request,
                                                 v1::DeployJobResponse*) {
  auto* reactor = context->DefaultReactor();
  if (RefuseUnlessServing(reactor)) return reactor;
  spdlog::info("Cancelling {} of job {}: requested by the JobMaster at {}",
               request->deployment_id().empty()
                   ? std::string("every deployment")
                   : absl::StrCat("deployment ", request->deployment_id()),
               request->job_id(), context->peer());
  if (processes_) return ForwardToJobProcess(reactor, &JobProcesses::Cancel, *request);
  // Answered from the deploy worker once the subtasks are joined.
  mailbox_.Post([this, reactor, job_id = request->job_id(), deployment = request->deployment_id()] {
    deployments_->Cancel(job_id, deployment,
                         [reactor](absl::Status status) { reactor->Finish(ToGrpcStatus(status)); });
  });
  return reactor;
}

grpc::ServerUnaryReactor* TaskManager::TriggerCheckpoint(
    grpc::CallbackServerContext* context, const v1::TriggerCheckpointRequest* request,
    v1::DeployJobResponse*) {
  auto* reactor = context->DefaultReactor();
  if (RefuseUnlessServing(reactor)) return reactor;
  if (processes_) return ForwardToJobProcess(reactor, &JobProcesses::TriggerCheckpoint, *request);
  return AnswerOnMailbox(
      reactor, [this, request = *request] { return deployments_->TriggerCheckpoint(request); });
}

grpc::ServerUnaryReactor* TaskManager::HeartbeatFromJobMaster(
    grpc::CallbackServerContext* context, const v1::JobMasterHeartbeat* request,
    v1::JobMasterHeartbeatAnswer* answer) {
  auto* reactor = context->DefaultReactor();
  if (RefuseUnlessServing(reactor)) return reactor;
  if (processes_) {
    mailbox_.Post([this, reactor, request = *request, answer] {
      slot_table_->Confirm(request.job_id());
      processes_->Heartbeat(request, answer, [reactor](absl::Status status) {
        reactor->Finish(ToGrpcStatus(status));
      });
    });
    return reactor;
  }
  return AnswerOnMailbox(reactor, [this, request = *request, answer] {
    slot_table_->Confirm(request.job_id());
    deployments_->Confirm(request);
    deployments_->ForEachTask([&](const std::string& job, const engine::Task& task) {
      if (job == request.job_id()) *answer->add_subtasks() = sampler_.MetricsOf(job, task);
    });
    return absl::OkStatus();
  });
}

// Served on the gRPC thread: a directory listing and one bounded read.
grpc::ServerUnaryReactor* TaskManager::ListLogs(grpc::CallbackServerContext* context,
                                                const v1::ListLogsRequest*, v1::LogList* list) {
  for (const LogFile& file : ListLogFiles(own_logs_.where)) {
    auto* f = list->add_files();
    f->set_name(file.name);
    f->set_size(file.size);
    f->set_modified_ms(file.modified_ms);
  }
  list->set_log(own_logs_.log);
  list->set_stdout(own_logs_.out);
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* TaskManager::ReadLog(grpc::CallbackServerContext* context,
                                               const v1::ReadLogRequest* request,
                                               v1::LogContent* content) {
  constexpr int64_t kMaxBytes = 3 << 20;  // within gRPC's default message limit
  auto text = ReadLogTail(
      own_logs_.where, request->name(),
      request->max_bytes() <= 0 ? kMaxBytes : std::min(request->max_bytes(), kMaxBytes));
  if (text.ok()) content->set_data(*std::move(text));
  auto* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(text.status()));
  return reactor;
}

grpc::ServerUnaryReactor* TaskManager::NotifyCheckpoint(grpc::CallbackServerContext* context,
                                                        const v1::NotifyCheckpointRequest* request,
                                                        v1::DeployJobResponse*) {
  auto* reactor = context->DefaultReactor();
  if (RefuseUnlessServing(reactor)) return reactor;
  if (processes_) return ForwardToJobProcess(reactor, &JobProcesses::NotifyCheckpoint, *request);
  return AnswerOnMailbox(
      reactor, [this, request = *request] { return deployments_->NotifyCheckpoint(request); });
}

void TaskManager::Shutdown() {
  if (state_.exchange(State::kStopping) == State::kStopping) return;
  // Members may be missing if Start() failed half-way.
  if (deployments_) deployments_->Close();  // deployments under way are answered soon
  if (processes_) processes_->Close();
  // Both wait until every call is answered (by the mailbox and the deploy
  // worker, which still run) and every scrape is done.
  StopGrpcServer(grpc_);
  metrics_.http().Stop();
  // The subtasks' end reports still reach their JobMasters.
  CancelAllJobs();
  // After the subtasks: the slots leave the pool once nothing runs in them.
  if (keeper_) keeper_->Stop(/*deregister=*/true);
  mailbox_.Stop();  // after the keeper: its hooks ask the mailbox
  // Idle: CancelAllJobs() waited for its last join, and nothing posts to it now.
  deploy_worker_.Stop();
  // No callback into this TaskManager (offer answers post to the mailbox) is left.
  if (job_masters_) job_masters_->Shutdown(/*grace=*/absl::Seconds(1));
  if (exchange_) exchange_->Stop();
}

void TaskManager::CancelAllJobs() {
  if (!deployments_) return;
  std::promise<void> cancelled;
  mailbox_.Post([this, &cancelled] {
    deployments_->CancelAll([this, &cancelled] {
      // On the deploy worker; the job processes are stopped from the mailbox.
      if (!processes_) return cancelled.set_value();
      mailbox_.Post(
          [this, &cancelled] { processes_->CancelAll([&cancelled] { cancelled.set_value(); }); });
    });
  });
  cancelled.get_future().wait();
}

TaskManager::~TaskManager() { Shutdown(); }

}  // namespace sluice
