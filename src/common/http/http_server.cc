#include "common/http/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "prometheus/collectable.h"
#include "prometheus/text_serializer.h"
#include "spdlog/spdlog.h"

namespace sluice {
namespace {

std::string ErrorBody(const std::string& message) {
  // The message may quote the request's path: bytes that are not UTF-8 are
  // replaced, not thrown about (found by tests/fuzz/rest_request_fuzzer).
  return nlohmann::json{{"errors", {message}}}.dump(-1, ' ', false,
                                                    nlohmann::json::error_handler_t::replace);
}

// What arrives of one request before it is complete.
struct PendingRequest {
  std::string body;
  bool refused = false;  // answered already (413): the rest is dropped
};

MHD_Result Send(MHD_Connection* connection, const HttpResponse& response) {
  MHD_Response* reply = MHD_create_response_from_buffer(
      response.body.size(), const_cast<char*>(response.body.data()), MHD_RESPMEM_MUST_COPY);
  if (reply == nullptr) return MHD_NO;
  MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE, response.content_type.c_str());
  for (const auto& [name, value] : response.headers) {
    MHD_add_response_header(reply, name.c_str(), value.c_str());
  }
  const MHD_Result queued =
      MHD_queue_response(connection, static_cast<unsigned>(response.status), reply);
  MHD_destroy_response(reply);
  return queued;
}

MHD_Result CollectQuery(void* out, MHD_ValueKind, const char* key, const char* value) {
  static_cast<HttpRequest*>(out)->query_params.emplace_back(key, value == nullptr ? "" : value);
  return MHD_YES;
}

std::string TooLarge(size_t limit) {
  return ErrorBody(
      absl::StrCat("Request body larger than ", FormatBytes(static_cast<int64_t>(limit))));
}

// "host:port" of the peer of `connection` ("[v6]:port" for IPv6), for logs.
std::string ClientAddress(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == nullptr || info->client_addr == nullptr) return "unknown";
  char host[INET6_ADDRSTRLEN] = {};
  const sockaddr* address = info->client_addr;
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
    return absl::StrCat("[", host, "]:", ntohs(v6->sin6_port));
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
  inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
  return absl::StrCat(host, ":", ntohs(v4->sin_port));
}

// libmicrohttpd calls this once the headers are in, once per piece of the
// body, and once more when the request is complete.
MHD_Result OnRequest(void* cls, MHD_Connection* connection, const char* url, const char* method,
                     const char* /*version*/, const char* upload_data, size_t* upload_data_size,
                     void** state) {
  const auto* server = static_cast<const HttpServer*>(cls);
  const size_t limit = server->limits().max_body_bytes;
  auto* pending = static_cast<PendingRequest*>(*state);
  if (pending == nullptr) {
    *state = pending = new PendingRequest();
    const char* length =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length != nullptr && std::strtoull(length, nullptr, 10) > limit) {
      pending->refused = true;
      return Send(connection, HttpResponse{413, "application/json", TooLarge(limit)});
    }
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    const size_t size = *upload_data_size;
    *upload_data_size = 0;
    if (pending->refused) return MHD_YES;
    if (pending->body.size() + size > limit) {
      // A body without a length (chunked) that outgrew the limit: no answer
      // can be queued mid-body, so the connection is closed.
      spdlog::warn("HTTP {} {}: body larger than {}: connection closed", method, url,
                   FormatBytes(static_cast<int64_t>(limit)));
      return MHD_NO;
    }
    pending->body.append(upload_data, size);
    return MHD_YES;
  }
  if (pending->refused) return MHD_YES;
  HttpRequest request;
  MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &CollectQuery, &request);
  request.client = ClientAddress(connection);
  const char* authorization =
      MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (authorization != nullptr) request.authorization = authorization;
  request.body = std::move(pending->body);
  return Send(connection, server->Answer(method, url, std::move(request)));
}

void OnCompleted(void*, MHD_Connection*, void** state, MHD_RequestTerminationCode) {
  delete static_cast<PendingRequest*>(*state);
  *state = nullptr;
}

// One family per name, as the text format requires, when several
// collectables report the same one (a TaskManager and its job processes):
// samples with the same labels are added up (counters of one thing, such as
// bytes through one data port, counted in several processes).
std::vector<prometheus::MetricFamily> MergeFamilies(std::vector<prometheus::MetricFamily> in) {
  std::vector<prometheus::MetricFamily> out;
  std::map<std::string, size_t> index;
  for (auto& family : in) {
    auto [it, fresh] = index.try_emplace(family.name, out.size());
    if (fresh) {
      out.push_back(std::move(family));
      continue;
    }
    auto& merged = out[it->second].metric;
    for (auto& metric : family.metric) {
      auto same = std::find_if(merged.begin(), merged.end(),
                               [&](const auto& m) { return m.label == metric.label; });
      if (same == merged.end()) {
        merged.push_back(std::move(metric));
      } else {
        same->counter.value += metric.counter.value;
        same->gauge.value += metric.gauge.value;
      }
    }
  }
  return out;
}

const char* MethodName(HttpServer::Method method) {
  switch (method) {
    case HttpServer::Method::kGet:
      return "GET";
    case HttpServer::Method::kPost:
      return "POST";
    case HttpServer::Method::kPatch:
      return "PATCH";
  }
  return "";
}

// The address to bind for `host` (a name, an IPv4 or an IPv6 address).
absl::StatusOr<sockaddr_storage> Resolve(const std::string& host, socklen_t* length) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int error = getaddrinfo(host.c_str(), nullptr, &hints, &found); error != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve HTTP bind host '", host, "': ", gai_strerror(error)));
  }
  sockaddr_storage address{};
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  *length = found->ai_addrlen;
  freeaddrinfo(found);
  return address;
}

void SetPort(sockaddr_storage* address, int port) {
  if (address->ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(address)->sin6_port = htons(static_cast<uint16_t>(port));
  } else {
    reinterpret_cast<sockaddr_in*>(address)->sin_port = htons(static_cast<uint16_t>(port));
  }
}

}  // namespace

HttpServer::HttpServer(HttpLimits limits) : limits_(limits) {}

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

void HttpServer::Handle(Method method, const std::string& pattern, RequestHandler handler) {
  routes_.push_back(Route{method, std::regex(pattern), std::move(handler)});
}

HttpResponse HttpServer::Answer(const std::string& method, const std::string& path,
                                HttpRequest request) const {
  if (guard_) {
    if (std::optional<HttpResponse> refused = guard_(method, path, request)) return *refused;
  }
  for (const Route& route : routes_) {
    std::smatch match;
    if (method != MethodName(route.method) || !std::regex_match(path, match, route.pattern)) {
      continue;
    }
    for (size_t i = 1; i < match.size(); ++i) request.path_params.push_back(match[i]);
    try {
      return route.handler(request);
    } catch (const std::exception& e) {
      spdlog::error("HTTP {} {} failed: {}", method, path, e.what());
      return HttpResponse{500, "application/json", ErrorBody("Internal server error")};
    }
  }
  return HttpResponse{404, "application/json", ErrorBody(absl::StrCat("Not found: ", path))};
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
                        prometheus::TextSerializer().Serialize(MergeFamilies(std::move(families)))};
  });
}

absl::StatusOr<int> HttpServer::Start(const std::string& host, PortRange ports,
                                      std::optional<HttpTls> tls) {
  socklen_t length = 0;
  auto address = Resolve(host, &length);
  if (!address.ok()) return address.status();
  unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
  if (address->ss_family == AF_INET6) flags |= MHD_USE_IPv6;
  tls_ = std::move(tls);
  std::vector<MHD_OptionItem> tls_options;
  if (tls_) {
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
      return absl::UnimplementedError("this libmicrohttpd has no TLS: HTTPS is not available");
    }
    flags |= MHD_USE_TLS;
    tls_options.push_back(
        {MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(tls_->private_key_pem.c_str())});
    tls_options.push_back(
        {MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(tls_->certificate_pem.c_str())});
  }
  tls_options.push_back({MHD_OPTION_END, 0, nullptr});
  const auto idle = static_cast<unsigned>(absl::ToInt64Seconds(limits_.idle_timeout));
  for (int port = ports.first; port <= ports.last && daemon_ == nullptr; ++port) {
    SetPort(&*address, port);
    daemon_ = MHD_start_daemon(
        flags, static_cast<uint16_t>(port), nullptr, nullptr, &OnRequest, this,
        MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&*address), MHD_OPTION_THREAD_POOL_SIZE,
        limits_.threads, MHD_OPTION_CONNECTION_LIMIT, limits_.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, idle, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        limits_.connection_memory, MHD_OPTION_NOTIFY_COMPLETED, &OnCompleted, nullptr,
        MHD_OPTION_ARRAY, tls_options.data(), MHD_OPTION_END);
  }
  if (daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot bind an HTTP", tls_ ? "S" : "", " port in ", ports.first, "-", ports.last, " on ",
        host,
        tls_ ? ": all in use or not permitted, or the TLS certificate and key were refused"
             : ": all in use or not permitted"));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info != nullptr ? info->port : 0;
  return port_;
}

void HttpServer::Stop() {
  if (daemon_ == nullptr) return;
  MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
}

}  // namespace sluice
