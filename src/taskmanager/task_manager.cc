#include "taskmanager/task_manager.h"

#include "absl/strings/str_cat.h"
#include "common/process_stats.h"
#include "common/rpc/channel.h"
#include "common/rpc/proto_convert.h"
#include "common/rpc/session_options.h"
#include "prometheus/family.h"
#include "spdlog/spdlog.h"

namespace sluice {

absl::StatusOr<std::unique_ptr<TaskManager>> TaskManager::Start(const Config& config) {
  std::unique_ptr<TaskManager> tm(new TaskManager());
  const std::string& bind_host = config.GetString("taskmanager.bind-host");
  auto grpc = StartGrpcServer(bind_host, static_cast<int>(config.GetInt("taskmanager.rpc.port")),
                              {static_cast<v1::TaskExecutor::CallbackService*>(tm.get())});
  if (!grpc.ok()) return grpc.status();
  tm->grpc_ = std::move(*grpc);
  tm->spec_ = SpecFromConfig(config, tm->grpc_.port);
  {
    absl::MutexLock lock(&tm->slots_mu_);
    tm->slots_ = tm->spec_.slots;
  }
  tm->registered_gauge_ = &prometheus::BuildGauge()
                               .Name("sluice_taskmanager_registered")
                               .Help("1 while registered with the ResourceManager, else 0.")
                               .Register(tm->metrics_.registry())
                               .Add({});
  auto& slots = prometheus::BuildGauge()
                    .Name("sluice_taskmanager_slots")
                    .Help("Slots of this TaskManager.")
                    .Register(tm->metrics_.registry());
  slots.Add({{"state", "free"}}).Set(static_cast<double>(tm->spec_.slots.size()));
  slots.Add({{"state", "allocated"}}).Set(0);
  auto metrics_port =
      tm->metrics_.Start(bind_host, config.GetPortRange("metrics.reporter.prom.port"));
  if (!metrics_port.ok()) return metrics_port.status();

  spdlog::info("TaskManager '{}' serving RPC on {} with {} slots; metrics at http://{}/metrics",
               tm->spec_.id, tm->spec_.rpc_address, tm->spec_.slots.size(),
               HostPort(bind_host, *metrics_port));
  tm->StartSession(config);
  return tm;
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
  hooks.on_state = [this](bool registered) { registered_gauge_->Set(registered ? 1 : 0); };
  keeper_ = std::make_unique<SessionKeeper<v1::TaskManagerMessage>>(options, std::move(hooks));
  keeper_->Start();
}

std::vector<SlotState> TaskManager::SlotReport() const {
  absl::MutexLock lock(&slots_mu_);
  return slots_;
}

v1::TaskManagerMessage TaskManager::RegisterMessage() const {
  v1::TaskManagerMessage message;
  auto* reg = message.mutable_register_();
  reg->set_task_manager_id(spec_.id);
  reg->set_rpc_address(spec_.rpc_address);
  reg->set_hostname(spec_.host);
  reg->set_version(SLUICE_VERSION);
  ToProto(spec_.total, reg->mutable_total_resources());
  for (const auto& slot : SlotReport()) ToProto(slot, reg->add_slots());
  return message;
}

v1::TaskManagerMessage TaskManager::HeartbeatMessage(uint64_t sequence) const {
  v1::TaskManagerMessage message;
  auto* heartbeat = message.mutable_heartbeat();
  heartbeat->set_sequence(sequence);
  for (const auto& slot : SlotReport()) ToProto(slot, heartbeat->add_slots());
  ToProto(ReadProcessUsage(), heartbeat->mutable_usage());
  return message;
}

grpc::ServerUnaryReactor* TaskManager::GetSlotReport(grpc::CallbackServerContext* context,
                                                     const v1::GetSlotReportRequest*,
                                                     v1::SlotReport* response) {
  response->set_task_manager_id(spec_.id);
  for (const auto& slot : SlotReport()) ToProto(slot, response->add_slots());
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

void TaskManager::Shutdown() {
  if (keeper_) keeper_->Stop(/*deregister=*/true);
  StopGrpcServer(grpc_);
  metrics_.http().Stop();
}

TaskManager::~TaskManager() { Shutdown(); }

}  // namespace sluice
