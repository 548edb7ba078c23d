#include "jobmanager/job_rest.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "jobmanager/checkpoint_rest.h"
#include "jobmanager/job_history.h"
#include "jobmanager/job_json.h"
#include "jobmanager/rest_response.h"

namespace sluice {
namespace {

using json = nlohmann::ordered_json;

constexpr auto Json = JsonResponse;
constexpr auto Error = ErrorResponse;

HttpResponse JobDetails(Dispatcher& dispatcher, const std::string& id) {
  auto master = dispatcher.Find(id);
  if (!master) return Error(404, absl::StrCat("Job ", id, " not found"));
  return Json(200,
              JobDetailsJson(master->Status(), master->graph(), absl::ToUnixMillis(absl::Now())));
}

// GET /jobs/<id>/vertices/<vid>[/backpressure]
HttpResponse VertexDetails(Dispatcher& dispatcher, const std::string& id,
                           const std::string& vertex_id, bool back_pressure) {
  auto master = dispatcher.Find(id);
  if (!master) return Error(404, absl::StrCat("Job ", id, " not found"));
  auto vertex = FindVertex(id, master->graph(), vertex_id);
  if (!vertex) return Error(404, absl::StrCat("Job ", id, " has no vertex ", vertex_id));
  const int64_t now = absl::ToUnixMillis(absl::Now());
  v1::JobStatus status = master->Status();
  return Json(200, back_pressure ? BackPressureJson(status, *vertex, now)
                                 : VertexDetailsJson(status, master->graph(), *vertex, now));
}

HttpResponse CancelJob(Dispatcher& dispatcher, const std::string& id, const HttpRequest& request) {
  const std::string mode = request.query("mode");
  if (!mode.empty() && mode != "cancel") {
    return Error(400, absl::StrCat("mode '", mode, "' is not supported; use mode=cancel"));
  }
  // Flink answers 202 Accepted at once; the job's state shows the outcome.
  if (!dispatcher.Find(id)) return Error(404, absl::StrCat("Job ", id, " not found"));
  dispatcher.Cancel(id, absl::StrCat("REST client ", request.client),
                    [](const absl::StatusOr<v1::JobStatus>&) {});
  return Json(202, json::object());
}

// The body of a savepoint or stop request, checked: a JSON object whose
// `directory_key` is a string and `flag_key` a boolean, both optional.
absl::StatusOr<SavepointTrigger> ParseSavepointBody(const std::string& body,
                                                    const std::string& directory_key,
                                                    const std::string& flag_key) {
  json parsed = body.empty() ? json::object() : json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::InvalidArgumentError("the request body must be a JSON object");
  }
  SavepointTrigger trigger;
  if (parsed.contains(directory_key)) {
    if (!parsed[directory_key].is_string() && !parsed[directory_key].is_null()) {
      return absl::InvalidArgumentError(absl::StrCat("'", directory_key, "' must be a string"));
    }
    if (parsed[directory_key].is_string()) trigger.directory = parsed[directory_key];
  }
  if (parsed.contains(flag_key)) {
    if (!parsed[flag_key].is_boolean()) {
      return absl::InvalidArgumentError(absl::StrCat("'", flag_key, "' must be true or false"));
    }
    trigger.drain = parsed[flag_key];  // the caller says what the flag means
  }
  return trigger;
}

// POST /jobs/<id>/savepoints and /jobs/<id>/stop: Flink's asynchronous
// operations, answered 202 with the request id to poll.
HttpResponse TriggerSavepoint(Dispatcher& dispatcher, const std::string& id,
                              const HttpRequest& request, bool stop) {
  auto master = dispatcher.Find(id);
  if (!master) return Error(404, absl::StrCat("Job ", id, " not found"));
  auto trigger = stop ? ParseSavepointBody(request.body, "targetDirectory", "drain")
                      : ParseSavepointBody(request.body, "target-directory", "cancel-job");
  if (!trigger.ok()) return Error(400, std::string(trigger.status().message()));
  if (stop) {
    trigger->stop = true;  // drain as given
  } else {
    trigger->stop = trigger->drain;  // cancel-job: Flink's older stop without drain
    trigger->drain = false;
  }
  trigger->origin = absl::StrCat("REST client ", request.client);
  return Json(202, json{{"request-id", master->TriggerSavepoint(*std::move(trigger))}});
}

HttpResponse SavepointStatus(Dispatcher& dispatcher, const std::string& id,
                             const std::string& trigger_id) {
  auto master = dispatcher.Find(id);
  if (!master) return Error(404, absl::StrCat("Job ", id, " not found"));
  auto op = master->Savepoint(trigger_id);
  if (!op) return Error(404, absl::StrCat("No savepoint operation ", trigger_id, " for job ", id));
  using Status = JobMaster::SavepointOperation::Status;
  if (op->status == Status::kInProgress)
    return Json(200, json{{"status", {{"id", "IN_PROGRESS"}}}});
  json operation =
      op->status == Status::kCompleted
          ? json{{"location", op->location}}
          : json{{"failure-cause", {{"class", "SavepointFailure"}, {"stack-trace", op->failure}}}};
  return Json(200, json{{"status", {{"id", "COMPLETED"}}}, {"operation", operation}});
}

// When a task of the job last started: the job changed then.
int64_t LastTaskStart(const v1::JobStatus& job) {
  int64_t last = 0;
  for (const auto& task : job.tasks()) last = std::max(last, task.start_time_ms());
  return last;
}

// Flink's lower-case task counts of /jobs/overview, every state, and total.
json TaskCounts(const v1::JobStatus& job) {
  json counts;
  const json by_state = TaskStateCounts(job, std::nullopt);
  for (auto it = by_state.begin(); it != by_state.end(); ++it) {
    std::string name = it.key();
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    counts[name] = it.value();
  }
  counts["total"] = job.total_tasks();
  return counts;
}

// Every job, or only the tenant's the guard narrowed the request to.
std::vector<v1::JobStatus> VisibleJobs(Dispatcher& dispatcher, const HttpRequest& request) {
  std::vector<v1::JobStatus> jobs = dispatcher.List();
  if (request.tenant) {
    std::erase_if(jobs, [&](const v1::JobStatus& job) { return job.tenant() != *request.tenant; });
  }
  return jobs;
}

}  // namespace

json JobOverviewJson(const v1::JobStatus& job) {
  const bool ended = IsTerminalJobState(job.state());
  return json{{"jid", job.job_id()},
              {"name", job.name()},
              {"state", job.state()},
              {"start-time", job.start_time_ms()},
              {"end-time", ended ? job.start_time_ms() + job.duration_ms() : -1},
              {"duration", job.duration_ms()},
              {"last-modification",
               ended ? job.end_time_ms() : std::max(job.start_time_ms(), LastTaskStart(job))},
              {"tasks", TaskCounts(job)}};
}

json JobCountsJson(const std::vector<v1::JobStatus>& jobs) {
  int running = 0, finished = 0, cancelled = 0, failed = 0;
  for (const auto& job : jobs) {
    const std::string& state = job.state();
    if (state == "FINISHED") {
      ++finished;
    } else if (state == "CANCELED") {
      ++cancelled;
    } else if (state == "FAILED") {
      ++failed;
    } else {
      ++running;  // CREATED, RUNNING, CANCELING: not ended yet
    }
  }
  return json{{"jobs-running", running},
              {"jobs-finished", finished},
              {"jobs-cancelled", cancelled},
              {"jobs-failed", failed}};
}

void ServeJobRoutes(HttpServer& http, Dispatcher& dispatcher) {
  http.Handle(HttpServer::Method::kGet, "/jobs", [&dispatcher](const HttpRequest& request) {
    json jobs = json::array();
    for (const auto& job : VisibleJobs(dispatcher, request)) {
      jobs.push_back({{"id", job.job_id()}, {"status", job.state()}});
    }
    return Json(200, json{{"jobs", jobs}});
  });
  http.Handle(HttpServer::Method::kGet, "/jobs/overview",
              [&dispatcher](const HttpRequest& request) {
                json jobs = json::array();
                for (const auto& job : VisibleJobs(dispatcher, request))
                  jobs.push_back(JobOverviewJson(job));
                return Json(200, json{{"jobs", jobs}});
              });
  http.Handle(HttpServer::Method::kGet, "/jobs/([^/]+)", [&dispatcher](const HttpRequest& request) {
    return JobDetails(dispatcher, request.path_params.at(0));
  });
  http.Handle(HttpServer::Method::kGet, "/jobs/([^/]+)/vertices/([^/]+)",
              [&dispatcher](const HttpRequest& request) {
                return VertexDetails(dispatcher, request.path_params.at(0),
                                     request.path_params.at(1), false);
              });
  http.Handle(HttpServer::Method::kGet, "/jobs/([^/]+)/vertices/([^/]+)/backpressure",
              [&dispatcher](const HttpRequest& request) {
                return VertexDetails(dispatcher, request.path_params.at(0),
                                     request.path_params.at(1), true);
              });
  http.Handle(HttpServer::Method::kGet, "/jobs/([^/]+)/exceptions",
              [&dispatcher](const HttpRequest& request) {
                const std::string& id = request.path_params.at(0);
                auto master = dispatcher.Find(id);
                if (!master) return Error(404, absl::StrCat("Job ", id, " not found"));
                return Json(200, ExceptionsJson(master->Status()));
              });
  http.Handle(
      HttpServer::Method::kGet, "/jobs/([^/]+)/plan", [&dispatcher](const HttpRequest& request) {
        const std::string& id = request.path_params.at(0);
        auto master = dispatcher.Find(id);
        if (!master) return Error(404, absl::StrCat("Job ", id, " not found"));
        json details =
            JobDetailsJson(master->Status(), master->graph(), absl::ToUnixMillis(absl::Now()));
        return Json(200, json{{"plan", details["plan"]}});
      });
  http.Handle(HttpServer::Method::kGet, "/jobs/([^/]+)/checkpoints",
              [&dispatcher](const HttpRequest& request) {
                const std::string& id = request.path_params.at(0);
                auto master = dispatcher.Find(id);
                if (!master) return Error(404, absl::StrCat("Job ", id, " not found"));
                return Json(200,
                            CheckpointsJson(master->CheckpointStatistics(),
                                            absl::StrCat(master->checkpointing().dir, "/", id)));
              });
  http.Handle(HttpServer::Method::kGet, "/jobs/([^/]+)/checkpoints/config",
              [&dispatcher](const HttpRequest& request) {
                const std::string& id = request.path_params.at(0);
                auto master = dispatcher.Find(id);
                if (!master) return Error(404, absl::StrCat("Job ", id, " not found"));
                if (!master->checkpointing().enabled()) {
                  return Error(404, absl::StrCat("Checkpointing is not enabled for job ", id));
                }
                return Json(200, CheckpointConfigJson(master->checkpointing()));
              });
  http.Handle(HttpServer::Method::kPost, "/jobs/([^/]+)/savepoints",
              [&dispatcher](const HttpRequest& request) {
                return TriggerSavepoint(dispatcher, request.path_params.at(0), request, false);
              });
  http.Handle(HttpServer::Method::kPost, "/jobs/([^/]+)/stop",
              [&dispatcher](const HttpRequest& request) {
                return TriggerSavepoint(dispatcher, request.path_params.at(0), request, true);
              });
  http.Handle(HttpServer::Method::kGet, "/jobs/([^/]+)/savepoints/([^/]+)",
              [&dispatcher](const HttpRequest& request) {
                return SavepointStatus(dispatcher, request.path_params.at(0),
                                       request.path_params.at(1));
              });
  http.Handle(HttpServer::Method::kPatch, "/jobs/([^/]+)",
              [&dispatcher](const HttpRequest& request) {
                return CancelJob(dispatcher, request.path_params.at(0), request);
              });
}

}  // namespace sluice
