#include "taskmanager/task_slot_table.h"

namespace sluice {

TaskSlotTable::TaskSlotTable(const Clock* clock, const std::vector<SlotState>& slots,
                             absl::Duration slot_timeout)
    : clock_(clock), slot_timeout_(slot_timeout) {
  for (const auto& s : slots) slots_[s.index] = Slot{s, Use::kFree, "", {}, {}};
}

TaskSlotTable::RequestOutcome TaskSlotTable::Request(int index, const std::string& allocation,
                                                     const std::string& job,
                                                     const std::string& job_master_address) {
  auto it = slots_.find(index);
  if (it == slots_.end()) return RequestOutcome{};
  Slot& slot = it->second;
  if (slot.use != Use::kFree && slot.state.allocation_id != allocation) {
    return RequestOutcome{false, false, slot.state.job_id, slot.state.allocation_id};
  }
  if (slot.use == Use::kActive) return RequestOutcome{true, false, "", ""};
  slot.use = Use::kOffered;
  ++version_;
  slot.state.allocation_id = allocation;
  slot.state.job_id = job;
  slot.job_master_address = job_master_address;
  slot.offered_at = clock_->Now();
  return RequestOutcome{true, true, "", ""};
}

bool TaskSlotTable::Activate(const std::string& allocation) {
  for (auto& [index, slot] : slots_) {
    if (slot.state.allocation_id == allocation && slot.use == Use::kOffered) {
      slot.use = Use::kActive;
      slot.confirmed_at = clock_->Now();
      ++version_;
      return true;
    }
  }
  return false;
}

bool TaskSlotTable::Free(const std::string& allocation) {
  for (auto& [index, slot] : slots_) {
    if (slot.use != Use::kFree && slot.state.allocation_id == allocation) {
      slot.use = Use::kFree;
      ++version_;
      slot.state.allocation_id.clear();
      slot.state.job_id.clear();
      slot.job_master_address.clear();
      return true;
    }
  }
  return false;
}

std::vector<std::string> TaskSlotTable::ExpireOffers() {
  std::vector<std::string> expired;
  const absl::Time deadline = clock_->Now() - slot_timeout_;
  for (auto& [index, slot] : slots_) {
    if (slot.use == Use::kOffered && slot.offered_at <= deadline) {
      expired.push_back(slot.state.allocation_id);
    }
  }
  for (const auto& allocation : expired) Free(allocation);
  return expired;
}

void TaskSlotTable::Confirm(const std::string& job) {
  const absl::Time now = clock_->Now();
  for (auto& [index, slot] : slots_) {
    if (slot.use == Use::kActive && slot.state.job_id == job) slot.confirmed_at = now;
  }
}

std::vector<std::string> TaskSlotTable::Unconfirmed(absl::Duration lease) const {
  std::vector<std::string> stale;
  const absl::Time deadline = clock_->Now() - lease;
  for (const auto& [index, slot] : slots_) {
    if (slot.use == Use::kActive && slot.confirmed_at < deadline) {
      stale.push_back(slot.state.allocation_id);
    }
  }
  return stale;
}

const TaskSlotTable::Slot* TaskSlotTable::Find(const std::string& allocation) const {
  for (const auto& [index, slot] : slots_) {
    if (slot.use != Use::kFree && slot.state.allocation_id == allocation) return &slot;
  }
  return nullptr;
}

bool TaskSlotTable::Holds(const std::string& allocation, const std::string& job) const {
  const Slot* slot = Find(allocation);
  return slot != nullptr && slot->state.job_id == job;
}

std::vector<SlotState> TaskSlotTable::Report() const {
  std::vector<SlotState> report;
  report.reserve(slots_.size());
  for (const auto& [index, slot] : slots_) report.push_back(slot.state);
  return report;
}

int TaskSlotTable::free_slots() const {
  int free = 0;
  for (const auto& [index, slot] : slots_) free += slot.use == Use::kFree ? 1 : 0;
  return free;
}

}  // namespace sluice
