// Flink's cluster endpoints on the JobManager's REST port: /config,
// /jobmanager/config, /jobmanager/logs (and one log file), /taskmanagers and
// /taskmanagers/<id> (camelCase, as Flink's TaskManagerInfo), plus the
// ResourceManager's tenants and waiting requests under "sluice"; a
// TaskManager's /logs, /logs/<name>, /log and /stdout, fetched from it.
//
// Log files are served only by name from the log directory's own listing
// (common/log_files.h), never by a path built from the request.
#ifndef SLUICE_JOBMANAGER_CLUSTER_REST_H_
#define SLUICE_JOBMANAGER_CLUSTER_REST_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/http/http_server.h"
#include "nlohmann/json.hpp"
#include "sluice/v1/resourcemanager.pb.h"
#include "sluice/v1/taskmanager.pb.h"

namespace sluice {

struct ClusterRestOptions {
  const Config* config = nullptr;  // the JobManager's
  std::string log_dir;             // empty: no logs to serve
  std::string rpc_address;         // host:port of the JobManager's RPC, in /config
  // The ResourceManager's view of the cluster (an RPC with a deadline).
  std::function<absl::StatusOr<v1::ClusterStatus>()> cluster_status;
  // A TaskManager's own log files and the end of one, asked over its RPC
  // address (RPCs with a deadline).
  std::function<absl::StatusOr<v1::LogList>(const std::string& address)> task_manager_logs;
  std::function<absl::StatusOr<std::string>(const std::string& address, const std::string& name,
                                            int64_t max_bytes)>
      task_manager_log;
};

void ServeClusterRoutes(HttpServer& http, ClusterRestOptions options);

nlohmann::ordered_json TaskManagerJson(const v1::TaskManagerStatus& tm);
// Whether `key`'s value is a secret the REST API shows as "******" (Flink's rule).
bool IsSensitiveKey(const std::string& key);

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_CLUSTER_REST_H_
