// Proto <-> domain conversion for the ResourceManager service.
#ifndef SLUICE_RESOURCEMANAGER_RM_CONVERT_H_
#define SLUICE_RESOURCEMANAGER_RM_CONVERT_H_

#include "absl/status/statusor.h"
#include "resourcemanager/cluster_overview.h"
#include "resourcemanager/resource_manager.h"
#include "resourcemanager/task_manager_registry.h"
#include "sluice/v1/resourcemanager.pb.h"

namespace sluice {

TaskManagerInfo FromProto(const v1::RegisterTaskManager& message);
SlotRequestAnswer FromProto(const v1::SlotRequestResult& message);
// INVALID_ARGUMENT for an unknown placement.
absl::StatusOr<JobDeclaration> FromProto(const v1::DeclareResources& message);
void ToProto(const SlotGrant& grant, const std::string& job_master_address, v1::SlotRequest* out);
void ToProto(const SlotManagerEffects::Revocation& revocation, v1::SlotRevoked* out);
JobManagerInfo FromProto(const v1::RegisterJobManager& message);
void ToProto(const ClusterOverview& overview, v1::ClusterOverview* out);
void ToProto(const ClusterStatusSnapshot& snapshot, v1::ClusterStatus* out);

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_RM_CONVERT_H_
