// The CLI's view of the cluster: fetches the status from a JobManager or a
// ResourceManager at `target`.
#ifndef SLUICE_CLIENT_CLUSTER_CLIENT_H_
#define SLUICE_CLIENT_CLUSTER_CLIENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sluice/v1/resourcemanager.pb.h"

namespace sluice {

// Asks `target` ("host:port") as a JobManager, and as a ResourceManager if it
// is not one, so -m may name either daemon.
absl::StatusOr<v1::ClusterStatus> FetchClusterStatus(const std::string& target,
                                                     absl::Duration timeout);

}  // namespace sluice

#endif  // SLUICE_CLIENT_CLUSTER_CLIENT_H_
