// What a TaskManager is and offers, derived from its configuration.
#ifndef SLUICE_TASKMANAGER_TASK_MANAGER_SPEC_H_
#define SLUICE_TASKMANAGER_TASK_MANAGER_SPEC_H_

#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/resource_profile.h"
#include "common/slot.h"

namespace sluice {

struct TaskManagerSpec {
  std::string id;
  std::string host;         // advertised
  std::string rpc_address;  // host:port
  ResourceProfile total;
  std::vector<SlotState> slots;  // all free, each an equal share of `total`
  std::string tenant;            // dedicated to this tenant; empty: shared
};

// `rpc_port` is the port the TaskManager's RPC server actually bound.
TaskManagerSpec SpecFromConfig(const Config& config, int rpc_port);

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_TASK_MANAGER_SPEC_H_
