#include "resourcemanager/resource_manager_server.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/net/listen_policy.h"
#include "spdlog/spdlog.h"

namespace sluice {

SlotManagerOptions SlotManagerOptionsFromConfig(const Config& config) {
  SlotManagerOptions options;
  // Both keys are checked against their allowed values when the config loads.
  options.scheduler = *ParseScheduler(config.GetString("resourcemanager.scheduler"));
  options.placement = *ParsePlacement(config.GetString("resourcemanager.slot-placement"));
  options.preemption = config.GetBool("resourcemanager.scheduler.preemption");
  options.reserved_slots = static_cast<int>(config.GetInt("resourcemanager.reserved-slots"));
  options.reserved_min_priority =
      static_cast<int>(config.GetInt("resourcemanager.reserved-slots.min-priority"));
  options.request_timeout = config.GetDuration("slot.request.timeout");
  options.job_timeout = config.GetDuration("resourcemanager.job.timeout");
  options.pending_timeout = config.GetDuration("rpc.timeout");
  options.allocation_prefix = absl::StrCat("a", absl::Hex(absl::ToUnixMicros(absl::Now())));
  return options;
}

absl::StatusOr<std::unique_ptr<ResourceManagerServer>> ResourceManagerServer::Start(
    const Config& config, const Clock* clock) {
  if (absl::Status listen = net::CheckListenAddresses(config, {"resourcemanager.bind-host"});
      !listen.ok()) {
    return listen;
  }
  std::unique_ptr<ResourceManagerServer> server(new ResourceManagerServer());
  const std::string& host = config.GetString("resourcemanager.bind-host");
  ResourceManagerOptions options;
  options.id = absl::StrCat("resourcemanager@", config.GetString("resourcemanager.rpc.address"),
                            ":", config.GetInt("resourcemanager.rpc.port"));
  options.heartbeat_interval = config.GetDuration("heartbeat.interval");
  options.heartbeat_timeout = config.GetDuration("heartbeat.timeout");
  options.slots = SlotManagerOptionsFromConfig(config);
  options.max_slots_per_task_manager =
      static_cast<int>(config.GetInt("resourcemanager.taskmanager.max-slots"));
  auto tenants = Tenants::FromConfig(config);
  if (!tenants.ok()) return tenants.status();
  options.tenants = *std::move(tenants);
  server->core_ = std::make_unique<ResourceManager>(options, clock, server->metrics_.registry());
  server->service_ = std::make_unique<ResourceManagerService>(server->core_.get());

  auto grpc = StartGrpcServer(host, static_cast<int>(config.GetInt("resourcemanager.rpc.port")),
                              {server->service_.get()});
  if (!grpc.ok()) return grpc.status();
  server->grpc_ = std::move(*grpc);
  auto metrics_port =
      server->metrics_.Start(host, config.GetPortRange("metrics.reporter.prom.port"));
  if (!metrics_port.ok()) return metrics_port.status();

  spdlog::info("ResourceManager listening on {} (heartbeat interval {}, timeout {})",
               HostPort(host, server->grpc_.port), HumanDuration(options.heartbeat_interval),
               HumanDuration(options.heartbeat_timeout));
  spdlog::info("Metrics at http://{}/metrics", HostPort(host, *metrics_port));
  return server;
}

void ResourceManagerServer::Shutdown() {
  StopGrpcServer(grpc_);
  metrics_.http().Stop();
}

ResourceManagerServer::~ResourceManagerServer() { Shutdown(); }

}  // namespace sluice
