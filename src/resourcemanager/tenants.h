// Tenants share the cluster: each has a weight (for fair sharing), an optional
// quota (max slots / cpu / memory held at once) and an optional access token.
// Defined in the config as resourcemanager.tenant.<name>.*; the tenant
// "default" always exists (weight 1, no quota, no token) unless configured.
#ifndef SLUICE_RESOURCEMANAGER_TENANTS_H_
#define SLUICE_RESOURCEMANAGER_TENANTS_H_

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/resource_profile.h"

namespace sluice {

inline constexpr char kDefaultTenant[] = "default";

struct TenantQuota {
  int max_slots = std::numeric_limits<int>::max();
  double max_cpu = std::numeric_limits<double>::infinity();
  int64_t max_memory_bytes = std::numeric_limits<int64_t>::max();

  // Whether holding `slots` slots with `held` resources stays within the quota.
  bool Allows(int slots, const ResourceProfile& held) const;
  bool IsLimited() const;
  std::string Describe() const;
};

struct Tenant {
  std::string name;
  double weight = 1.0;
  TenantQuota quota;
  std::string token;  // empty: no token required
};

class Tenants {
 public:
  Tenants();  // only "default"
  static absl::StatusOr<Tenants> FromConfig(const Config& config);
  void Add(Tenant tenant);

  // The tenant a request may act for: NOT_FOUND for an unknown name,
  // PERMISSION_DENIED for a wrong token. An empty name means "default".
  absl::StatusOr<const Tenant*> Authorize(const std::string& name, const std::string& token) const;
  const Tenant* Find(const std::string& name) const;
  const std::map<std::string, Tenant>& all() const { return tenants_; }

 private:
  std::map<std::string, Tenant> tenants_;
};

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_TENANTS_H_
