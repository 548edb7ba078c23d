// A TaskManager's own view of its slots: free, offered to a JobMaster on the
// ResourceManager's request, or active (the JobMaster accepted it). Requests
// are idempotent on the allocation id; an offer the JobMaster never accepts is
// freed after taskmanager.slot.timeout. This view is what heartbeats report,
// and it wins over the ResourceManager's. Deployments go only into slots held
// here for their job (see JobDeployments), and a deployment activates an
// offered slot: the JobMaster deploys only into slots it accepted.
//
// Not thread-safe: it belongs to the TaskManager's mailbox thread.
#ifndef SLUICE_TASKMANAGER_TASK_SLOT_TABLE_H_
#define SLUICE_TASKMANAGER_TASK_SLOT_TABLE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/slot.h"

namespace sluice {

class TaskSlotTable {
 public:
  enum class Use { kFree, kOffered, kActive };
  struct Slot {
    SlotState state;  // allocation and job, when not free
    Use use = Use::kFree;
    std::string job_master_address;
    absl::Time offered_at;
    absl::Time confirmed_at;  // last sign that its JobMaster still wants it
  };
  struct RequestOutcome {
    bool accepted = false;
    bool offer = false;  // the slot must (again) be offered to the JobMaster
    std::string occupant_job;
    std::string occupant_allocation;
  };

  TaskSlotTable(const Clock* clock, const std::vector<SlotState>& slots,
                absl::Duration slot_timeout);

  // Reserves slot `index` for `allocation` of `job`. A repeated request for
  // the same allocation is accepted again; a slot held by another allocation
  // is refused with its occupant.
  RequestOutcome Request(int index, const std::string& allocation, const std::string& job,
                         const std::string& job_master_address);
  // The JobMaster accepted the offer (or deployed into it).
  bool Activate(const std::string& allocation);
  // The allocation ends (JobMaster rejected or freed it, or the RM said so).
  bool Free(const std::string& allocation);
  // Frees offers older than the slot timeout; returns their allocations.
  std::vector<std::string> ExpireOffers();
  // The JobMaster of `job` confirmed it (a heartbeat): its slots stay held.
  void Confirm(const std::string& job);
  // Active slots whose JobMaster has not confirmed them for `lease` (it is
  // gone, or no longer holds them): their allocations, to be freed.
  std::vector<std::string> Unconfirmed(absl::Duration lease) const;

  const Slot* Find(const std::string& allocation) const;
  // Whether `allocation` is held here (offered or active) for `job`.
  bool Holds(const std::string& allocation, const std::string& job) const;
  std::vector<SlotState> Report() const;
  int free_slots() const;
  // Grows with every change; heartbeats and answers carry it.
  uint64_t version() const { return version_; }

 private:
  const Clock* clock_;
  const absl::Duration slot_timeout_;
  std::map<int, Slot> slots_;
  uint64_t version_ = 1;
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_TASK_SLOT_TABLE_H_
