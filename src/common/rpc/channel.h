// Client channels to Sluice daemons.
#ifndef SLUICE_COMMON_RPC_CHANNEL_H_
#define SLUICE_COMMON_RPC_CHANNEL_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace sluice {

// A channel to `target` ("host:port") whose own reconnect backoff is capped at
// `max_reconnect_backoff`: gRPC's default grows to two minutes, far longer than
// Sluice wants to wait for a restarted ResourceManager.
std::shared_ptr<grpc::Channel> CreateChannel(const std::string& target,
                                             absl::Duration max_reconnect_backoff);

}  // namespace sluice

#endif  // SLUICE_COMMON_RPC_CHANNEL_H_
