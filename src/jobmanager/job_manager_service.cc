#include "jobmanager/job_manager_service.h"

#include <grpcpp/alarm.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/rpc/grpc_status.h"
#include "common/sha256.h"
#include "spdlog/spdlog.h"

namespace sluice {
namespace {

grpc::ServerUnaryReactor* Refused(grpc::CallbackServerContext* context,
                                  const absl::Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

std::string AuthorizationOf(const grpc::CallbackServerContext* context) {
  auto it = context->client_metadata().find("authorization");
  return it == context->client_metadata().end() ? ""
                                                : std::string(it->second.data(), it->second.size());
}

grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context,
                                 const absl::StatusOr<v1::JobStatus>& status,
                                 v1::JobStatus* response) {
  auto* reactor = context->DefaultReactor();
  if (status.ok()) *response = *status;
  reactor->Finish(status.ok() ? grpc::Status::OK : ToGrpcStatus(status.status()));
  return reactor;
}

// Receives a submission and the library's bytes on gRPC threads (each chunk
// is written to the store's temporary file as it arrives; the commit closes
// and renames it, no fsync), then hands both to the Dispatcher, whose submit
// worker answers: loading the library and running the user's build function
// never happen on a gRPC thread.
//
// An upload must complete within jobmanager.upload.timeout: a client that
// opens one and stalls (or whose connection is half open) has it cancelled,
// and its temporary file removed, instead of holding them for ever.
class SubmitReactor final : public grpc::ServerReadReactor<v1::SubmitJobRequest> {
 public:
  SubmitReactor(grpc::CallbackServerContext* context, LibraryStore* libraries,
                Dispatcher* dispatcher, v1::JobStatus* response, absl::Duration upload_timeout,
                absl::StatusOr<Principal> caller)
      : caller_(std::move(caller)),
        context_(context),
        libraries_(libraries),
        dispatcher_(dispatcher),
        response_(response),
        upload_timeout_(upload_timeout) {
    alarm_.Set(absl::ToChronoTime(absl::Now() + upload_timeout),
               [this](bool fired) { OnUploadTimeout(fired); });
    StartRead(&request_);
  }

 private:
  // On a gRPC thread, at the deadline (fired) or once the alarm is cancelled.
  void OnUploadTimeout(bool fired) {
    mu_.Lock();
    alarm_pending_ = false;
    if (!fired || done_) return Release();
    timed_out_ = cancelling_ = true;
    mu_.Unlock();
    spdlog::warn(
        "Cancelled a job upload that did not complete within {} (jobmanager.upload.timeout)",
        absl::FormatDuration(upload_timeout_));
    context_->TryCancel();  // may run OnReadDone and OnDone on this thread
    mu_.Lock();
    cancelling_ = false;
    Release();
  }
  // Unlocks mu_; deletes this once gRPC is done with it (OnDone) and no
  // alarm callback can come any more.
  void Release() ABSL_UNLOCK_FUNCTION(mu_) {
    const bool unreachable = done_ && !alarm_pending_ && !cancelling_;
    mu_.Unlock();
    if (unreachable) delete this;
  }

  void OnReadDone(bool ok) override {
    if (timed_out_) {
      Finish(grpc::Status(
          grpc::StatusCode::DEADLINE_EXCEEDED,
          absl::StrCat("the upload did not complete within ", absl::FormatDuration(upload_timeout_),
                       " (jobmanager.upload.timeout)")));
      return;
    }
    if (!ok) {
      Complete();
      return;
    }
    absl::Status status = Take();
    if (!status.ok()) {
      Finish(ToGrpcStatus(status));
      return;
    }
    StartRead(&request_);
  }

  absl::Status Take() {
    if (request_.has_submission()) {
      if (upload_) return absl::InvalidArgumentError("a second submission in one upload");
      if (!caller_.ok()) return caller_.status();  // before any of the library is stored
      submission_ = request_.submission();
      absl::StatusOr<std::string> tenant =
          ClientAuth::SubmittingTenant(*caller_, submission_.tenant());
      if (!tenant.ok()) {
        spdlog::warn("RPC: refused SubmitJob from {}: {}", context_->peer(),
                     std::string(tenant.status().message()));
        return tenant.status();
      }
      submission_.set_tenant(*tenant);
      if (!caller_->admin && submission_.token().empty()) {
        // A tenant's token is also what the ResourceManager asks of its jobs.
        std::string token = AuthorizationOf(context_);
        submission_.set_token(token.substr(token.find(' ') + 1));
      }
      if (!Sha256::IsHexDigest(submission_.library_sha256())) {
        return absl::InvalidArgumentError(
            absl::StrCat("library_sha256 '", submission_.library_sha256(),
                         "' is not a SHA-256 digest in lower-case hex"));
      }
      if (submission_.library_size() > libraries_->max_size()) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "the job library has ", submission_.library_size(), " bytes, over the limit of ",
            libraries_->max_size(), " (jobmanager.library.max-size)"));
      }
      upload_ = libraries_->Begin();
      return absl::OkStatus();
    }
    if (!upload_) return absl::InvalidArgumentError("library bytes before the submission");
    return upload_->Append(request_.library_chunk());
  }

  void Complete() {
    alarm_.Cancel();  // the upload is complete: building the graph has its own limit
    if (!upload_) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the upload carried no submission"));
      return;
    }
    auto path = upload_->Commit(submission_.library_sha256(), submission_.library_size());
    if (!path.ok()) {
      Finish(ToGrpcStatus(path.status()));
      return;
    }
    upload_.reset();
    // The reactor lives until Finish (OnDone deletes it).
    dispatcher_->Submit(submission_, *path,
                        [this, path = *path](absl::StatusOr<v1::JobStatus> status) {
                          if (status.ok()) {
                            libraries_->Accepted(path);
                          } else {
                            libraries_->Refused(path);  // no refused job's library stays on disk
                          }
                          if (!status.ok()) {
                            spdlog::warn("Refused job '{}': {}", submission_.job_name(),
                                         std::string(status.status().message()));
                            Finish(ToGrpcStatus(status.status()));
                            return;
                          }
                          spdlog::info("Accepted job {} ('{}')", status->job_id(), status->name());
                          *response_ = *std::move(status);
                          Finish(grpc::Status::OK);
                        });
  }

  void OnDone() override {
    alarm_.Cancel();  // before done_: until then its callback cannot delete this
    mu_.Lock();
    done_ = true;
    Release();  // or the alarm's callback will, or the one cancelling
  }

  const absl::StatusOr<Principal> caller_;
  grpc::CallbackServerContext* const context_;
  LibraryStore* const libraries_;
  Dispatcher* const dispatcher_;
  v1::JobStatus* const response_;
  const absl::Duration upload_timeout_;
  v1::SubmitJobRequest request_;
  v1::JobSubmission submission_;
  std::unique_ptr<LibraryStore::Upload> upload_;
  std::atomic<bool> timed_out_{false};
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool alarm_pending_ ABSL_GUARDED_BY(mu_) = true;
  bool cancelling_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Alarm alarm_;
};

// Streams a stored library in chunks.
class LibraryReader final : public grpc::ServerWriteReactor<v1::LibraryChunk> {
 public:
  explicit LibraryReader(const std::optional<std::string>& path) {
    if (!path) {
      Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "no job library with that digest"));
      return;
    }
    in_.open(*path, std::ios::binary);
    Next();
  }

 private:
  void Next() {
    chunk_.mutable_data()->resize(1 << 20);
    in_.read(chunk_.mutable_data()->data(), 1 << 20);
    chunk_.mutable_data()->resize(static_cast<size_t>(in_.gcount()));
    if (chunk_.data().empty()) {
      Finish(grpc::Status::OK);
    } else {
      StartWrite(&chunk_);
    }
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the reader went away"));
      return;
    }
    Next();
  }
  void OnDone() override { delete this; }

  std::ifstream in_;
  v1::LibraryChunk chunk_;
};

}  // namespace

absl::StatusOr<Principal> JobManagerService::Caller(grpc::CallbackServerContext* context,
                                                    const char* call) const {
  if (auth_ == nullptr) return Principal{true, ""};
  absl::StatusOr<Principal> caller = auth_->Authenticate(AuthorizationOf(context));
  if (!caller.ok()) {
    spdlog::warn("RPC: refused {} from {} (unauthenticated): {}", call, context->peer(),
                 std::string(caller.status().message()));
  }
  return caller;
}

absl::StatusOr<Principal> JobManagerService::CallerOfJob(grpc::CallbackServerContext* context,
                                                         const char* call,
                                                         const std::string& job_id) const {
  absl::StatusOr<Principal> caller = Caller(context, call);
  if (!caller.ok() || caller->admin) return caller;
  auto master = dispatcher_->Find(job_id);
  if (master && !ClientAuth::MayAccess(*caller, master->submission().tenant())) {
    spdlog::warn("RPC: refused {} of job {} from {} ({}): another tenant's job", call, job_id,
                 context->peer(), caller->Describe());
    return absl::PermissionDeniedError(
        absl::StrCat("job ", job_id, " belongs to another tenant than ", caller->Describe()));
  }
  return caller;
}

// Not authenticated: TaskManagers fetch the libraries of the jobs they run
// (their identity comes with mutual TLS; a digest is needed to ask).
grpc::ServerWriteReactor<v1::LibraryChunk>* JobManagerService::FetchLibrary(
    grpc::CallbackServerContext*, const v1::FetchLibraryRequest* request) {
  return new LibraryReader(libraries_->PathOf(request->sha256()));
}

grpc::ServerUnaryReactor* JobManagerService::GetClusterStatus(
    grpc::CallbackServerContext* context, const v1::GetClusterStatusRequest* request,
    v1::ClusterStatus* response) {
  if (auto caller = Caller(context, "GetClusterStatus"); !caller.ok()) {
    return Refused(context, caller.status());
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto client_context = std::make_shared<grpc::ClientContext>();
  client_context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  rm_->async()->GetClusterStatus(
      client_context.get(), request, response,
      [reactor, client_context, address = rm_address_](grpc::Status status) {
        if (!status.ok()) {
          status = grpc::Status(status.error_code(),
                                absl::StrCat("ResourceManager at ", address,
                                             " did not answer: ", status.error_message()));
        }
        reactor->Finish(status);
      });
  return reactor;
}

grpc::ServerReadReactor<v1::SubmitJobRequest>* JobManagerService::SubmitJob(
    grpc::CallbackServerContext* context, v1::JobStatus* response) {
  return new SubmitReactor(context, libraries_, dispatcher_, response, upload_timeout_,
                           Caller(context, "SubmitJob"));
}

grpc::ServerUnaryReactor* JobManagerService::ListJobs(grpc::CallbackServerContext* context,
                                                      const v1::ListJobsRequest*,
                                                      v1::ListJobsResponse* response) {
  absl::StatusOr<Principal> caller = Caller(context, "ListJobs");
  if (!caller.ok()) return Refused(context, caller.status());
  for (auto& job : dispatcher_->List()) {
    if (ClientAuth::MayAccess(*caller, job.tenant())) *response->add_jobs() = std::move(job);
  }
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* JobManagerService::GetJob(grpc::CallbackServerContext* context,
                                                    const v1::GetJobRequest* request,
                                                    v1::JobStatus* response) {
  if (auto caller = CallerOfJob(context, "GetJob", request->job_id()); !caller.ok()) {
    return Refused(context, caller.status());
  }
  return Answer(context, dispatcher_->Get(request->job_id()), response);
}

grpc::ServerUnaryReactor* JobManagerService::TriggerSavepoint(
    grpc::CallbackServerContext* context, const v1::TriggerSavepointRequest* request,
    v1::TriggerSavepointResponse* response) {
  if (auto caller = CallerOfJob(context, "TriggerSavepoint", request->job_id()); !caller.ok()) {
    return Refused(context, caller.status());
  }
  auto* reactor = context->DefaultReactor();
  auto master = dispatcher_->Find(request->job_id());
  if (!master) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                 absl::StrCat("job ", request->job_id(), " not found")));
    return reactor;
  }
  SavepointTrigger trigger{request->target_directory(), request->stop(), request->drain(),
                           absl::StrCat("RPC client ", context->peer())};
  // Answered from the JobMaster's thread once the savepoint is complete or failed.
  master->TriggerSavepoint(
      std::move(trigger), [reactor, response](const JobMaster::SavepointOperation& op) {
        if (op.status == JobMaster::SavepointOperation::Status::kCompleted) {
          response->set_location(op.location);
          reactor->Finish(grpc::Status::OK);
        } else {
          reactor->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, op.failure));
        }
      });
  return reactor;
}

grpc::ServerUnaryReactor* JobManagerService::CancelJob(grpc::CallbackServerContext* context,
                                                       const v1::CancelJobRequest* request,
                                                       v1::JobStatus* response) {
  if (auto caller = CallerOfJob(context, "CancelJob", request->job_id()); !caller.ok()) {
    return Refused(context, caller.status());
  }
  auto* reactor = context->DefaultReactor();
  // Answered from the JobMaster's thread once it handled the cancellation.
  dispatcher_->Cancel(
      request->job_id(), absl::StrCat("RPC client ", context->peer()),
      [reactor, response](absl::StatusOr<v1::JobStatus> status) {
        if (status.ok()) *response = *std::move(status);
        reactor->Finish(status.ok() ? grpc::Status::OK : ToGrpcStatus(status.status()));
      });
  return reactor;
}

}  // namespace sluice
