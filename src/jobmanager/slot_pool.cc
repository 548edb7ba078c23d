#include "jobmanager/slot_pool.h"

namespace sluice {

void SlotPool::Declare(const v1::DeclareResources& declaration) {
  Job& job = jobs_[declaration.job_id()];
  job.declaration = declaration;
  job.declaration_status.reset();
  job.failure.reset();
}

void SlotPool::Release(const std::string& job_id) { jobs_.erase(job_id); }

std::vector<v1::DeclareResources> SlotPool::Declarations() const {
  std::vector<v1::DeclareResources> out;
  for (const auto& [id, job] : jobs_) out.push_back(job.declaration);
  return out;
}

v1::OfferSlotsResponse SlotPool::Offer(const v1::OfferSlotsRequest& request) {
  v1::OfferSlotsResponse response;
  auto job = jobs_.find(request.job_id());
  if (job == jobs_.end()) return response;  // not (or no longer) ours: all rejected
  for (const auto& offer : request.offers()) {
    job->second.slots[offer.allocation_id()] = OfferedSlot{
        offer.allocation_id(),  request.task_manager_id(), request.task_manager_address(),
        request.data_address(), offer.slot_index(),        offer.profile()};
    response.add_accepted_allocation_ids(offer.allocation_id());
  }
  return response;
}

void SlotPool::OnDeclarationResult(const v1::DeclarationResult& result) {
  auto job = jobs_.find(result.job_id());
  if (job == jobs_.end()) return;
  job->second.declaration_status =
      absl::Status(static_cast<absl::StatusCode>(result.code()), result.error());
}

void SlotPool::OnSlotsRevoked(const v1::SlotsRevoked& revoked) {
  for (const auto& slot : revoked.slots()) {
    auto job = jobs_.find(slot.job_id());
    if (job == jobs_.end()) continue;
    job->second.slots.erase(slot.allocation_id());
    job->second.revoked.push_back(slot);
  }
}

void SlotPool::OnRequestFailed(const v1::ResourceRequestFailed& failed) {
  auto job = jobs_.find(failed.job_id());
  if (job != jobs_.end()) job->second.failure = failed.message();
}

std::vector<OfferedSlot> SlotPool::Slots(const std::string& job_id) const {
  std::vector<OfferedSlot> out;
  auto job = jobs_.find(job_id);
  if (job == jobs_.end()) return out;
  for (const auto& [id, slot] : job->second.slots) out.push_back(slot);
  return out;
}

std::optional<absl::Status> SlotPool::DeclarationStatus(const std::string& job_id) const {
  auto job = jobs_.find(job_id);
  return job == jobs_.end() ? std::nullopt : job->second.declaration_status;
}

std::optional<std::string> SlotPool::Failure(const std::string& job_id) const {
  auto job = jobs_.find(job_id);
  return job == jobs_.end() ? std::nullopt : job->second.failure;
}

std::vector<v1::SlotRevoked> SlotPool::Revoked(const std::string& job_id) const {
  auto job = jobs_.find(job_id);
  return job == jobs_.end() ? std::vector<v1::SlotRevoked>{} : job->second.revoked;
}

}  // namespace sluice
