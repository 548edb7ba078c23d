// The JobManager's JobMasterService: TaskManagers offer slots here.
#ifndef SLUICE_JOBMANAGER_JOB_MASTER_SERVICE_H_
#define SLUICE_JOBMANAGER_JOB_MASTER_SERVICE_H_

#include <functional>
#include <utility>

#include "sluice/v1/jobmanager.grpc.pb.h"

namespace sluice {

class JobMasterServiceImpl final : public v1::JobMasterService::CallbackService {
 public:
  using TaskStateFn = std::function<void(const v1::TaskStateUpdate&)>;
  // Hands an offer to the slot pool's thread; `done` answers it from there.
  using OfferFn = std::function<void(v1::OfferSlotsRequest request,
                                     std::function<void(v1::OfferSlotsResponse)> done)>;
  using CheckpointFn = std::function<void(const v1::CheckpointAcknowledgement&)>;
  JobMasterServiceImpl(OfferFn offer, TaskStateFn on_task_state, CheckpointFn on_checkpoint)
      : offer_(std::move(offer)),
        on_task_state_(std::move(on_task_state)),
        on_checkpoint_(std::move(on_checkpoint)) {}

  grpc::ServerUnaryReactor* OfferSlots(grpc::CallbackServerContext* context,
                                       const v1::OfferSlotsRequest* request,
                                       v1::OfferSlotsResponse* response) override {
    auto* reactor = context->DefaultReactor();
    offer_(*request, [reactor, response](v1::OfferSlotsResponse answer) {
      *response = std::move(answer);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* AcknowledgeCheckpoint(grpc::CallbackServerContext* context,
                                                  const v1::CheckpointAcknowledgement* ack,
                                                  v1::TaskStateAck*) override {
    on_checkpoint_(*ack);
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* UpdateTaskState(grpc::CallbackServerContext* context,
                                            const v1::TaskStateUpdate* update,
                                            v1::TaskStateAck*) override {
    on_task_state_(*update);
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const OfferFn offer_;
  const TaskStateFn on_task_state_;
  const CheckpointFn on_checkpoint_;
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_JOB_MASTER_SERVICE_H_
