#include "common/rpc/session_options.h"

#include "absl/strings/str_cat.h"
#include "common/rpc/grpc_server.h"

namespace sluice {

std::string ResourceManagerAddress(const Config& config) {
  return HostPort(config.GetString("resourcemanager.rpc.address"),
                  static_cast<int>(config.GetInt("resourcemanager.rpc.port")));
}

SessionKeeperOptions ResourceManagerSessionOptions(const Config& config) {
  SessionKeeperOptions options;
  options.peer = absl::StrCat("ResourceManager at ", ResourceManagerAddress(config));
  options.heartbeat_interval = config.GetDuration("heartbeat.interval");
  options.heartbeat_timeout = config.GetDuration("heartbeat.timeout");
  options.initial_backoff = config.GetDuration("cluster.registration.initial-timeout");
  options.max_backoff = config.GetDuration("cluster.registration.max-timeout");
  options.refused_delay = config.GetDuration("cluster.registration.refused-registration-delay");
  return options;
}

}  // namespace sluice
