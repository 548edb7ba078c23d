// The HTTP server every daemon runs: /metrics for Prometheus, and on the
// JobManager the REST API and the web UI. Built on GNU libmicrohttpd (from
// Debian): its event loop holds a connection without holding a thread, so
// idle or slow clients (hundreds of idle connections, slowloris trickling
// headers) cost only a connection slot and a bounded buffer, and the rest
// are still served. Every limit is explicit: connections, inactivity,
// header memory and body size.
#ifndef SLUICE_COMMON_HTTP_HTTP_SERVER_H_
#define SLUICE_COMMON_HTTP_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/config/value_parsers.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace prometheus {
class Collectable;
}

namespace sluice {

struct HttpRequest {
  std::vector<std::string> path_params;  // the pattern's capture groups
  std::string query(const std::string& key) const;
  std::vector<std::pair<std::string, std::string>> query_params;
  std::string body;           // of a POST or PATCH
  std::string client;         // the peer's "host:port", for logs
  std::string authorization;  // the Authorization header
  // Set by the guard: only this tenant's jobs are listed.
  std::optional<std::string> tenant;
};

struct HttpResponse {
  explicit HttpResponse(int status = 200, std::string content_type = "application/json",
                        std::string body = "")
      : status(status), content_type(std::move(content_type)), body(std::move(body)) {}
  int status;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type
};

// HTTPS instead of HTTP: the server's certificate (chain) and private key,
// PEM.
struct HttpTls {
  std::string certificate_pem;
  std::string private_key_pem;
};

struct HttpLimits {
  size_t max_body_bytes = 1 << 20;                  // larger: 413, or the connection is closed
  unsigned max_connections = 1000;                  // beyond: new ones wait in the backlog
  absl::Duration idle_timeout = absl::Seconds(10);  // a connection silent this long is closed
  size_t connection_memory = 64 << 10;              // request line and headers, per connection
  unsigned threads = 4;                             // handlers run on these
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse()>;
  using RequestHandler = std::function<HttpResponse(const HttpRequest&)>;

  explicit HttpServer(HttpLimits limits = {});
  ~HttpServer();  // Stop()s.

  // Serves GET `path`. Call before Start().
  void HandleGet(const std::string& path, Handler handler);
  enum class Method { kGet, kPost, kPatch };
  // Serves `method` on paths matching the regular expression `pattern`; its
  // groups become path_params. Call before Start().
  void Handle(Method method, const std::string& pattern, RequestHandler handler);
  // Runs before every route: a response refuses the request; it may narrow
  // the request (HttpRequest::tenant). Call before Start().
  using Guard = std::function<std::optional<HttpResponse>(const std::string& method,
                                                          const std::string& path, HttpRequest&)>;
  void SetGuard(Guard guard) { guard_ = std::move(guard); }
  // Serves the Prometheus text format of `collectables` at /metrics.
  void ServeMetrics(std::vector<std::weak_ptr<prometheus::Collectable>> collectables);

  // Binds the first free port of `ports` on `host` (port 0: any free port) and
  // serves in background threads. Returns the bound port.
  absl::StatusOr<int> Start(const std::string& host, PortRange ports,
                            std::optional<HttpTls> tls = std::nullopt);
  void Stop();
  int port() const { return port_; }

  // The answer to one complete request; public for the request callback.
  HttpResponse Answer(const std::string& method, const std::string& path,
                      HttpRequest request) const;
  const HttpLimits& limits() const { return limits_; }

 private:
  struct Route {
    Method method;
    std::regex pattern;
    RequestHandler handler;
  };

  const HttpLimits limits_;
  std::vector<Route> routes_;
  Guard guard_;
  std::optional<HttpTls> tls_;  // kept while serving: libmicrohttpd reads it
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_HTTP_HTTP_SERVER_H_
