#include "client/cluster_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "client/credentials.h"
#include "common/rpc/grpc_status.h"
#include "sluice/v1/jobmanager.grpc.pb.h"
#include "sluice/v1/resourcemanager.grpc.pb.h"

namespace sluice {
namespace {

template <typename Stub>
grpc::Status Ask(Stub& stub, absl::Duration timeout, v1::ClusterStatus* out) {
  grpc::ClientContext context;
  Authorize(&context);
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return stub.GetClusterStatus(&context, v1::GetClusterStatusRequest{}, out);
}

}  // namespace

absl::StatusOr<v1::ClusterStatus> FetchClusterStatus(const std::string& target,
                                                     absl::Duration timeout) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  v1::ClusterStatus status;
  auto jm = v1::JobManager::NewStub(channel);
  grpc::Status result = Ask(*jm, timeout, &status);
  if (result.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    auto rm = v1::ResourceManager::NewStub(channel);
    result = Ask(*rm, timeout, &status);
  }
  if (!result.ok()) {
    return absl::Status(
        FromGrpcStatus(result).code(),
        absl::StrCat("cannot get the cluster status from ", target, ": ", result.error_message()));
  }
  return status;
}

}  // namespace sluice
