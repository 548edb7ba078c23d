#include "jobmanager/job_manager.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_status.h"
#include "common/rpc/proto_json.h"
#include "common/rpc/session_options.h"
#include "jobmanager/job_metrics.h"
#include "jobmanager/job_rest.h"
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
  std::unique_ptr<JobManager> jm(new JobManager());
  const std::string rm_address = ResourceManagerAddress(config);
  jm->rm_stub_ = v1::ResourceManager::NewStub(
      CreateChannel(rm_address, config.GetDuration("cluster.registration.max-timeout")));
  std::string work_dir = config.GetString("jobmanager.work-dir");
  if (work_dir.empty()) work_dir = absl::StrCat("/tmp/sluice-jobmanager-", getpid());
  auto libraries = LibraryStore::Create(absl::StrCat(work_dir, "/libraries"),
                                        config.GetMemoryBytes("jobmanager.library.max-size"));
  if (!libraries.ok()) return libraries.status();
  jm->libraries_ = *std::move(libraries);
  JobHistoryLimits history;
  history.max_ended_jobs = static_cast<int>(config.GetInt("jobstore.max-capacity"));
  history.expiration = config.GetDuration("jobstore.expiration-time");
  jm->dispatcher_ = std::make_unique<Dispatcher>(
      jm->MakeJobMasterHost(),
      [raw = jm.get()] {
        auto overview = raw->overview();
        return overview ? overview->slots_total() : 0;
      },
      history);
  jm->service_ = std::make_unique<JobManagerService>(jm->rm_stub_.get(), rm_address,
                                                     config.GetDuration("rpc.timeout"),
                                                     jm->libraries_.get(), jm->dispatcher_.get());
  jm->rpc_timeout_ = config.GetDuration("rpc.timeout");
  jm->job_master_service_ = std::make_unique<JobMasterServiceImpl>(
      &jm->slot_pool_, [raw = jm.get()](const v1::TaskStateUpdate& u) { raw->OnTaskState(u); });
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
  jm->slots_total_gauge_ = NewGauge(registry, "sluice_jobmanager_task_slots_total",
                                    "Slots in the cluster (Flink: taskSlotsTotal).");
  jm->slots_available_gauge_ = NewGauge(registry, "sluice_jobmanager_task_slots_available",
                                        "Free slots in the cluster (Flink: taskSlotsAvailable).");
  jm->rest_.AddCollectable(std::make_shared<JobMetrics>(jm->dispatcher_.get()));
  jm->ServeRestApi();
  const std::string& rest_host = config.GetString("rest.bind-address");
  int rest_port = static_cast<int>(config.GetInt("rest.port"));
  auto bound = jm->rest_.Start(rest_host, PortRange{rest_port, rest_port});
  if (!bound.ok()) return bound.status();

  spdlog::info("JobManager '{}' serving RPC on {}; REST API and metrics at http://{}/", jm->id_,
               HostPort(config.GetString("jobmanager.bind-host"), jm->grpc_.port),
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
    for (auto& declaration : slot_pool_.Declarations()) {
      v1::JobManagerMessage message;
      *message.mutable_declare() = std::move(declaration);
      keeper_->Send(std::move(message));
    }
  };
  keeper_ = std::make_unique<SessionKeeper<v1::JobManagerMessage>>(options, std::move(hooks));
  keeper_->Start();
}

JobMasterHost JobManager::MakeJobMasterHost() {
  JobMasterHost host;
  host.declare = [this](const v1::DeclareResources& d) { DeclareResources(d); };
  host.release = [this](const std::string& job_id) { ReleaseJob(job_id); };
  host.slot_pool = &slot_pool_;
  host.deploy = [this](const std::string& job_id, const std::vector<OfferedSlot>& slots) {
    return Deploy(job_id, slots);
  };
  host.cancel_tasks = [this](const std::string& job_id) { CancelTasks(job_id); };
  return host;
}

v1::TaskExecutor::Stub* JobManager::TaskExecutorAt(const std::string& address) {
  absl::MutexLock lock(&mu_);
  auto& stub = task_executors_[address];
  if (!stub) stub = v1::TaskExecutor::NewStub(CreateChannel(address, absl::Seconds(2)));
  return stub.get();
}

// Slot i hosts subtask i of every vertex (slot sharing); every TaskManager
// gets the whole map, so it knows where its channels lead.
v1::DeployJobRequest JobManager::DeployRequest(const JobMaster& master,
                                               std::vector<OfferedSlot> slots,
                                               std::vector<std::string>* addresses) const {
  std::sort(slots.begin(), slots.end(),
            [](const auto& a, const auto& b) { return a.allocation_id < b.allocation_id; });
  const v1::JobSubmission& submission = master.submission();
  v1::DeployJobRequest request;
  request.set_job_id(master.id());
  request.set_job_manager_address(rpc_address_);
  request.set_library_sha256(submission.library_sha256());
  request.set_job_name(submission.job_name());
  *request.mutable_args() = submission.args();
  request.set_parallelism(submission.parallelism());
  request.set_max_parallelism(submission.max_parallelism());
  if (submission.has_buffer_timeout_us()) {
    request.set_buffer_timeout_us(submission.buffer_timeout_us());
  }
  *request.mutable_graph() = submission.graph();
  for (const auto& vertex : master.graph().vertices) {
    for (int s = 0; s < vertex.parallelism; ++s) {
      const OfferedSlot& slot = slots.at(s);
      auto* a = request.add_assignments();
      a->set_vertex(vertex.id);
      a->set_subtask(s);
      a->set_task_manager_id(slot.task_manager_id);
      a->set_task_manager_address(slot.task_manager_address);
      a->set_task_manager_data_address(slot.data_address);
      if (std::find(addresses->begin(), addresses->end(), slot.task_manager_address) ==
          addresses->end()) {
        addresses->push_back(slot.task_manager_address);
      }
    }
  }
  return request;
}

absl::Status JobManager::Deploy(const std::string& job_id, const std::vector<OfferedSlot>& slots) {
  auto master = dispatcher_->Find(job_id);
  if (!master) return absl::NotFoundError("the job is gone");
  std::vector<std::string> addresses;
  v1::DeployJobRequest request = DeployRequest(*master, slots, &addresses);
  {
    absl::MutexLock lock(&mu_);
    deployed_[job_id] = addresses;
  }
  // Everything is wired before anything starts, so no data arrives early.
  for (const auto& address : addresses) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + rpc_timeout_ * 6));
    v1::DeployJobResponse response;
    grpc::Status status = TaskExecutorAt(address)->DeployJob(&context, request, &response);
    if (!status.ok()) {
      absl::Status failed = FromGrpcStatus(status);
      return absl::Status(failed.code(), absl::StrCat("deploying to TaskManager ", address,
                                                      " failed: ", failed.message()));
    }
  }
  v1::JobTasksRequest start;
  start.set_job_id(job_id);
  for (const auto& address : addresses) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + rpc_timeout_));
    v1::DeployJobResponse response;
    grpc::Status status = TaskExecutorAt(address)->StartJob(&context, start, &response);
    if (!status.ok()) {
      return absl::UnavailableError(
          absl::StrCat("starting on TaskManager ", address, " failed: ", status.error_message()));
    }
  }
  spdlog::info("Job {} runs on {} TaskManager(s)", job_id, addresses.size());
  return absl::OkStatus();
}

void JobManager::CancelTasks(const std::string& job_id) {
  std::vector<std::string> addresses;
  {
    absl::MutexLock lock(&mu_);
    auto it = deployed_.find(job_id);
    if (it == deployed_.end()) return;
    addresses = std::move(it->second);
    deployed_.erase(it);
  }
  for (const auto& address : addresses) {
    auto context = std::make_shared<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + rpc_timeout_));
    auto request = std::make_shared<v1::JobTasksRequest>();
    request->set_job_id(job_id);
    auto response = std::make_shared<v1::DeployJobResponse>();
    TaskExecutorAt(address)->async()->CancelJob(context.get(), request.get(), response.get(),
                                                [context, request, response](grpc::Status) {});
  }
}

void JobManager::OnTaskState(const v1::TaskStateUpdate& update) {
  auto master = dispatcher_->Find(update.job_id());
  if (!master) return;
  if (update.state() == "FAILED") {
    master->Fail(update.error());
  } else if (update.state() == "FINISHED") {
    master->TaskFinished();
  }
}

void JobManager::DeclareResources(const v1::DeclareResources& declaration) {
  slot_pool_.Declare(declaration);
  v1::JobManagerMessage message;
  *message.mutable_declare() = declaration;
  SendToResourceManager(std::move(message));
}

void JobManager::ReleaseJob(const std::string& job_id) {
  slot_pool_.Release(job_id);
  v1::JobManagerMessage message;
  message.mutable_release_job()->set_job_id(job_id);
  SendToResourceManager(std::move(message));
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
      if (message.declaration_result().code() != 0) {
        spdlog::error("The ResourceManager refused job '{}': {}",
                      message.declaration_result().job_id(), message.declaration_result().error());
      }
      slot_pool_.OnDeclarationResult(message.declaration_result());
      return;
    case v1::ResourceManagerMessage::kSlotsRevoked:
      for (const auto& slot : message.slots_revoked().slots()) {
        spdlog::warn("Job '{}' lost allocation {} on '{}': {}", slot.job_id(), slot.allocation_id(),
                     slot.task_manager_id(), slot.reason());
      }
      slot_pool_.OnSlotsRevoked(message.slots_revoked());
      for (const auto& slot : message.slots_revoked().slots()) {
        // A running job cannot continue without a slot (restarts come with checkpoints).
        if (auto master = dispatcher_->Find(slot.job_id())) {
          master->Fail(absl::StrCat("lost its slot on TaskManager '", slot.task_manager_id(),
                                    "': ", slot.reason()));
        }
      }
      return;
    case v1::ResourceManagerMessage::kRequestFailed:
      spdlog::error("{}", message.request_failed().message());
      slot_pool_.OnRequestFailed(message.request_failed());
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
  rest_.http().HandleGet("/taskmanagers", [this] {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + rpc_timeout_));
    v1::ClusterStatus status;
    grpc::Status rpc = rm_stub_->GetClusterStatus(&context, v1::GetClusterStatusRequest{}, &status);
    if (!rpc.ok()) {
      return HttpResponse{503, "application/json",
                          absl::StrCat(R"({"errors":["ResourceManager unavailable"]})")};
    }
    return HttpResponse{200, "application/json", ToJson(status)};
  });
}

void JobManager::Shutdown() {
  rest_.http().Stop();  // before the jobs it reports on go away
  dispatcher_.reset();  // cancels its jobs while the session to the RM is up
  if (keeper_) keeper_->Stop(/*deregister=*/true);
  StopGrpcServer(grpc_);
}

JobManager::~JobManager() { Shutdown(); }

}  // namespace sluice
