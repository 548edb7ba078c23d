// Who a client of the JobManager is (REST, web UI, CLI over gRPC) and what it
// may see: with security.admin-token set, every request presents a bearer
// token, the administrator's or a tenant's (resourcemanager.tenant.<name>.
// token). The administrator sees and controls everything; a tenant only its
// own jobs. Without an admin token nothing is checked (a loopback-only
// cluster, the default).
#ifndef SLUICE_JOBMANAGER_CLIENT_AUTH_H_
#define SLUICE_JOBMANAGER_CLIENT_AUTH_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/config/config.h"

namespace sluice {

struct Principal {
  bool admin = false;
  std::string tenant;  // when not admin
  std::string Describe() const;
};

class ClientAuth {
 public:
  ClientAuth() = default;  // disabled
  static ClientAuth FromConfig(const Config& config);

  bool enabled() const { return !admin_token_.empty(); }
  // `authorization` is the header's value ("Bearer <token>"). UNAUTHENTICATED
  // naming what is wrong, never echoing the token.
  absl::StatusOr<Principal> Authenticate(absl::string_view authorization) const;
  // Whether `principal` may see and control a job of `job_tenant` ("" is
  // the tenant "default").
  static bool MayAccess(const Principal& principal, absl::string_view job_tenant);
  // The tenant `principal` submits for: the submission's, which must be its
  // own (PERMISSION_DENIED otherwise), or its own if the submission names none.
  static absl::StatusOr<std::string> SubmittingTenant(const Principal& principal,
                                                      absl::string_view submission_tenant);

 private:
  std::string admin_token_;
  std::map<std::string, std::string> tenant_by_token_;
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_CLIENT_AUTH_H_
