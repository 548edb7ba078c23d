#include "jobmanager/cluster_status_forwarder.h"

#include <memory>

#include "absl/strings/str_cat.h"

namespace sluice {

grpc::ServerUnaryReactor* ClusterStatusForwarder::GetClusterStatus(
    grpc::CallbackServerContext* context, const v1::GetClusterStatusRequest* request,
    v1::ClusterStatus* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto client_context = std::make_shared<grpc::ClientContext>();
  client_context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  rm_->async()->GetClusterStatus(
      client_context.get(), request, response,
      [reactor, client_context, address = rm_address_](grpc::Status status) {
        if (!status.ok()) {
          status = grpc::Status(status.error_code(),
                                absl::StrCat("ResourceManager at ", address,
                                             " did not answer: ", status.error_message()));
        }
        reactor->Finish(status);
      });
  return reactor;
}

}  // namespace sluice
