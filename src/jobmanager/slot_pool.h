// The JobManager's side of slot allocation: what each job declared, the slots
// TaskManagers offered it (accepted when the job is still declared), slots it
// lost, and failed requests. JobMasters (with the streaming engine) take their
// slots from here; the resource declarations are re-sent to a returning
// ResourceManager from here.
//
// Not thread-safe: it belongs to the JobManager's "jm-slots" mailbox, where
// offers (from gRPC threads) and the ResourceManager's messages (from the
// session's thread) are posted.
#ifndef SLUICE_JOBMANAGER_SLOT_POOL_H_
#define SLUICE_JOBMANAGER_SLOT_POOL_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sluice/v1/jobmanager.pb.h"
#include "sluice/v1/resourcemanager.pb.h"

namespace sluice {

struct OfferedSlot {
  std::string allocation_id;
  std::string task_manager_id;
  std::string task_manager_address;
  std::string data_address;  // the TaskManager's data port
  int slot_index = 0;
  v1::ResourceProfile profile;
};

class SlotPool {
 public:
  void Declare(const v1::DeclareResources& declaration);
  void Release(const std::string& job_id);
  std::vector<v1::DeclareResources> Declarations() const;

  // TaskManagers offer slots: accepted for declared jobs.
  v1::OfferSlotsResponse Offer(const v1::OfferSlotsRequest& request);
  // Messages from the ResourceManager.
  void OnDeclarationResult(const v1::DeclarationResult& result);
  void OnSlotsRevoked(const v1::SlotsRevoked& revoked);
  void OnRequestFailed(const v1::ResourceRequestFailed& failed);

  std::vector<OfferedSlot> Slots(const std::string& job_id) const;
  // The ResourceManager's answer to the latest declaration, once it came.
  std::optional<absl::Status> DeclarationStatus(const std::string& job_id) const;
  std::optional<std::string> Failure(const std::string& job_id) const;
  std::vector<v1::SlotRevoked> Revoked(const std::string& job_id) const;

 private:
  struct Job {
    v1::DeclareResources declaration;
    std::map<std::string, OfferedSlot> slots;
    std::optional<absl::Status> declaration_status;
    std::optional<std::string> failure;
    std::vector<v1::SlotRevoked> revoked;
  };

  std::map<std::string, Job> jobs_;
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_SLOT_POOL_H_
