// The JobManager's gRPC service for clients: cluster status (asked of the
// ResourceManager), job submission with the library upload, and job control.
#ifndef SLUICE_JOBMANAGER_JOB_MANAGER_SERVICE_H_
#define SLUICE_JOBMANAGER_JOB_MANAGER_SERVICE_H_

#include <string>

#include "absl/time/time.h"
#include "jobmanager/client_auth.h"
#include "jobmanager/dispatcher.h"
#include "jobmanager/library_store.h"
#include "sluice/v1/jobmanager.grpc.pb.h"
#include "sluice/v1/resourcemanager.grpc.pb.h"

namespace sluice {

class JobManagerService final : public v1::JobManager::CallbackService {
 public:
  JobManagerService(v1::ResourceManager::Stub* rm, std::string rm_address, absl::Duration timeout,
                    LibraryStore* libraries, Dispatcher* dispatcher,
                    absl::Duration upload_timeout = absl::Minutes(5),
                    const ClientAuth* auth = nullptr)
      : rm_(rm),
        rm_address_(std::move(rm_address)),
        timeout_(timeout),
        upload_timeout_(upload_timeout),
        libraries_(libraries),
        dispatcher_(dispatcher),
        auth_(auth) {}

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
  // Who calls (UNAUTHENTICATED, logged, if no one the JobManager knows).
  absl::StatusOr<Principal> Caller(grpc::CallbackServerContext* context, const char* call) const;
  // Whether the caller may see and control job `job_id` (PERMISSION_DENIED,
  // logged, if it is another tenant's; NOT_FOUND is left to the call).
  absl::StatusOr<Principal> CallerOfJob(grpc::CallbackServerContext* context, const char* call,
                                        const std::string& job_id) const;

  v1::ResourceManager::Stub* const rm_;
  const std::string rm_address_;
  const absl::Duration timeout_;
  const absl::Duration upload_timeout_;  // jobmanager.upload.timeout
  LibraryStore* const libraries_;
  Dispatcher* const dispatcher_;
  const ClientAuth* const auth_;  // null: no client authentication
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_JOB_MANAGER_SERVICE_H_
