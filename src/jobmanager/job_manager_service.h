// The JobManager's gRPC service for clients: cluster status (asked of the
// ResourceManager), job submission with the library upload, and job control.
#ifndef SLUICE_JOBMANAGER_JOB_MANAGER_SERVICE_H_
#define SLUICE_JOBMANAGER_JOB_MANAGER_SERVICE_H_

#include <string>

#include "absl/time/time.h"
#include "jobmanager/dispatcher.h"
#include "jobmanager/library_store.h"
#include "sluice/v1/jobmanager.grpc.pb.h"
#include "sluice/v1/resourcemanager.grpc.pb.h"

namespace sluice {

class JobManagerService final : public v1::JobManager::CallbackService {
 public:
  JobManagerService(v1::ResourceManager::Stub* rm, std::string rm_address, absl::Duration timeout,
                    LibraryStore* libraries, Dispatcher* dispatcher,
                    absl::Duration upload_timeout = absl::Minutes(5))
      : rm_(rm),
        rm_address_(std::move(rm_address)),
        timeout_(timeout),
        upload_timeout_(upload_timeout),
        libraries_(libraries),
        dispatcher_(dispatcher) {}

  grpc::ServerUnaryReactor* GetClusterStatus(grpc::CallbackServerContext* context,
                                             const v1::GetClusterStatusRequest* request,
                                             v1::ClusterStatus* response) override;
  grpc::ServerReadReactor<v1::SubmitJobRequest>* SubmitJob(grpc::CallbackServerContext* context,
                                                           v1::JobStatus* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context,
                                     const v1::ListJobsRequest* request,
                                     v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const v1::GetJobRequest* request,
                                   v1::JobStatus* response) override;
  grpc::ServerUnaryReactor* TriggerSavepoint(grpc::CallbackServerContext* context,
                                             const v1::TriggerSavepointRequest* request,
                                             v1::TriggerSavepointResponse* response) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context,
                                      const v1::CancelJobRequest* request,
                                      v1::JobStatus* response) override;
  grpc::ServerWriteReactor<v1::LibraryChunk>* FetchLibrary(
      grpc::CallbackServerContext* context, const v1::FetchLibraryRequest* request) override;

 private:
  v1::ResourceManager::Stub* const rm_;
  const std::string rm_address_;
  const absl::Duration timeout_;
  const absl::Duration upload_timeout_;  // jobmanager.upload.timeout
  LibraryStore* const libraries_;
  Dispatcher* const dispatcher_;
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_JOB_MANAGER_SERVICE_H_
