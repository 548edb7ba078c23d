// The JobManager's gRPC service: answers the CLI's cluster status by asking
// the ResourceManager, with a deadline.
#ifndef SLUICE_JOBMANAGER_CLUSTER_STATUS_FORWARDER_H_
#define SLUICE_JOBMANAGER_CLUSTER_STATUS_FORWARDER_H_

#include <string>

#include "absl/time/time.h"
#include "sluice/v1/jobmanager.grpc.pb.h"
#include "sluice/v1/resourcemanager.grpc.pb.h"

namespace sluice {

class ClusterStatusForwarder final : public v1::JobManager::CallbackService {
 public:
  ClusterStatusForwarder(v1::ResourceManager::Stub* rm, std::string rm_address,
                         absl::Duration timeout)
      : rm_(rm), rm_address_(std::move(rm_address)), timeout_(timeout) {}

  grpc::ServerUnaryReactor* GetClusterStatus(grpc::CallbackServerContext* context,
                                             const v1::GetClusterStatusRequest* request,
                                             v1::ClusterStatus* response) override;

 private:
  v1::ResourceManager::Stub* const rm_;
  const std::string rm_address_;
  const absl::Duration timeout_;
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_CLUSTER_STATUS_FORWARDER_H_
