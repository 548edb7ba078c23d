#include "jobmanager/client_auth.h"

#include <openssl/crypto.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace sluice {
namespace {

constexpr absl::string_view kDefaultTenant = "default";

// Compares in time independent of where they differ.
bool SameToken(const std::string& a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::string_view TenantName(absl::string_view tenant) {
  return tenant.empty() ? kDefaultTenant : tenant;
}

}  // namespace

std::string Principal::Describe() const {
  return admin ? "the administrator" : absl::StrCat("tenant '", tenant, "'");
}

ClientAuth ClientAuth::FromConfig(const Config& config) {
  ClientAuth auth;
  auth.admin_token_ = config.GetString("security.admin-token");
  constexpr absl::string_view kPrefix = "resourcemanager.tenant.";
  for (const std::string& key : config.Keys()) {
    absl::string_view rest = key;
    if (!absl::ConsumePrefix(&rest, kPrefix) || !absl::ConsumeSuffix(&rest, ".token")) continue;
    const std::string& token = config.GetString(key);
    if (!token.empty()) auth.tenant_by_token_[token] = std::string(rest);
  }
  return auth;
}

absl::StatusOr<Principal> ClientAuth::Authenticate(absl::string_view authorization) const {
  if (!enabled()) return Principal{true, ""};
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "this cluster needs a token: send 'Authorization: Bearer <token>' (the CLI: --token or "
        "SLUICE_TOKEN)");
  }
  absl::string_view token = authorization;
  if (!absl::ConsumePrefix(&token, "Bearer ") && !absl::ConsumePrefix(&token, "bearer ")) {
    return absl::UnauthenticatedError("the Authorization header is not 'Bearer <token>'");
  }
  if (SameToken(admin_token_, token)) return Principal{true, ""};
  for (const auto& [tenant_token, tenant] : tenant_by_token_) {
    if (SameToken(tenant_token, token)) return Principal{false, tenant};
  }
  return absl::UnauthenticatedError("the token is neither the administrator's nor a tenant's");
}

bool ClientAuth::MayAccess(const Principal& principal, absl::string_view job_tenant) {
  return principal.admin || TenantName(job_tenant) == principal.tenant;
}

absl::StatusOr<std::string> ClientAuth::SubmittingTenant(const Principal& principal,
                                                         absl::string_view submission_tenant) {
  if (principal.admin || submission_tenant.empty()) {
    return std::string(principal.admin ? submission_tenant : principal.tenant);
  }
  if (TenantName(submission_tenant) != principal.tenant) {
    return absl::PermissionDeniedError(
        absl::StrCat(principal.Describe(), " may not submit for tenant '", submission_tenant, "'"));
  }
  return std::string(submission_tenant);
}

}  // namespace sluice
