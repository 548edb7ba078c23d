#include "taskmanager/task_manager_spec.h"

#include "common/net/listen_policy.h"
#include "common/rpc/grpc_server.h"

namespace sluice {
TaskManagerSpec SpecFromConfig(const Config& config, int rpc_port) {
  TaskManagerSpec spec;
  spec.host = config.GetString("taskmanager.host");
  if (spec.host.empty()) {
    // Bound to loopback, it is reachable only there.
    const std::string& bind_host = config.GetString("taskmanager.bind-host");
    spec.host = net::IsLoopbackHost(bind_host) ? bind_host : MachineHostName();
  }
  spec.rpc_address = HostPort(spec.host, rpc_port);
  spec.id = config.GetString("taskmanager.resource-id");
  if (spec.id.empty()) spec.id = spec.rpc_address;

  const int slots = static_cast<int>(config.GetInt("taskmanager.numberOfTaskSlots"));
  double cores = config.GetDouble("taskmanager.cpu.cores");
  spec.total.cpu_cores = cores > 0 ? cores : slots;
  spec.total.memory_bytes = config.GetMemoryBytes("taskmanager.memory.process.size");
  spec.total.network_bytes_per_second = config.GetMemoryBytes("taskmanager.network.bandwidth");
  spec.total.extended = config.ExtendedResources();
  spec.tenant = config.GetString("taskmanager.tenant");

  const ResourceProfile share = spec.total.Share(slots);
  for (int i = 0; i < slots; ++i) spec.slots.push_back(SlotState{i, share, "", ""});
  return spec;
}

}  // namespace sluice
