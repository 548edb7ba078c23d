#include "common/resource_profile.h"

#include <utility>

namespace sluice {

ResourceProfile& ResourceProfile::operator+=(const ResourceProfile& other) {
  cpu_cores += other.cpu_cores;
  memory_bytes += other.memory_bytes;
  network_bytes_per_second += other.network_bytes_per_second;
  for (const auto& [name, amount] : other.extended) extended[name] += amount;
  return *this;
}

ResourceProfile& ResourceProfile::operator-=(const ResourceProfile& other) {
  cpu_cores -= other.cpu_cores;
  memory_bytes -= other.memory_bytes;
  network_bytes_per_second -= other.network_bytes_per_second;
  for (const auto& [name, amount] : other.extended) extended[name] -= amount;
  return *this;
}

ResourceProfile ResourceProfile::Share(int parts) const {
  ResourceProfile share;
  if (parts <= 0) return share;
  share.cpu_cores = cpu_cores / parts;
  share.memory_bytes = memory_bytes / parts;
  share.network_bytes_per_second = network_bytes_per_second / parts;
  for (const auto& [name, amount] : extended) share.extended[name] = amount / parts;
  return share;
}

bool ResourceProfile::Fits(const ResourceProfile& request) const {
  if (cpu_cores < request.cpu_cores || memory_bytes < request.memory_bytes ||
      network_bytes_per_second < request.network_bytes_per_second) {
    return false;
  }
  for (const auto& [name, amount] : request.extended) {
    auto it = extended.find(name);
    if (amount > 0 && (it == extended.end() || it->second < amount)) return false;
  }
  return true;
}

std::vector<std::pair<std::string, double>> NamedAmounts(const ResourceProfile& profile) {
  std::vector<std::pair<std::string, double>> out = {
      {"cpu", profile.cpu_cores},
      {"memory", static_cast<double>(profile.memory_bytes)},
      {"network", static_cast<double>(profile.network_bytes_per_second)},
  };
  for (const auto& [name, amount] : profile.extended) out.emplace_back(name, amount);
  return out;
}

}  // namespace sluice
