#include "jobmanager/job_rest.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "jobmanager/checkpoint_rest.h"
#include "jobmanager/job_history.h"

namespace sluice {
namespace {

using json = nlohmann::ordered_json;

HttpResponse Json(int status, const json& body) {
  return HttpResponse{status, "application/json", body.dump()};
}

HttpResponse Error(int status, const std::string& message) {
  return Json(status, json{{"errors", json::array({message})}});
}

HttpResponse JobDetails(Dispatcher& dispatcher, const std::string& id) {
  auto master = dispatcher.Find(id);
  if (!master) return Error(404, absl::StrCat("Job ", id, " not found"));
  v1::JobStatus status = master->Status();
  json job = JobOverviewJson(status);
  job["now"] = absl::ToUnixMillis(absl::Now());
  job["parallelism"] = status.parallelism();
  job["tenant"] = status.tenant();
  job["root-exception"] = status.error().empty() ? json(nullptr) : json(status.error());
  json vertices = json::array();
  for (const auto& vertex : master->graph().vertices) {
    vertices.push_back(
        {{"id", vertex.id}, {"name", vertex.name}, {"parallelism", vertex.parallelism}});
  }
  job["vertices"] = std::move(vertices);
  return Json(200, job);
}

HttpResponse CancelJob(Dispatcher& dispatcher, const std::string& id, const HttpRequest& request) {
  const std::string mode = request.query("mode");
  if (!mode.empty() && mode != "cancel") {
    return Error(400, absl::StrCat("mode '", mode, "' is not supported; use mode=cancel"));
  }
  // Flink answers 202 Accepted at once; the job's state shows the outcome.
  if (!dispatcher.Find(id)) return Error(404, absl::StrCat("Job ", id, " not found"));
  dispatcher.Cancel(id, [](const absl::StatusOr<v1::JobStatus>&) {});
  return Json(202, json::object());
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
              {"tasks", {{"total", job.total_tasks()}, {"running", job.running_tasks()}}}};
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
  http.Handle(HttpServer::Method::kGet, "/jobs", [&dispatcher](const HttpRequest&) {
    json jobs = json::array();
    for (const auto& job : dispatcher.List()) {
      jobs.push_back({{"id", job.job_id()}, {"status", job.state()}});
    }
    return Json(200, json{{"jobs", jobs}});
  });
  http.Handle(HttpServer::Method::kGet, "/jobs/overview", [&dispatcher](const HttpRequest&) {
    json jobs = json::array();
    for (const auto& job : dispatcher.List()) jobs.push_back(JobOverviewJson(job));
    return Json(200, json{{"jobs", jobs}});
  });
  http.Handle(HttpServer::Method::kGet, "/jobs/([^/]+)", [&dispatcher](const HttpRequest& request) {
    return JobDetails(dispatcher, request.path_params.at(0));
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
  http.Handle(HttpServer::Method::kPatch, "/jobs/([^/]+)",
              [&dispatcher](const HttpRequest& request) {
                return CancelJob(dispatcher, request.path_params.at(0), request);
              });
}

}  // namespace sluice
