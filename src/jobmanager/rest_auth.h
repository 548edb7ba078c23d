// The REST API's door when client authentication is on (ClientAuth): the
// web UI's files are public (they hold no data); every other route needs a
// token (401 otherwise, Flink's {"errors": [...]} shape with a Bearer
// challenge); cluster-wide routes (TaskManagers, the JobManager's config and
// logs, /metrics) need the administrator's (403); a job's routes need a
// principal that may access its tenant (403), and lists are narrowed to the
// tenant's jobs. Each refusal is logged with who and from where.
#ifndef SLUICE_JOBMANAGER_REST_AUTH_H_
#define SLUICE_JOBMANAGER_REST_AUTH_H_

#include <functional>
#include <optional>
#include <string>

#include "common/http/http_server.h"
#include "jobmanager/client_auth.h"

namespace sluice {

// The tenant of job `job_id`, or nullopt if there is no such job.
using JobTenantLookup = std::function<std::optional<std::string>(const std::string& job_id)>;

HttpServer::Guard RestGuard(const ClientAuth* auth, JobTenantLookup job_tenant);

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_REST_AUTH_H_
