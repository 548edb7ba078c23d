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

// The regular files of `dir`, by name.
std::vector<fs::directory_entry> LogFiles(const std::string& dir) {
  std::vector<fs::directory_entry> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.is_regular_file(error)) files.push_back(entry);
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  return files;
}

HttpResponse ListLogs(const std::string& dir) {
  json logs = json::array();
  if (!dir.empty()) {
    for (const auto& file : LogFiles(dir)) {
      std::error_code error;
      const auto size = fs::file_size(file.path(), error);
      logs.push_back({{"name", file.path().filename().string()},
                      {"size", error ? 0 : static_cast<int64_t>(size)}});
    }
  }
  return Json(200, json{{"logs", std::move(logs)}});
}

// At most the last `kMaxBytes` of a log: a browser need not load gigabytes.
constexpr std::streamoff kMaxBytes = 4 << 20;

HttpResponse ServeLog(const std::string& dir, const std::string& name) {
  const std::string not_found = absl::StrCat("No log file named '", name, "'");
  if (dir.empty()) return Error(404, not_found);
  for (const auto& file : LogFiles(dir)) {
    if (file.path().filename().string() != name) continue;
    std::ifstream in(file.path(), std::ios::binary);
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    in.seekg(std::max<std::streamoff>(0, size - kMaxBytes));
    std::ostringstream text;
    text << in.rdbuf();
    return HttpResponse{200, "text/plain; charset=utf-8", text.str()};
  }
  return Error(404, not_found);
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
  http.HandleGet("/jobmanager/logs", [shared] { return ListLogs(shared->log_dir); });
  http.Handle(HttpServer::Method::kGet, "/jobmanager/logs/(.+)",
              [shared](const HttpRequest& request) {
                return ServeLog(shared->log_dir, request.path_params.at(0));
              });
  auto cluster = [shared](const std::function<HttpResponse(const v1::ClusterStatus&)>& answer) {
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
