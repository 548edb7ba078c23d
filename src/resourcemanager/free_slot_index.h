// Index of free slots, so a placement decision never scans every slot. Slots
// are grouped in classes of equal (profile, dedicated tenant); within a class,
// TaskManagers are ordered by their number of free slots in it, both ways:
// most free first (spread) and fewest free first (pack). A request looks at
// the few classes that fit it and takes the best TaskManager of each.
#ifndef SLUICE_RESOURCEMANAGER_FREE_SLOT_INDEX_H_
#define SLUICE_RESOURCEMANAGER_FREE_SLOT_INDEX_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/resource_profile.h"

namespace sluice {

enum class Placement { kSpread, kPack };

struct SlotClassKey {
  ResourceProfile profile;
  std::string tenant;  // "" : shared
  bool operator<(const SlotClassKey& other) const;
};

class FreeSlotIndex {
 public:
  // Class id of a slot profile / tenant; created on first use.
  int ClassOf(const ResourceProfile& profile, const std::string& tenant);
  const SlotClassKey& key(int class_id) const { return classes_[class_id].key; }

  // Changes the free count of `task_manager` in `class_id` by `delta`.
  void Adjust(int class_id, const std::string& task_manager, int delta);

  // The TaskManager to take a slot from for a request of `profile` by
  // `tenant`: dedicated classes of that tenant first, then classes with the
  // fewest unrequested extended resources, then by placement. TaskManagers in
  // `exclude` are skipped. Returns (class id, TaskManager id).
  std::optional<std::pair<int, std::string>> Pick(const ResourceProfile& profile,
                                                  const std::string& tenant, Placement placement,
                                                  const std::set<std::string>& exclude) const;

  // Free slots of `task_manager` in `class_id`, as indexed.
  int FreeCount(int class_id, const std::string& task_manager) const;
  // Free slots that could serve `profile` for `tenant`.
  int FreeFitting(const ResourceProfile& profile, const std::string& tenant) const;

 private:
  struct SlotClass {
    SlotClassKey key;
    std::map<std::string, int> free_by_tm;
    std::set<std::pair<int, std::string>> most_free;   // (-free, id)
    std::set<std::pair<int, std::string>> least_free;  // (free, id)
    int free_total = 0;
  };
  static bool Serves(const SlotClass& c, const ResourceProfile& profile, const std::string& tenant);
  std::optional<std::string> BestIn(const SlotClass& c, Placement placement,
                                    const std::set<std::string>& exclude) const;

  std::vector<SlotClass> classes_;
  std::map<SlotClassKey, int> class_ids_;
};

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_FREE_SLOT_INDEX_H_
