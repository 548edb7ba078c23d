#include "common/http/http_server.h"

#include <httplib.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "prometheus/collectable.h"
#include "prometheus/text_serializer.h"

namespace sluice {

HttpServer::HttpServer() : server_(std::make_unique<httplib::Server>()) {
  // httplib's default adds SO_REUSEPORT, which would let two daemons on one
  // host share a metrics port; a port range must yield distinct ports.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // Every error is JSON, as Flink's: unknown routes and methods too.
  httplib::Server::HandlerWithResponse json_errors = [](const httplib::Request& req,
                                                        httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string message =
        res.status == 404 ? absl::StrCat("Not found: ", req.path)
                          : absl::StrCat("HTTP ", res.status, ": ", req.method, " ", req.path);
    res.set_content(nlohmann::json{{"errors", {message}}}.dump(), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  };
  server_->set_error_handler(std::move(json_errors));
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    return RouteBodiless(req, res);
  });
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
        std::string what = "unknown error";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(nlohmann::json{{"errors", {"Internal server error: " + what}}}.dump(),
                        "application/json");
      });
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::HandleGet(const std::string& path, Handler handler) {
  // An exact path is a pattern that matches only itself (paths here carry no
  // regex metacharacters).
  Handle(Method::kGet, path,
         [handler = std::move(handler)](const HttpRequest&) { return handler(); });
}

std::string HttpRequest::query(const std::string& key) const {
  for (const auto& [name, value] : query_params) {
    if (name == key) return value;
  }
  return "";
}

namespace {

void Answer(const HttpServer::RequestHandler& handler, std::vector<std::string> path_params,
            const httplib::Request& req, httplib::Response& res) {
  HttpRequest request;
  request.path_params = std::move(path_params);
  for (const auto& [name, value] : req.params) request.query_params.emplace_back(name, value);
  request.body = req.body;
  HttpResponse response = handler(request);
  res.status = response.status;
  res.set_content(response.body, response.content_type.c_str());
}

// A POST or PATCH as `curl -X PATCH <url>` sends it: no body, and no
// Content-Length saying so. httplib would wait for a body until its read
// timeout and answer 400.
bool BodilessWrite(const httplib::Request& req) {
  return (req.method == "POST" || req.method == "PATCH") && !req.has_header("Content-Length") &&
         req.get_header_value("Transfer-Encoding").find("chunked") == std::string::npos;
}

}  // namespace

void HttpServer::Handle(Method method, const std::string& pattern, RequestHandler handler) {
  if (method != Method::kGet) {
    bodiless_routes_.push_back(
        {method == Method::kPost ? "POST" : "PATCH", std::regex(pattern), handler});
  }
  auto serve = [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    std::vector<std::string> params;
    for (size_t i = 1; i < req.matches.size(); ++i) params.push_back(req.matches[i]);
    Answer(handler, std::move(params), req, res);
  };
  switch (method) {
    case Method::kGet:
      server_->Get(pattern, std::move(serve));
      return;
    case Method::kPost:
      server_->Post(pattern, std::move(serve));
      return;
    case Method::kPatch:
      server_->Patch(pattern, std::move(serve));
      return;
  }
}

httplib::Server::HandlerResponse HttpServer::RouteBodiless(const httplib::Request& req,
                                                           httplib::Response& res) const {
  if (!BodilessWrite(req)) return httplib::Server::HandlerResponse::Unhandled;
  for (const BodilessRoute& route : bodiless_routes_) {
    std::smatch match;
    if (route.method != req.method || !std::regex_match(req.path, match, route.pattern)) continue;
    std::vector<std::string> params;
    for (size_t i = 1; i < match.size(); ++i) params.push_back(match[i]);
    Answer(route.handler, std::move(params), req, res);
    return httplib::Server::HandlerResponse::Handled;
  }
  res.status = 404;
  res.set_content(nlohmann::json{{"errors", {"Not found: " + req.path}}}.dump(),
                  "application/json");
  return httplib::Server::HandlerResponse::Handled;
}

void HttpServer::ServeMetrics(std::vector<std::weak_ptr<prometheus::Collectable>> collectables) {
  HandleGet("/metrics", [collectables = std::move(collectables)] {
    std::vector<prometheus::MetricFamily> families;
    for (const auto& weak : collectables) {
      if (auto collectable = weak.lock()) {
        auto collected = collectable->Collect();
        families.insert(families.end(), std::make_move_iterator(collected.begin()),
                        std::make_move_iterator(collected.end()));
      }
    }
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                        prometheus::TextSerializer().Serialize(families)};
  });
}

absl::StatusOr<int> HttpServer::Start(const std::string& host, PortRange ports) {
  int bound = -1;
  if (ports.first == 0) {
    bound = server_->bind_to_any_port(host.c_str());
  } else {
    for (int port = ports.first; port <= ports.last && bound < 0; ++port) {
      if (server_->bind_to_port(host.c_str(), port)) bound = port;
    }
  }
  if (bound <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot bind an HTTP port in ", ports.first, "-",
                                               ports.last, " on ", host,
                                               ": all in use or not permitted"));
  }
  port_ = bound;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return bound;
}

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace sluice
