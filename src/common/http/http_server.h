// The HTTP server every daemon runs: /metrics for Prometheus, and on the
// JobManager the REST API. Built on cpp-httplib (a well-kept, dependency-light
// server from Debian) rather than on prometheus-cpp's civetweb Exposer, so the
// same server can carry JSON endpoints and the web UI later.
#ifndef SLUICE_COMMON_HTTP_HTTP_SERVER_H_
#define SLUICE_COMMON_HTTP_HTTP_SERVER_H_

#include <httplib.h>

#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/value_parsers.h"

namespace prometheus {
class Collectable;
}

namespace sluice {

struct HttpRequest {
  std::vector<std::string> path_params;  // the pattern's capture groups
  std::string query(const std::string& key) const;
  std::vector<std::pair<std::string, std::string>> query_params;
  std::string body;  // of a POST or PATCH
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse()>;

  HttpServer();
  ~HttpServer();  // Stop()s.

  using RequestHandler = std::function<HttpResponse(const HttpRequest&)>;

  // Serves GET `path`. Call before Start().
  void HandleGet(const std::string& path, Handler handler);
  enum class Method { kGet, kPost, kPatch };
  // Serves `method` on paths matching the regular expression `pattern`; its
  // groups become path_params. Call before Start().
  void Handle(Method method, const std::string& pattern, RequestHandler handler);
  // Serves the Prometheus text format of `collectables` at /metrics.
  void ServeMetrics(std::vector<std::weak_ptr<prometheus::Collectable>> collectables);

  // Binds the first free port of `ports` on `host` (port 0: any free port) and
  // serves in a background thread. Returns the bound port.
  absl::StatusOr<int> Start(const std::string& host, PortRange ports);
  void Stop();
  int port() const { return port_; }

 private:
  struct BodilessRoute {
    std::string method;
    std::regex pattern;
    RequestHandler handler;
  };
  // Answers a POST or PATCH without a body (and no Content-Length) itself.
  httplib::Server::HandlerResponse RouteBodiless(const httplib::Request& req,
                                                 httplib::Response& res) const;

  std::vector<BodilessRoute> bodiless_routes_;  // the POST and PATCH routes
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_HTTP_HTTP_SERVER_H_
