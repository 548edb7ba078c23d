// A bundle of resources: what a TaskManager or slot offers, or what a request
// needs. Plain value type with the arithmetic the registry needs.
#ifndef SLUICE_COMMON_RESOURCE_PROFILE_H_
#define SLUICE_COMMON_RESOURCE_PROFILE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sluice {

struct ResourceProfile {
  double cpu_cores = 0;
  int64_t memory_bytes = 0;
  int64_t network_bytes_per_second = 0;
  std::map<std::string, double> extended;  // e.g. {"gpu": 1}

  ResourceProfile& operator+=(const ResourceProfile& other);
  ResourceProfile& operator-=(const ResourceProfile& other);
  friend ResourceProfile operator+(ResourceProfile a, const ResourceProfile& b) { return a += b; }
  friend ResourceProfile operator-(ResourceProfile a, const ResourceProfile& b) { return a -= b; }
  bool operator==(const ResourceProfile&) const = default;

  // This profile divided into `parts` equal shares (for slots of a TaskManager).
  ResourceProfile Share(int parts) const;
  // True when every dimension of this profile is at least `request`'s.
  bool Fits(const ResourceProfile& request) const;
};

// The named dimensions used for metrics and utilization: "cpu", "memory",
// "network" and every extended resource name, each with its amount.
std::vector<std::pair<std::string, double>> NamedAmounts(const ResourceProfile& profile);

}  // namespace sluice

#endif  // SLUICE_COMMON_RESOURCE_PROFILE_H_
