// Talks to JobMasters (JobMasterService on a JobManager): offers slots and
// reports task states, one channel per JobManager address, asynchronously
// with a deadline. Shutdown() ends the calls in flight, so that no callback
// outlives the TaskManager it calls back into.
#ifndef SLUICE_TASKMANAGER_JOB_MASTER_CLIENT_H_
#define SLUICE_TASKMANAGER_JOB_MASTER_CLIENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
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
  ~JobMasterClient() { Shutdown(absl::ZeroDuration()); }

  // Calls `done` on a gRPC thread (at once with UNAVAILABLE after Shutdown()).
  void OfferSlots(const std::string& address, v1::OfferSlotsRequest request, Done done);
  // Fire and forget; a failure is logged (the JobMaster also learns of a
  // lost TaskManager from the ResourceManager).
  void UpdateTaskState(const std::string& address, v1::TaskStateUpdate update);
  // Fire and forget too: a lost acknowledgement lets the checkpoint expire.
  void AcknowledgeCheckpoint(const std::string& address, v1::CheckpointAcknowledgement ack);
  // Gives the calls in flight `grace` to finish (the last task reports), then
  // cancels the rest; returns when every callback has run. Later calls fail.
  void Shutdown(absl::Duration grace);

 private:
  template <typename Request>
  using AsyncCall = void (v1::JobMasterService::Stub::async_interface::*)(
      grpc::ClientContext*, const Request*, v1::TaskStateAck*, std::function<void(grpc::Status)>);
  // A call whose answer only matters when it failed (logged).
  template <typename Request>
  void Send(const std::string& address, Request request, const char* what,
            AsyncCall<Request> method);
  v1::JobMasterService::Stub* StubFor(const std::string& address);
  // Registers a call until its callback has run; nullopt after Shutdown().
  std::optional<uint64_t> Track(std::shared_ptr<grpc::ClientContext> context);
  void Untrack(uint64_t call);

  const absl::Duration timeout_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<v1::JobMasterService::Stub>> stubs_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<grpc::ClientContext>> in_flight_ ABSL_GUARDED_BY(mu_);
  uint64_t next_call_ ABSL_GUARDED_BY(mu_) = 0;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_JOB_MASTER_CLIENT_H_
