#include "jobmanager/job_manager.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/check.h"
#include "common/http/http_tls.h"
#include "common/net/listen_policy.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_status.h"
#include "common/rpc/proto_json.h"
#include "common/rpc/session_options.h"
#include "jobmanager/cluster_rest.h"
#include "jobmanager/job_config.h"
#include "jobmanager/job_metrics.h"
#include "jobmanager/job_rest.h"
#include "jobmanager/rest_auth.h"
#include "jobmanager/task_manager_logs.h"
#include "jobmanager/web_ui.h"
#include "prometheus/family.h"
#include "spdlog/spdlog.h"

namespace sluice {
namespace {

std::vector<ResourceUtilization> FromProto(const v1::ClusterOverview& overview) {
  std::vector<ResourceUtilization> out;
  for (const auto& r : overview.resources()) {
    out.push_back(
        ResourceUtilization{r.resource(), r.capacity(), r.used(), r.utilization_percent()});
  }
  return out;
}

prometheus::Gauge* NewGauge(prometheus::Registry& registry, const std::string& name,
                            const std::string& help) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

}  // namespace

absl::StatusOr<std::unique_ptr<JobManager>> JobManager::Start(const Config& config) {
  if (absl::Status listen =
          net::CheckListenAddresses(config, {"jobmanager.bind-host", "rest.bind-address"});
      !listen.ok()) {
    return listen;
  }
  std::unique_ptr<JobManager> jm(new JobManager());
  jm->slots_ = std::make_unique<Mailbox>("jm-slots");
  jm->checkpoint_io_ = std::make_shared<Mailbox>("jm-io");
  const std::string rm_address = ResourceManagerAddress(config);
  jm->rm_stub_ = v1::ResourceManager::NewStub(
      CreateChannel(rm_address, config.GetDuration("cluster.registration.max-timeout")));
  jm->work_dir_ = std::make_unique<WorkDir>(config.GetString("jobmanager.work-dir"), "jobmanager");
  auto libraries = LibraryStore::Create(absl::StrCat(jm->work_dir_->path(), "/libraries"),
                                        config.GetMemoryBytes("jobmanager.library.max-size"));
  if (!libraries.ok()) return libraries.status();
  jm->libraries_ = *std::move(libraries);
  JobHistoryLimits history;
  history.max_ended_jobs = static_cast<int>(config.GetInt("jobstore.max-capacity"));
  history.expiration = config.GetDuration("jobstore.expiration-time");
  jm->rpc_timeout_ = config.GetDuration("rpc.timeout");
  jm->heartbeat_interval_ = config.GetDuration("heartbeat.interval");
  jm->heartbeat_timeout_ = config.GetDuration("heartbeat.timeout");
  if (config.Has("execution.checkpointing.savepoint-dir")) {
    jm->savepoint_dir_ = config.GetString("execution.checkpointing.savepoint-dir");
  }
  auto checkpointing = CheckpointingOptionsFromConfig(config);
  if (!checkpointing.ok()) return checkpointing.status();
  jm->checkpointing_ = *std::move(checkpointing);
  jm->restart_strategies_ = [config, on = jm->checkpointing_.enabled()] {
    return std::shared_ptr<RestartStrategy>(RestartStrategyFromConfig(config, on));
  };
  jm->config_ = std::make_unique<Config>(config);
  jm->rm_link_ = std::make_unique<ResourceManagerLink>(jm.get());
  jm->task_managers_ = std::make_unique<TaskManagerGatewayCache>(jm->rpc_timeout_);
  jm->graph_builder_ = std::make_unique<GraphBuilderProcess>(
      DefaultGraphBuilderPath(),
      GraphBuildLimits{config.GetDuration("jobmanager.graph-builder.timeout"),
                       config.GetMemoryBytes("jobmanager.graph-builder.memory")});
  jm->dispatcher_ = std::make_unique<Dispatcher>(
      [raw = jm.get()](std::string id, v1::JobSubmission submission, JobGraph graph,
                       std::shared_ptr<Executor> executor) {
        return raw->MakeJobMaster(std::move(id), std::move(submission), std::move(graph),
                                  std::move(executor));
      },
      [builder = jm->graph_builder_.get()](GraphBuildRequest request, auto done) {
        builder->Build(std::move(request), std::move(done));
      },
      [raw = jm.get()] {
        auto overview = raw->overview();
        return overview ? overview->slots_total() : 0;
      },
      history);
  jm->client_auth_ = ClientAuth::FromConfig(config);
  if (jm->client_auth_.enabled()) {
    spdlog::info("Clients authenticate with the administrator's or a tenant's token");
  }
  jm->service_ = std::make_unique<JobManagerService>(
      jm->rm_stub_.get(), rm_address, config.GetDuration("rpc.timeout"), jm->libraries_.get(),
      jm->dispatcher_.get(), config.GetDuration("jobmanager.upload.timeout"), &jm->client_auth_);
  jm->dispatcher_->CheckSubmissionsWith([raw = jm.get()](const v1::JobSubmission& submission) {
    return JobConfigOf(*raw->config_, submission).status();
  });
  jm->job_master_service_ = std::make_unique<JobMasterServiceImpl>(
      [raw = jm.get()](v1::OfferSlotsRequest request, auto done) {
        raw->OfferSlots(std::move(request), std::move(done));
      },
      [raw = jm.get()](const v1::TaskStateUpdate& u) { raw->OnTaskState(u); },
      [raw = jm.get()](const v1::CheckpointAcknowledgement& ack) {
        if (auto master = raw->dispatcher_->Find(ack.job_id())) master->OnCheckpointAck(ack);
      });
  auto grpc = StartGrpcServer(config.GetString("jobmanager.bind-host"),
                              static_cast<int>(config.GetInt("jobmanager.rpc.port")),
                              {jm->service_.get(), jm->job_master_service_.get()});
  if (!grpc.ok()) return grpc.status();
  jm->grpc_ = std::move(*grpc);
  jm->rpc_address_ = HostPort(config.GetString("jobmanager.rpc.address"), jm->grpc_.port);
  jm->id_ = absl::StrCat("jobmanager@", MachineHostName(), ":", jm->grpc_.port);

  auto& registry = jm->rest_.registry();
  jm->utilization_ = std::make_unique<UtilizationGauges>(registry);
  jm->taskmanagers_gauge_ = NewGauge(registry, "sluice_jobmanager_taskmanagers_registered",
                                     "TaskManagers registered in the cluster (Flink: "
                                     "numRegisteredTaskManagers).");
  jm->slots_total_gauge_ = NewGauge(registry, "sluice_jobmanager_task_slots",
                                    "Slots in the cluster (Flink: taskSlotsTotal).");
  jm->slots_available_gauge_ = NewGauge(registry, "sluice_jobmanager_task_slots_available",
                                        "Free slots in the cluster (Flink: taskSlotsAvailable).");
  jm->rest_.AddCollectable(std::make_shared<JobMetrics>(jm->dispatcher_.get()));
  jm->ServeRestApi();
  const std::string& rest_host = config.GetString("rest.bind-address");
  int rest_port = static_cast<int>(config.GetInt("rest.port"));
  std::optional<HttpTls> tls;
  if (config.GetBool("security.ssl.rest.enabled")) {
    auto loaded =
        LoadHttpTls(config, "security.ssl.rest.certificate", "security.ssl.rest.private-key");
    if (!loaded.ok()) return loaded.status();
    tls = *std::move(loaded);
  }
  const char* scheme = tls ? "https" : "http";
  auto bound = jm->rest_.Start(rest_host, PortRange{rest_port, rest_port}, std::move(tls));
  if (!bound.ok()) return bound.status();

  spdlog::info("JobManager '{}' serving RPC on {}; REST API and metrics at {}://{}/", jm->id_,
               HostPort(config.GetString("jobmanager.bind-host"), jm->grpc_.port), scheme,
               HostPort(rest_host, *bound));
  jm->StartSession(config);
  return jm;
}

void JobManager::StartSession(const Config& config) {
  SessionKeeperOptions options = ResourceManagerSessionOptions(config);

  SessionKeeper<v1::JobManagerMessage>::Hooks hooks;
  hooks.start_call = [this](grpc::ClientContext* context, auto* reactor) {
    rm_stub_->async()->JobManagerSession(context, reactor);
  };
  hooks.make_register = [this] {
    v1::JobManagerMessage message;
    message.mutable_register_()->set_job_manager_id(id_);
    message.mutable_register_()->set_rpc_address(rpc_address_);
    message.mutable_register_()->set_rest_address(absl::StrCat(":", rest_port()));
    return message;
  };
  hooks.make_heartbeat = [](uint64_t sequence) {
    v1::JobManagerMessage message;
    message.mutable_heartbeat()->set_sequence(sequence);
    return message;
  };
  hooks.make_deregister = [] {
    v1::JobManagerMessage message;
    message.mutable_deregister()->set_reason("JobManager shutting down");
    return message;
  };
  hooks.on_message = [this](const v1::ResourceManagerMessage& message) {
    OnResourceManagerMessage(message);
  };
  hooks.on_state = [this](bool registered) {
    if (!registered) return;
    // Declarations are absolute: a (new) ResourceManager gets them all again.
    slots_->Post([this] {
      for (auto& declaration : slot_pool_.Declarations()) {
        v1::JobManagerMessage message;
        *message.mutable_declare() = std::move(declaration);
        keeper_->Send(std::move(message));
      }
    });
  };
  keeper_ = std::make_unique<SessionKeeper<v1::JobManagerMessage>>(options, std::move(hooks));
  keeper_->Start();
}

// The JobMasters' way to the ResourceManager: the JobManager's session.
class JobManager::ResourceManagerLink final : public ResourceManagerGateway {
 public:
  explicit ResourceManagerLink(JobManager* jm) : jm_(jm) {}
  void DeclareResources(const v1::DeclareResources& declaration) override {
    jm_->DeclareResources(declaration);
  }
  void ReleaseJob(const std::string& job_id) override { jm_->ReleaseJob(job_id); }

 private:
  JobManager* jm_;
};

std::shared_ptr<JobMaster> JobManager::MakeJobMaster(std::string id, v1::JobSubmission submission,
                                                     JobGraph graph,
                                                     std::shared_ptr<Executor> executor) {
  JobMasterServices services;
  services.executor = std::move(executor);
  services.io_executor = checkpoint_io_;
  services.resource_manager = rm_link_.get();
  services.task_managers = [this](const std::string& address) {
    return task_managers_->At(address);
  };
  services.job_manager_address = rpc_address_;
  services.checkpointing = checkpointing_;
  services.restart_strategy = restart_strategies_();
  services.heartbeat_interval = heartbeat_interval_;
  services.heartbeat_timeout = heartbeat_timeout_;
  services.savepoint_dir = savepoint_dir_;
  if (submission.job_config_size() > 0 || submission.graph().config_size() > 0) {
    // checked at submission: it holds
    auto job_config = JobConfigOf(*config_, submission);
    SLUICE_CHECK(job_config.ok(), "a job's configuration was checked at submission");
    auto checkpointing = CheckpointingOptionsFromConfig(*job_config);
    services.checkpointing = *checkpointing;
    services.restart_strategy = std::shared_ptr<RestartStrategy>(
        RestartStrategyFromConfig(*job_config, checkpointing->enabled()));
    if (job_config->Has("execution.checkpointing.savepoint-dir")) {
      services.savepoint_dir = job_config->GetString("execution.checkpointing.savepoint-dir");
    }
    spdlog::info("Job {} runs with its own configuration: {}{}", id,
                 absl::StrJoin(submission.job_config(), ", "),
                 submission.graph().config_size() > 0
                     ? absl::StrCat(" (from its code: ",
                                    absl::StrJoin(submission.graph().config(), ", "), ")")
                     : std::string());
  }
  // The JobMaster's executor is its mailbox, which it keeps alive.
  if (auto* mailbox = dynamic_cast<Mailbox*>(services.executor.get())) {
    services.schedule = [mailbox](absl::Duration delay, std::function<void()> task) {
      mailbox->PostAfter(delay, std::move(task));
    };
  }
  return JobMaster::Create(std::move(id), std::move(submission), std::move(graph),
                           std::move(services));
}

void JobManager::OfferSlots(v1::OfferSlotsRequest request,
                            std::function<void(v1::OfferSlotsResponse)> done) {
  slots_->Post([this, request = std::move(request), done = std::move(done)] {
    v1::OfferSlotsResponse response = slot_pool_.Offer(request);
    const bool accepted = response.accepted_allocation_ids_size() > 0;
    done(std::move(response));
    if (accepted) OnSlotsChanged(request.job_id());
  });
}

void JobManager::OnSlotsChanged(const std::string& job_id) {
  if (dispatcher_gone_) return;
  auto master = dispatcher_->Find(job_id);
  if (!master) return;
  if (auto failure = slot_pool_.Failure(job_id)) {
    master->OnSlotRequestFailed(*failure);
    return;
  }
  if (auto refused = slot_pool_.DeclarationStatus(job_id); refused && !refused->ok()) {
    master->OnSlotRequestFailed(std::string(refused->message()));
    return;
  }
  master->OnSlots(slot_pool_.Slots(job_id));
}

void JobManager::OnTaskState(const v1::TaskStateUpdate& update) {
  if (auto master = dispatcher_->Find(update.job_id())) master->OnTaskState(update);
}

void JobManager::DeclareResources(const v1::DeclareResources& declaration) {
  slots_->Post([this, declaration] {
    slot_pool_.Declare(declaration);
    v1::JobManagerMessage message;
    *message.mutable_declare() = declaration;
    SendToResourceManager(std::move(message));
  });
}

void JobManager::ReleaseJob(const std::string& job_id) {
  slots_->Post([this, job_id] {
    slot_pool_.Release(job_id);
    v1::JobManagerMessage message;
    message.mutable_release_job()->set_job_id(job_id);
    SendToResourceManager(std::move(message));
  });
}

void JobManager::SendToResourceManager(v1::JobManagerMessage message) {
  // Without a session the message is not lost: declarations are re-sent on
  // registration, and a released job's slots follow after job.timeout.
  if (!keeper_->Send(std::move(message))) {
    spdlog::warn("Not connected to the ResourceManager; the change is sent when it returns");
  }
}

void JobManager::OnResourceManagerMessage(const v1::ResourceManagerMessage& message) {
  switch (message.kind_case()) {
    case v1::ResourceManagerMessage::kDeclarationResult:
    case v1::ResourceManagerMessage::kSlotsRevoked:
    case v1::ResourceManagerMessage::kRequestFailed:
      slots_->Post([this, message] { OnSlotMessage(message); });
      return;
    default:
      break;
  }
  if (!message.has_ack() || !message.ack().has_overview()) return;
  const v1::ClusterOverview& overview = message.ack().overview();
  utilization_->Publish(FromProto(overview));
  taskmanagers_gauge_->Set(overview.task_managers());
  slots_total_gauge_->Set(overview.slots_total());
  slots_available_gauge_->Set(overview.slots_free());
  absl::MutexLock lock(&mu_);
  overview_ = overview;
}

void JobManager::OnSlotMessage(const v1::ResourceManagerMessage& message) {
  switch (message.kind_case()) {
    case v1::ResourceManagerMessage::kDeclarationResult:
      if (message.declaration_result().code() != 0) {
        spdlog::error("The ResourceManager refused job '{}': {}",
                      message.declaration_result().job_id(), message.declaration_result().error());
      }
      slot_pool_.OnDeclarationResult(message.declaration_result());
      OnSlotsChanged(message.declaration_result().job_id());
      return;
    case v1::ResourceManagerMessage::kSlotsRevoked:
      for (const auto& slot : message.slots_revoked().slots()) {
        spdlog::warn("Job '{}' lost allocation {} on '{}': {}", slot.job_id(), slot.allocation_id(),
                     slot.task_manager_id(), slot.reason());
      }
      slot_pool_.OnSlotsRevoked(message.slots_revoked());
      if (dispatcher_gone_) return;
      for (const auto& slot : message.slots_revoked().slots()) {
        if (auto master = dispatcher_->Find(slot.job_id())) {
          master->OnSlotLost(slot.allocation_id(),
                             absl::StrCat("lost its slot on TaskManager '", slot.task_manager_id(),
                                          "': ", slot.reason()));
        }
      }
      return;
    case v1::ResourceManagerMessage::kRequestFailed:
      spdlog::error("{}", message.request_failed().message());
      slot_pool_.OnRequestFailed(message.request_failed());
      OnSlotsChanged(message.request_failed().job_id());
      return;
    default:
      return;
  }
}

std::optional<v1::ClusterOverview> JobManager::overview() const {
  absl::MutexLock lock(&mu_);
  return overview_;
}

void JobManager::ServeRestApi() {
  // Flink's /overview, so existing tooling and habits carry over.
  rest_.http().HandleGet("/overview", [this] {
    v1::ClusterOverview o = overview().value_or(v1::ClusterOverview{});
    nlohmann::ordered_json body = {{"taskmanagers", o.task_managers()},
                                   {"slots-total", o.slots_total()},
                                   {"slots-available", o.slots_free()}};
    body.update(JobCountsJson(dispatcher_->List()));
    body["sluice-version"] = SLUICE_VERSION;
    return HttpResponse{200, "application/json", body.dump()};
  });
  ServeJobRoutes(rest_.http(), *dispatcher_);
  rest_.http().SetGuard(
      RestGuard(&client_auth_, [this](const std::string& job_id) -> std::optional<std::string> {
        auto master = dispatcher_->Find(job_id);
        if (!master) return std::nullopt;
        return master->submission().tenant();
      }));
  ClusterRestOptions cluster;
  cluster.config = config_.get();
  cluster.rpc_address = rpc_address_;
  cluster.log_dir = config_->GetString("env.log.dir");
  if (cluster.log_dir.empty() && std::getenv("SLUICE_LOG_DIR") != nullptr) {
    cluster.log_dir = std::getenv("SLUICE_LOG_DIR");
  }
  cluster.cluster_status = [this]() -> absl::StatusOr<v1::ClusterStatus> {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + rpc_timeout_));
    v1::ClusterStatus status;
    grpc::Status rpc = rm_stub_->GetClusterStatus(&context, v1::GetClusterStatusRequest{}, &status);
    if (!rpc.ok()) return FromGrpcStatus(rpc);
    return status;
  };
  cluster.task_manager_logs = [timeout = rpc_timeout_](const std::string& address) {
    return ListTaskManagerLogs(address, timeout);
  };
  cluster.task_manager_log = [timeout = rpc_timeout_](const std::string& address,
                                                      const std::string& name, int64_t max_bytes) {
    return ReadTaskManagerLog(address, name, max_bytes, timeout);
  };
  ServeClusterRoutes(rest_.http(), std::move(cluster));
  ServeWebUi(rest_.http());
}

// Stop accepting (REST, then RPCs: no handler may reach a JobMaster being
// destroyed), cancel the jobs while the session to the RM is up (their slots
// go back), then deregister.
void JobManager::Shutdown() {
  if (shut_down_.exchange(true)) return;
  rest_.http().Stop();
  StopGrpcServer(grpc_);
  graph_builder_.reset();  // answers what is building, before the Dispatcher goes
  // Slot news still arrive from the ResourceManager (a TaskManager leaving):
  // from now on the slot pool's mailbox no longer passes them to JobMasters.
  if (slots_) slots_->Ask([this] { dispatcher_gone_ = true; }).wait();
  dispatcher_.reset();
  checkpoint_io_.reset();  // joined once the last JobMaster lets go
  // The cancelled jobs' releases were posted to the slot pool: sent before
  // the session closes.
  if (slots_) slots_->Ask([] {}).wait();
  if (keeper_) keeper_->Stop(/*deregister=*/true);
  if (slots_) slots_->Stop();
}

JobManager::~JobManager() { Shutdown(); }

}  // namespace sluice
