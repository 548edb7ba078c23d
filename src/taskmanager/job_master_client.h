// Talks to JobMasters (JobMasterService on a JobManager): offers slots and
// reports task states, one channel per JobManager address, asynchronously
// with a deadline.
#ifndef SLUICE_TASKMANAGER_JOB_MASTER_CLIENT_H_
#define SLUICE_TASKMANAGER_JOB_MASTER_CLIENT_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sluice/v1/jobmanager.grpc.pb.h"

namespace sluice {

class JobMasterClient {
 public:
  using Done = std::function<void(absl::StatusOr<v1::OfferSlotsResponse>)>;
  explicit JobMasterClient(absl::Duration timeout) : timeout_(timeout) {}

  // Calls `done` on a gRPC thread.
  void OfferSlots(const std::string& address, v1::OfferSlotsRequest request, Done done);
  // Fire and forget; a failure is logged (the JobMaster also learns of a
  // lost TaskManager from the ResourceManager).
  void UpdateTaskState(const std::string& address, v1::TaskStateUpdate update);

 private:
  v1::JobMasterService::Stub* StubFor(const std::string& address);

  const absl::Duration timeout_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<v1::JobMasterService::Stub>> stubs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_JOB_MASTER_CLIENT_H_
