// Session settings every peer of the ResourceManager reads from the config.
#ifndef SLUICE_COMMON_RPC_SESSION_OPTIONS_H_
#define SLUICE_COMMON_RPC_SESSION_OPTIONS_H_

#include <string>

#include "common/config/config.h"
#include "common/rpc/session_keeper.h"

namespace sluice {

// "host:port" of the ResourceManager.
std::string ResourceManagerAddress(const Config& config);

// Heartbeat interval and timeout, registration backoff, and the peer name.
SessionKeeperOptions ResourceManagerSessionOptions(const Config& config);

}  // namespace sluice

#endif  // SLUICE_COMMON_RPC_SESSION_OPTIONS_H_
