#include "resourcemanager/free_slot_index.h"

#include <tuple>

namespace sluice {
namespace {

// Extended resources a slot class offers that the request does not ask for:
// a CPU-only request should not take a GPU slot while plain ones are free.
int Waste(const ResourceProfile& offered, const ResourceProfile& requested) {
  int waste = 0;
  for (const auto& [name, amount] : offered.extended) {
    if (amount > 0 && requested.extended.count(name) == 0) ++waste;
  }
  return waste;
}

}  // namespace

bool SlotClassKey::operator<(const SlotClassKey& other) const {
  return std::tie(profile.cpu_cores, profile.memory_bytes, profile.network_bytes_per_second,
                  profile.extended, tenant) <
         std::tie(other.profile.cpu_cores, other.profile.memory_bytes,
                  other.profile.network_bytes_per_second, other.profile.extended, other.tenant);
}

int FreeSlotIndex::ClassOf(const ResourceProfile& profile, const std::string& tenant) {
  SlotClassKey key{profile, tenant};
  auto it = class_ids_.find(key);
  if (it != class_ids_.end()) return it->second;
  int id = static_cast<int>(classes_.size());
  classes_.push_back(SlotClass{key, {}, {}, {}, 0});
  class_ids_.emplace(std::move(key), id);
  return id;
}

void FreeSlotIndex::Adjust(int class_id, const std::string& task_manager, int delta) {
  SlotClass& c = classes_[class_id];
  int& free = c.free_by_tm[task_manager];
  if (free > 0) {
    c.most_free.erase({-free, task_manager});
    c.least_free.erase({free, task_manager});
  }
  free += delta;
  c.free_total += delta;
  if (free > 0) {
    c.most_free.insert({-free, task_manager});
    c.least_free.insert({free, task_manager});
  } else {
    c.free_by_tm.erase(task_manager);
  }
}

int FreeSlotIndex::FreeCount(int class_id, const std::string& task_manager) const {
  const auto& free = classes_[class_id].free_by_tm;
  auto it = free.find(task_manager);
  return it == free.end() ? 0 : it->second;
}

std::optional<std::string> FreeSlotIndex::BestIn(const SlotClass& c, Placement placement,
                                                 const std::set<std::string>& exclude) const {
  const auto& order = placement == Placement::kSpread ? c.most_free : c.least_free;
  for (const auto& [free, tm] : order) {
    if (exclude.count(tm) == 0) return tm;
  }
  return std::nullopt;
}

bool FreeSlotIndex::Serves(const SlotClass& c, const ResourceProfile& profile,
                           const std::string& tenant) {
  return (c.key.tenant.empty() || c.key.tenant == tenant) && c.key.profile.Fits(profile);
}

int FreeSlotIndex::FreeFitting(const ResourceProfile& profile, const std::string& tenant) const {
  int total = 0;
  for (const SlotClass& c : classes_) total += Serves(c, profile, tenant) ? c.free_total : 0;
  return total;
}

std::optional<std::pair<int, std::string>> FreeSlotIndex::Pick(
    const ResourceProfile& profile, const std::string& tenant, Placement placement,
    const std::set<std::string>& exclude) const {
  // Rank: (shared?, waste, placement key, TaskManager id) — smaller is better.
  std::optional<std::tuple<bool, int, int, std::string, int>> best;
  for (int id = 0; id < static_cast<int>(classes_.size()); ++id) {
    const SlotClass& c = classes_[id];
    if (c.free_total == 0 || !Serves(c, profile, tenant)) continue;
    auto tm = BestIn(c, placement, exclude);
    if (!tm) continue;
    int free = c.free_by_tm.at(*tm);
    int placement_key = placement == Placement::kSpread ? -free : free;
    auto rank = std::make_tuple(c.key.tenant.empty(), Waste(c.key.profile, profile), placement_key,
                                *tm, id);
    if (!best || rank < *best) best = rank;
  }
  if (!best) return std::nullopt;
  return std::make_pair(std::get<4>(*best), std::get<3>(*best));
}

}  // namespace sluice
