// How the ResourceManager answers one session stream, in domain terms. The
// gRPC service implements it over the stream; tests implement it in memory.
#ifndef SLUICE_RESOURCEMANAGER_SESSION_PEER_H_
#define SLUICE_RESOURCEMANAGER_SESSION_PEER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "resourcemanager/cluster_overview.h"

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
};

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_SESSION_PEER_H_
