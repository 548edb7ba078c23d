// The gRPC face of the ResourceManager: turns session streams and requests
// into calls on the core, and the core's answers into messages.
#ifndef SLUICE_RESOURCEMANAGER_RESOURCE_MANAGER_SERVICE_H_
#define SLUICE_RESOURCEMANAGER_RESOURCE_MANAGER_SERVICE_H_

#include "resourcemanager/resource_manager.h"
#include "sluice/v1/resourcemanager.grpc.pb.h"

namespace sluice {

class ResourceManagerService final : public v1::ResourceManager::CallbackService {
 public:
  explicit ResourceManagerService(ResourceManager* core) : core_(core) {}

  grpc::ServerBidiReactor<v1::TaskManagerMessage, v1::ResourceManagerMessage>* TaskManagerSession(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<v1::JobManagerMessage, v1::ResourceManagerMessage>* JobManagerSession(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* GetClusterStatus(grpc::CallbackServerContext* context,
                                             const v1::GetClusterStatusRequest* request,
                                             v1::ClusterStatus* response) override;

 private:
  ResourceManager* const core_;
};

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_RESOURCE_MANAGER_SERVICE_H_
