// The JobManager's JobMasterService: TaskManagers offer slots here.
#ifndef SLUICE_JOBMANAGER_JOB_MASTER_SERVICE_H_
#define SLUICE_JOBMANAGER_JOB_MASTER_SERVICE_H_

#include <functional>

#include "jobmanager/slot_pool.h"
#include "sluice/v1/jobmanager.grpc.pb.h"

namespace sluice {

class JobMasterServiceImpl final : public v1::JobMasterService::CallbackService {
 public:
  using TaskStateFn = std::function<void(const v1::TaskStateUpdate&)>;
  using SlotsFn = std::function<void(const std::string& job_id)>;
  JobMasterServiceImpl(SlotPool* pool, TaskStateFn on_task_state, SlotsFn on_slots)
      : pool_(pool), on_task_state_(std::move(on_task_state)), on_slots_(std::move(on_slots)) {}

  grpc::ServerUnaryReactor* OfferSlots(grpc::CallbackServerContext* context,
                                       const v1::OfferSlotsRequest* request,
                                       v1::OfferSlotsResponse* response) override {
    *response = pool_->Offer(*request);
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    if (response->accepted_allocation_ids_size() > 0) on_slots_(request->job_id());
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
  SlotPool* const pool_;
  const TaskStateFn on_task_state_;
  const SlotsFn on_slots_;
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_JOB_MASTER_SERVICE_H_
