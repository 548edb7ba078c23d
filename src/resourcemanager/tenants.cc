#include "resourcemanager/tenants.h"

#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config/value_parsers.h"

namespace sluice {

bool TenantQuota::Allows(int slots, const ResourceProfile& held) const {
  return slots <= max_slots && held.cpu_cores <= max_cpu + 1e-9 &&
         held.memory_bytes <= max_memory_bytes;
}

bool TenantQuota::IsLimited() const {
  return max_slots != std::numeric_limits<int>::max() ||
         max_cpu != std::numeric_limits<double>::infinity() ||
         max_memory_bytes != std::numeric_limits<int64_t>::max();
}

std::string TenantQuota::Describe() const {
  std::vector<std::string> parts;
  if (max_slots != std::numeric_limits<int>::max())
    parts.push_back(absl::StrCat(max_slots, " slots"));
  if (max_cpu != std::numeric_limits<double>::infinity())
    parts.push_back(absl::StrCat(max_cpu, " cpu"));
  if (max_memory_bytes != std::numeric_limits<int64_t>::max()) {
    parts.push_back(absl::StrCat(FormatBytes(max_memory_bytes), " memory"));
  }
  return parts.empty() ? "unlimited" : absl::StrJoin(parts, ", ");
}

Tenants::Tenants() { Add(Tenant{kDefaultTenant, 1.0, {}, ""}); }

void Tenants::Add(Tenant tenant) {
  std::string name = tenant.name;
  tenants_[name] = std::move(tenant);
}

absl::StatusOr<Tenants> Tenants::FromConfig(const Config& config) {
  constexpr absl::string_view kPrefix = "resourcemanager.tenant.";
  std::set<std::string> names;
  for (const std::string& key : config.Keys()) {
    if (!absl::StartsWith(key, kPrefix)) continue;
    std::string rest = key.substr(kPrefix.size());
    names.insert(rest.substr(0, rest.find('.')));
  }
  Tenants tenants;
  for (const auto& name : names) {
    auto key = [&](absl::string_view field) { return absl::StrCat(kPrefix, name, ".", field); };
    Tenant tenant{name, 1.0, {}, ""};
    if (config.Has(key("weight"))) tenant.weight = config.GetDouble(key("weight"));
    if (config.Has(key("token"))) tenant.token = config.GetString(key("token"));
    if (config.Has(key("max-slots"))) {
      tenant.quota.max_slots = static_cast<int>(config.GetInt(key("max-slots")));
    }
    if (config.Has(key("max-cpu"))) tenant.quota.max_cpu = config.GetDouble(key("max-cpu"));
    if (config.Has(key("max-memory"))) {
      tenant.quota.max_memory_bytes = config.GetMemoryBytes(key("max-memory"));
    }
    tenants.Add(std::move(tenant));
  }
  return tenants;
}

absl::StatusOr<const Tenant*> Tenants::Authorize(const std::string& name,
                                                 const std::string& token) const {
  const std::string& effective = name.empty() ? std::string(kDefaultTenant) : name;
  const Tenant* tenant = Find(effective);
  if (tenant == nullptr) {
    std::vector<std::string> known;
    for (const auto& [n, t] : tenants_) known.push_back(n);
    return absl::NotFoundError(absl::StrCat("unknown tenant '", effective,
                                            "'; configured tenants: ", absl::StrJoin(known, ", ")));
  }
  if (!tenant->token.empty() && tenant->token != token) {
    return absl::PermissionDeniedError(
        absl::StrCat("wrong or missing token for tenant '", effective, "'"));
  }
  return tenant;
}

const Tenant* Tenants::Find(const std::string& name) const {
  auto it = tenants_.find(name);
  return it == tenants_.end() ? nullptr : &it->second;
}

}  // namespace sluice
