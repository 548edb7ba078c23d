#include "resourcemanager/cluster_overview.h"

namespace sluice {
namespace {

ResourceUtilization Utilization(std::string resource, double capacity, double used) {
  double percent = capacity > 0 ? used / capacity * 100.0 : 0.0;
  return ResourceUtilization{std::move(resource), capacity, used, percent};
}

}  // namespace

std::vector<ResourceUtilization> ComputeUtilization(const ClusterTotals& totals) {
  std::vector<ResourceUtilization> out;
  out.push_back(Utilization("slots", totals.slots_total, totals.slots_total - totals.slots_free));
  const auto capacity = NamedAmounts(totals.capacity);
  const auto used = NamedAmounts(totals.used);
  for (const auto& [name, amount] : capacity) {
    if (name == "network" && amount <= 0) continue;
    double in_use = 0;
    for (const auto& [used_name, used_amount] : used) {
      if (used_name == name) in_use = used_amount;
    }
    out.push_back(Utilization(name, amount, in_use));
  }
  return out;
}

}  // namespace sluice
