// Starting a gRPC server on a host and port (0: any free port).
#ifndef SLUICE_COMMON_RPC_GRPC_SERVER_H_
#define SLUICE_COMMON_RPC_GRPC_SERVER_H_

#include <grpcpp/server.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sluice {

struct RunningGrpcServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

absl::StatusOr<RunningGrpcServer> StartGrpcServer(const std::string& host, int port,
                                                  const std::vector<grpc::Service*>& services);

// Stops accepting calls, gives in-flight ones `grace`, then cancels the rest
// (long-lived session streams never end on their own). Idempotent.
void StopGrpcServer(RunningGrpcServer& running, absl::Duration grace = absl::Milliseconds(200));

// This machine's host name ("localhost" if it cannot be read).
std::string MachineHostName();

// Formats "host:port", bracketing IPv6 literals.
std::string HostPort(const std::string& host, int port);

}  // namespace sluice

#endif  // SLUICE_COMMON_RPC_GRPC_SERVER_H_
