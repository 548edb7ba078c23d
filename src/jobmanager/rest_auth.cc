#include "jobmanager/rest_auth.h"

#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "jobmanager/rest_response.h"
#include "spdlog/spdlog.h"

namespace sluice {
namespace {

bool IsWebUiFile(const std::string& method, const std::string& path) {
  return method == "GET" &&
         (path == "/" || path == "/index.html" || absl::StartsWith(path, "/web/"));
}

bool IsClusterWide(const std::string& path) {
  for (const char* prefix : {"/taskmanagers", "/jobmanager", "/metrics"}) {
    if (path == prefix || absl::StartsWith(path, absl::StrCat(prefix, "/"))) return true;
  }
  return false;
}

// The job a path is about ("/jobs/<id>" and below), if any.
std::optional<std::string> JobOf(const std::string& path) {
  static const std::regex kJobPath("/jobs/([^/]+)(/.*)?");
  std::smatch match;
  if (!std::regex_match(path, match, kJobPath) || match[1] == "overview") return std::nullopt;
  return match[1].str();
}

HttpResponse Refuse(int status, const std::string& method, const std::string& path,
                    const HttpRequest& request, const std::string& who, const std::string& why) {
  spdlog::warn("REST: refused {} {} from {} ({}): {}", method, path, request.client, who, why);
  HttpResponse response = ErrorResponse(status, why);
  if (status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sluice\"");
  return response;
}

}  // namespace

HttpServer::Guard RestGuard(const ClientAuth* auth, JobTenantLookup job_tenant) {
  return [auth, job_tenant = std::move(job_tenant)](
             const std::string& method, const std::string& path,
             HttpRequest& request) -> std::optional<HttpResponse> {
    if (!auth->enabled() || IsWebUiFile(method, path)) return std::nullopt;
    absl::StatusOr<Principal> principal = auth->Authenticate(request.authorization);
    if (!principal.ok()) {
      return Refuse(401, method, path, request, "unauthenticated",
                    std::string(principal.status().message()));
    }
    const std::string who = principal->Describe();
    if (principal->admin) return std::nullopt;
    if (IsClusterWide(path)) {
      return Refuse(403, method, path, request, who,
                    absl::StrCat(path, " is the administrator's; ", who, " sees only its jobs"));
    }
    if (std::optional<std::string> job = JobOf(path)) {
      std::optional<std::string> tenant = job_tenant(*job);
      if (tenant && !ClientAuth::MayAccess(*principal, *tenant)) {
        return Refuse(403, method, path, request, who,
                      absl::StrCat("job ", *job, " belongs to another tenant"));
      }
    }
    request.tenant = principal->tenant;
    return std::nullopt;
  };
}

}  // namespace sluice
