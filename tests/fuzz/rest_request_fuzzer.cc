// REST requests as the JobManager's HTTP server routes them: any method,
// path (encoded or not: traversal attempts included), query and body get an
// answer with a status and a JSON error where it fails, never a crash, and
// the log endpoints never serve a file outside their log directory.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/config/config.h"
#include "common/http/http_server.h"
#include "jobmanager/cluster_rest.h"
#include "jobmanager/web_ui.h"
#include "spdlog/spdlog.h"

namespace {

const char kSecret[] = "the secret outside the log directory";

sluice::HttpServer& Server() {
  static sluice::HttpServer* server = [] {
    spdlog::set_level(spdlog::level::off);
    static const std::string root = [] {
      char pattern[] = "/tmp/sluice-rest-fuzz-XXXXXX";
      std::string dir = mkdtemp(pattern);
      std::filesystem::create_directories(dir + "/log");
      std::ofstream(dir + "/log/sluice-jobmanager-0-host.log") << "a log line\n";
      std::ofstream(dir + "/secret.txt") << kSecret;
      return dir;
    }();
    static sluice::Config config =
        sluice::Config::FromYaml(
            "jobmanager.rpc.address: 127.0.0.1\nresourcemanager.rpc.address: 127.0.0.1\n",
            "fuzz.yaml", {})
            .value();
    auto* http = new sluice::HttpServer();
    sluice::ClusterRestOptions options;
    options.config = &config;
    options.log_dir = root + "/log";
    options.rpc_address = "127.0.0.1:1";
    options.cluster_status = [] {
      return absl::StatusOr<sluice::v1::ClusterStatus>(sluice::v1::ClusterStatus());
    };
    sluice::ServeClusterRoutes(*http, options);
    sluice::ServeWebUi(*http);
    return http;
  }();
  return *server;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // method '\n' path '\n' body
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t first = input.find('\n');
  const size_t second = first == std::string::npos ? first : input.find('\n', first + 1);
  const std::string method = input.substr(0, first);
  const std::string path =
      first == std::string::npos ? "/" : input.substr(first + 1, second - first - 1);
  sluice::HttpRequest request;
  if (second != std::string::npos) request.body = input.substr(second + 1);
  const size_t query = path.find('?');
  if (query != std::string::npos) request.query_params.emplace_back("q", path.substr(query + 1));
  sluice::HttpResponse response = Server().Answer(method, path.substr(0, query), request);
  if (response.status < 100 || response.status > 599) __builtin_trap();
  // Traversal: the secret file served. (An error may quote the path it was
  // asked for, secret words and all.)
  if (response.status < 400 && response.body.find(kSecret) != std::string::npos) __builtin_trap();
  return 0;
}
