#include "taskmanager/job_master_client.h"

#include <grpcpp/client_context.h>

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
  StubFor(address)->async()->OfferSlots(&call->context, &call->request, &call->response,
                                        [call, done = std::move(done)](grpc::Status status) {
                                          if (!status.ok()) {
                                            done(FromGrpcStatus(status));
                                          } else {
                                            done(std::move(call->response));
                                          }
                                        });
}

void JobMasterClient::UpdateTaskState(const std::string& address, v1::TaskStateUpdate update) {
  struct Call {
    grpc::ClientContext context;
    v1::TaskStateUpdate update;
    v1::TaskStateAck ack;
  };
  auto call = std::make_shared<Call>();
  call->update = std::move(update);
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  StubFor(address)->async()->UpdateTaskState(
      &call->context, &call->update, &call->ack, [call](grpc::Status status) {
        if (!status.ok()) {
          spdlog::warn("Cannot report task state of job {}: {}", call->update.job_id(),
                       status.error_message());
        }
      });
}

}  // namespace sluice
