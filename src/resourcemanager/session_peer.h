// How the ResourceManager talks to one session (a TaskManager or a
// JobManager), in domain terms. The gRPC service implements it over the
// stream; tests implement it in memory.
#ifndef SLUICE_RESOURCEMANAGER_SESSION_PEER_H_
#define SLUICE_RESOURCEMANAGER_SESSION_PEER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "resourcemanager/cluster_overview.h"
#include "resourcemanager/slot_manager.h"

namespace sluice {

class SessionPeer {
 public:
  virtual ~SessionPeer() = default;
  virtual void SendAccepted(const std::string& registration_id,
                            const std::string& resource_manager_id) = 0;
  // `overview` is null for TaskManagers.
  virtual void SendHeartbeatAck(uint64_t sequence, const ClusterOverview* overview) = 0;
  // Ends the session; an OK status is a clean end.
  virtual void Close(const absl::Status& status) = 0;

  // To TaskManagers.
  virtual void SendSlotRequest(const SlotGrant& grant, const std::string& job_master_address) = 0;
  virtual void SendFreeAllocation(const std::string& allocation_id, const std::string& reason) = 0;

  // To JobManagers.
  virtual void SendDeclarationResult(const std::string& job_id, const absl::Status& status) = 0;
  virtual void SendSlotsRevoked(const std::vector<SlotManagerEffects::Revocation>& revoked) = 0;
  virtual void SendRequestFailed(const std::string& job_id, const std::string& message) = 0;
};

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_SESSION_PEER_H_
