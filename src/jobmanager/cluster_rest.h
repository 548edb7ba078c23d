// Flink's cluster endpoints on the JobManager's REST port: /config,
// /jobmanager/config, /jobmanager/logs (and one log file), /taskmanagers and
// /taskmanagers/<id> (camelCase, as Flink's TaskManagerInfo), plus the
// ResourceManager's tenants and waiting requests under "sluice".
//
// Log files are served only by name from the log directory's own listing:
// a name is never joined to a path, so `..`, `%2e%2e`, `..%2f` and the
// double-encoded `..%252f` (Flink's CVE-2020-17519) find nothing.
#ifndef SLUICE_JOBMANAGER_CLUSTER_REST_H_
#define SLUICE_JOBMANAGER_CLUSTER_REST_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/http/http_server.h"
#include "nlohmann/json.hpp"
#include "sluice/v1/resourcemanager.pb.h"

namespace sluice {

struct ClusterRestOptions {
  const Config* config = nullptr;  // the JobManager's
  std::string log_dir;             // empty: no logs to serve
  std::string rpc_address;         // host:port of the JobManager's RPC, in /config
  // The ResourceManager's view of the cluster (an RPC with a deadline).
  std::function<absl::StatusOr<v1::ClusterStatus>()> cluster_status;
};

void ServeClusterRoutes(HttpServer& http, ClusterRestOptions options);

nlohmann::ordered_json TaskManagerJson(const v1::TaskManagerStatus& tm);
// Whether `key`'s value is a secret the REST API shows as "******" (Flink's rule).
bool IsSensitiveKey(const std::string& key);

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_CLUSTER_REST_H_
