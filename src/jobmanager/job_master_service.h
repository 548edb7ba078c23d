// The JobManager's JobMasterService: TaskManagers offer slots here.
#ifndef SLUICE_JOBMANAGER_JOB_MASTER_SERVICE_H_
#define SLUICE_JOBMANAGER_JOB_MASTER_SERVICE_H_

#include "jobmanager/slot_pool.h"
#include "sluice/v1/jobmanager.grpc.pb.h"

namespace sluice {

class JobMasterServiceImpl final : public v1::JobMasterService::CallbackService {
 public:
  explicit JobMasterServiceImpl(SlotPool* pool) : pool_(pool) {}

  grpc::ServerUnaryReactor* OfferSlots(grpc::CallbackServerContext* context,
                                       const v1::OfferSlotsRequest* request,
                                       v1::OfferSlotsResponse* response) override {
    *response = pool_->Offer(*request);
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  SlotPool* const pool_;
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_JOB_MASTER_SERVICE_H_
