#include "jobmanager/cluster_rest.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log_files.h"
#include "common/rpc/proto_json.h"
#include "jobmanager/rest_response.h"

namespace sluice {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

constexpr auto Json = JsonResponse;
constexpr auto Error = ErrorResponse;

// Flink's ResourceProfileInfo.
json ResourceJson(const v1::ResourceProfile& profile) {
  json extended = json::object();
  for (const auto& [name, amount] : profile.extended()) extended[name] = amount;
  return json{{"cpuCores", profile.cpu_cores()},
              {"taskHeapMemory", profile.memory_bytes() / (1024 * 1024)},  // MiB, as Flink
              {"taskOffHeapMemory", 0},
              {"managedMemory", 0},
              {"networkMemory", 0},
              {"extendedResources", std::move(extended)}};
}

// At most the last `kMaxLogBytes` of a log: a browser need not load gigabytes
// (and a TaskManager's answer stays within gRPC's message limit).
constexpr int64_t kMaxLogBytes = 3 << 20;

json LogListJson(const std::vector<LogFile>& files) {
  json logs = json::array();
  for (const LogFile& file : files) {
    logs.push_back({{"name", file.name}, {"size", file.size}, {"mtime", file.modified_ms}});
  }
  return json{{"logs", std::move(logs)}};
}

HttpResponse LogText(const absl::StatusOr<std::string>& text) {
  if (!text.ok()) {
    return Error(text.status().code() == absl::StatusCode::kNotFound ? 404 : 503,
                 std::string(text.status().message()));
  }
  return HttpResponse{200, "text/plain; charset=utf-8", *text};
}

using ClusterAnswer =
    std::function<HttpResponse(const std::function<HttpResponse(const v1::ClusterStatus&)>&)>;

// /taskmanagers/<id>/logs, /logs/<name>, /log and /stdout: asked of the
// TaskManager at the RPC address the ResourceManager knows for `id`.
void ServeTaskManagerLogs(HttpServer& http, std::shared_ptr<ClusterRestOptions> shared,
                          ClusterAnswer cluster) {
  // `answer` with the RPC address of the TaskManager the request names.
  auto at_task_manager = [cluster](const HttpRequest& request,
                                   const std::function<HttpResponse(const std::string&)>& answer) {
    const std::string& id = request.path_params.at(0);
    return cluster([&](const v1::ClusterStatus& status) {
      for (const auto& tm : status.task_managers()) {
        if (tm.id() == id) return answer(tm.rpc_address());
      }
      return Error(404, absl::StrCat("TaskManager ", id, " not found"));
    });
  };
  auto list = [shared](const std::string& address) -> absl::StatusOr<v1::LogList> {
    if (!shared->task_manager_logs) return absl::UnavailableError("TaskManager logs not served");
    auto logs = shared->task_manager_logs(address);
    if (!logs.ok()) {
      return absl::UnavailableError(
          absl::StrCat("TaskManager at ", address, " unavailable: ", logs.status().message()));
    }
    return logs;
  };
  http.Handle(HttpServer::Method::kGet, "/taskmanagers/([^/]+)/logs",
              [at_task_manager, list](const HttpRequest& request) {
                return at_task_manager(request, [&](const std::string& address) {
                  auto logs = list(address);
                  if (!logs.ok()) return Error(503, std::string(logs.status().message()));
                  std::vector<LogFile> files;
                  for (const auto& f : logs->files()) {
                    files.push_back({f.name(), f.size(), f.modified_ms()});
                  }
                  return Json(200, LogListJson(files));
                });
              });
  auto serve = [shared](const std::string& address, const std::string& name) {
    if (!shared->task_manager_log) return Error(503, "TaskManager logs not served");
    return LogText(shared->task_manager_log(address, name, kMaxLogBytes));
  };
  http.Handle(HttpServer::Method::kGet, "/taskmanagers/([^/]+)/logs/(.+)",
              [at_task_manager, serve](const HttpRequest& request) {
                return at_task_manager(request, [&](const std::string& address) {
                  return serve(address, request.path_params.at(1));
                });
              });
  // Flink's /log and /stdout: the current files.
  for (const bool out : {false, true}) {
    http.Handle(HttpServer::Method::kGet,
                absl::StrCat("/taskmanagers/([^/]+)/", out ? "stdout" : "log"),
                [at_task_manager, list, serve, out](const HttpRequest& request) {
                  return at_task_manager(request, [&](const std::string& address) {
                    auto logs = list(address);
                    if (!logs.ok()) return Error(503, std::string(logs.status().message()));
                    const std::string& name = out ? logs->stdout() : logs->log();
                    if (name.empty()) {
                      return Error(404, absl::StrCat("The TaskManager's ", out ? "stdout" : "log",
                                                     " is not a file"));
                    }
                    return serve(address, name);
                  });
                });
  }
}

HttpResponse JobManagerConfig(const Config& config) {
  json entries = json::array();
  for (const auto& key : config.Keys()) {
    entries.push_back(
        {{"key", key}, {"value", IsSensitiveKey(key) ? "******" : config.Format(key)}});
  }
  return Json(200, entries);
}

}  // namespace

bool IsSensitiveKey(const std::string& key) {
  const std::string lower = absl::AsciiStrToLower(key);
  for (const char* word : {"password", "secret", "token", "apikey", "api-key", "auth-params"}) {
    if (absl::StrContains(lower, word)) return true;
  }
  return false;
}

json TaskManagerJson(const v1::TaskManagerStatus& tm) {
  const int64_t heard = absl::ToUnixMillis(absl::Now()) -
                        static_cast<int64_t>(tm.last_heartbeat_age_seconds() * 1000);
  json slots = json::array();
  for (const auto& slot : tm.slots()) {
    slots.push_back({{"index", slot.index()},
                     {"jobId", slot.job_id().empty() ? json(nullptr) : json(slot.job_id())},
                     {"allocationId", slot.allocation_id()},
                     {"resource", ResourceJson(slot.profile())}});
  }
  return json{{"id", tm.id()},
              {"path", tm.rpc_address()},
              {"dataPort", tm.data_port()},
              {"jmxPort", -1},
              {"timeSinceLastHeartbeat", heard},  // Flink: the last heartbeat's time, in ms
              {"slotsNumber", tm.slots_total()},
              {"freeSlots", tm.slots_free()},
              {"totalResource", ResourceJson(tm.total_resources())},
              {"freeResource", ResourceJson(tm.free_resources())},
              {"hardware",
               {{"cpuCores", tm.total_resources().cpu_cores()},
                {"physicalMemory", tm.total_resources().memory_bytes()},
                {"freeMemory", tm.free_resources().memory_bytes()},
                {"managedMemory", 0}}},
              {"memoryConfiguration", json::object()},
              // Sluice's own.
              {"hostname", tm.hostname()},
              {"tenant", tm.tenant()},
              {"heartbeatAgeSeconds", tm.last_heartbeat_age_seconds()},
              {"cpuSeconds", tm.usage().cpu_seconds()},
              {"residentMemoryBytes", tm.usage().resident_memory_bytes()},
              {"slots", std::move(slots)}};
}

void ServeClusterRoutes(HttpServer& http, ClusterRestOptions options) {
  auto shared = std::make_shared<ClusterRestOptions>(std::move(options));
  http.HandleGet("/config", [shared] {
    return Json(200, json{{"refresh-interval", 3000},
                          {"timezone-name", "UTC"},
                          {"timezone-offset", 0},
                          {"flink-version", SLUICE_VERSION},
                          {"flink-revision", "sluice"},
                          {"features",
                           {{"web-submit", false},
                            {"web-cancel", true},
                            {"web-rescale", false},
                            {"web-history", false}}},
                          // Sluice's own: where `sluice -m <this REST address>` connects.
                          {"jobmanager-rpc-address", shared->rpc_address}});
  });
  http.HandleGet("/jobmanager/config", [shared] { return JobManagerConfig(*shared->config); });
  const LogLocation logs{shared->log_dir, ""};
  http.HandleGet("/jobmanager/logs", [logs] { return Json(200, LogListJson(ListLogFiles(logs))); });
  http.Handle(HttpServer::Method::kGet, "/jobmanager/logs/(.+)",
              [logs](const HttpRequest& request) {
                return LogText(ReadLogTail(logs, request.path_params.at(0), kMaxLogBytes));
              });
  ClusterAnswer cluster = [shared](
                              const std::function<HttpResponse(const v1::ClusterStatus&)>& answer) {
    auto status = shared->cluster_status();
    if (!status.ok()) {
      return Error(503, absl::StrCat("ResourceManager unavailable: ", status.status().message()));
    }
    return answer(*status);
  };
  http.HandleGet("/taskmanagers", [cluster] {
    return cluster([](const v1::ClusterStatus& status) {
      json tms = json::array();
      for (const auto& tm : status.task_managers()) tms.push_back(TaskManagerJson(tm));
      json sluice = json::parse(ToJson(status));
      sluice.erase("task_managers");
      return Json(200, json{{"taskmanagers", std::move(tms)}, {"sluice", std::move(sluice)}});
    });
  });
  ServeTaskManagerLogs(http, shared, cluster);
  http.Handle(HttpServer::Method::kGet, "/taskmanagers/([^/]+)",
              [cluster](const HttpRequest& request) {
                const std::string& id = request.path_params.at(0);
                return cluster([&](const v1::ClusterStatus& status) {
                  for (const auto& tm : status.task_managers()) {
                    if (tm.id() == id) return Json(200, TaskManagerJson(tm));
                  }
                  return Error(404, absl::StrCat("TaskManager ", id, " not found"));
                });
              });
}

}  // namespace sluice
