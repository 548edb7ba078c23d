// Flink's job endpoints on the JobManager's REST port, with Flink's field
// names, so scripts and dashboards written for Flink keep working:
//   GET   /jobs                      {"jobs":[{"id","status"}]}
//   GET   /jobs/overview             {"jobs":[{"jid","name","state","start-time","end-time",
//                                               "duration","tasks":{"total","running"}}]}
//   GET   /jobs/<id>                 one job: the overview fields, "now", "parallelism",
//                                    "tenant", "root-exception", "vertices":[{"id","name",
//                                    "parallelism"}]
//   PATCH /jobs/<id>[?mode=cancel]   cancels it: 202 {}
// Unknown jobs get 404 and bad requests 400, each with {"errors":[...]}.
#ifndef SLUICE_JOBMANAGER_JOB_REST_H_
#define SLUICE_JOBMANAGER_JOB_REST_H_

#include <vector>

#include "common/http/http_server.h"
#include "jobmanager/dispatcher.h"
#include "nlohmann/json.hpp"
#include "sluice/v1/jobmanager.pb.h"

namespace sluice {

void ServeJobRoutes(HttpServer& http, Dispatcher& dispatcher);

// One entry of /jobs/overview.
nlohmann::ordered_json JobOverviewJson(const v1::JobStatus& job);
// The job counts of Flink's /overview: jobs-running, -finished, -cancelled, -failed.
nlohmann::ordered_json JobCountsJson(const std::vector<v1::JobStatus>& jobs);

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_JOB_REST_H_
