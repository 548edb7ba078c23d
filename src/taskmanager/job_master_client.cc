#include "taskmanager/job_master_client.h"

#include <grpcpp/client_context.h>

#include <vector>

#include "absl/time/clock.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_status.h"
#include "spdlog/spdlog.h"

namespace sluice {

v1::JobMasterService::Stub* JobMasterClient::StubFor(const std::string& address) {
  absl::MutexLock lock(&mu_);
  auto& stub = stubs_[address];
  if (!stub) stub = v1::JobMasterService::NewStub(CreateChannel(address, absl::Seconds(2)));
  return stub.get();
}

void JobMasterClient::OfferSlots(const std::string& address, v1::OfferSlotsRequest request,
                                 Done done) {
  struct Call {
    grpc::ClientContext context;
    v1::OfferSlotsRequest request;
    v1::OfferSlotsResponse response;
  };
  auto call = std::make_shared<Call>();
  call->request = std::move(request);
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  std::optional<uint64_t> id = Track({call, &call->context});
  if (!id) {
    done(absl::UnavailableError("the TaskManager is shutting down"));
    return;
  }
  StubFor(address)->async()->OfferSlots(
      &call->context, &call->request, &call->response,
      [this, call, id = *id, done = std::move(done)](grpc::Status status) {
        if (!status.ok()) {
          done(FromGrpcStatus(status));
        } else {
          done(std::move(call->response));
        }
        Untrack(id);  // last: Shutdown() waits for `done` to return
      });
}

template <typename Request>
void JobMasterClient::Send(const std::string& address, Request request, const char* what,
                           AsyncCall<Request> method) {
  struct Call {
    grpc::ClientContext context;
    Request request;
    v1::TaskStateAck ack;
  };
  auto call = std::make_shared<Call>();
  call->request = std::move(request);
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  std::optional<uint64_t> id = Track({call, &call->context});
  if (!id) {
    spdlog::warn("Not reporting {} of job {}: the TaskManager is shutting down", what,
                 call->request.job_id());
    return;
  }
  (StubFor(address)->async()->*method)(&call->context, &call->request, &call->ack,
                                       [this, call, id = *id, what](grpc::Status status) {
                                         if (!status.ok()) {
                                           spdlog::warn("Cannot report {} of job {}: {}", what,
                                                        call->request.job_id(),
                                                        status.error_message());
                                         }
                                         Untrack(id);
                                       });
}

void JobMasterClient::UpdateTaskState(const std::string& address, v1::TaskStateUpdate update) {
  Send(address, std::move(update), "task state",
       &v1::JobMasterService::Stub::async_interface::UpdateTaskState);
}

void JobMasterClient::AcknowledgeCheckpoint(const std::string& address,
                                            v1::CheckpointAcknowledgement ack) {
  Send(address, std::move(ack), "a checkpoint",
       &v1::JobMasterService::Stub::async_interface::AcknowledgeCheckpoint);
}

std::optional<uint64_t> JobMasterClient::Track(std::shared_ptr<grpc::ClientContext> context) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return std::nullopt;
  in_flight_[next_call_] = std::move(context);
  return next_call_++;
}

void JobMasterClient::Untrack(uint64_t call) {
  absl::MutexLock lock(&mu_);
  in_flight_.erase(call);
}

void JobMasterClient::Shutdown(absl::Duration grace) {
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_.empty(); };
  std::vector<std::shared_ptr<grpc::ClientContext>> remaining;
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    mu_.AwaitWithTimeout(absl::Condition(&idle), grace);
    for (const auto& [id, context] : in_flight_) remaining.push_back(context);
  }
  // Without the lock: a cancelled call's callback may run on this thread.
  for (const auto& context : remaining) context->TryCancel();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&idle));
}

}  // namespace sluice
