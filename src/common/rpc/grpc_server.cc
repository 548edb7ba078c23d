#include "common/rpc/grpc_server.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sluice {

std::string MachineHostName() {
  char name[256] = {};
  return gethostname(name, sizeof(name) - 1) == 0 ? name : "localhost";
}

std::string HostPort(const std::string& host, int port) {
  if (absl::StrContains(host, ":") && !absl::StartsWith(host, "[")) {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

void StopGrpcServer(RunningGrpcServer& running, absl::Duration grace) {
  if (!running.server) return;
  running.server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  running.server.reset();
}

absl::StatusOr<RunningGrpcServer> StartGrpcServer(const std::string& host, int port,
                                                  const std::vector<grpc::Service*>& services) {
  RunningGrpcServer running;
  grpc::ServerBuilder builder;
  // Several daemons on one host must not share a port by accident.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // A peer that vanished without closing its connections (a machine gone, a
  // half-open TCP connection) is noticed within ~40 s by pings, idle
  // connections included, and its streams end instead of lasting for ever.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.AddListeningPort(HostPort(host, port), grpc::InsecureServerCredentials(), &running.port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  running.server = builder.BuildAndStart();
  if (running.server == nullptr || running.port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", HostPort(host, port),
                                               ": address in use or not available"));
  }
  return running;
}

}  // namespace sluice
