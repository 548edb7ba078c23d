// One slot of a TaskManager, as reported by the TaskManager itself.
#ifndef SLUICE_COMMON_SLOT_H_
#define SLUICE_COMMON_SLOT_H_

#include <string>

#include "common/resource_profile.h"

namespace sluice {

struct SlotState {
  int index = 0;
  ResourceProfile profile;
  std::string job_id;         // empty when free
  std::string allocation_id;  // empty when free

  bool IsFree() const { return allocation_id.empty(); }
  bool operator==(const SlotState&) const = default;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_SLOT_H_
