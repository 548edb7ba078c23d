#include "jobmanager/task_manager_gateway.h"

#include "absl/time/clock.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_status.h"

namespace sluice {
namespace {

// Keeps a call's context, request and response alive until its callback,
// which gets the answer.
template <typename Request, typename Response>
void CallFor(v1::TaskExecutor::Stub* stub, absl::Duration timeout, Request request,
             void (v1::TaskExecutor::Stub::async_interface::*method)(
                 grpc::ClientContext*, const Request*, Response*,
                 std::function<void(grpc::Status)>),
             std::function<void(absl::StatusOr<Response>)> done) {
  struct State {
    grpc::ClientContext context;
    Request request;
    Response response;
  };
  auto state = std::make_shared<State>();
  state->request = std::move(request);
  state->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  (stub->async()->*method)(&state->context, &state->request, &state->response,
                           [state, done = std::move(done)](grpc::Status status) {
                             if (!status.ok()) return done(FromGrpcStatus(status));
                             done(std::move(state->response));
                           });
}

// A call whose answer is only its status.
template <typename Request>
void Call(v1::TaskExecutor::Stub* stub, absl::Duration timeout, Request request,
          void (v1::TaskExecutor::Stub::async_interface::*method)(
              grpc::ClientContext*, const Request*, v1::DeployJobResponse*,
              std::function<void(grpc::Status)>),
          TaskManagerGateway::Done done) {
  CallFor<Request, v1::DeployJobResponse>(
      stub, timeout, std::move(request), method,
      [done = std::move(done)](absl::StatusOr<v1::DeployJobResponse> answer) {
        done(answer.status());
      });
}

v1::JobTasksRequest JobTasks(const std::string& job_id) {
  v1::JobTasksRequest request;
  request.set_job_id(job_id);
  return request;
}

}  // namespace

GrpcTaskManagerGateway::GrpcTaskManagerGateway(const std::string& address, absl::Duration timeout)
    : stub_(v1::TaskExecutor::NewStub(CreateChannel(address, absl::Seconds(2)))),
      timeout_(timeout) {}

void GrpcTaskManagerGateway::DeployTasks(const v1::DeployJobRequest& request, Done done) {
  // Deploying fetches the library and rebuilds the graph: more than one RPC's worth.
  Call(stub_.get(), timeout_ * 6, request, &v1::TaskExecutor::Stub::async_interface::DeployJob,
       std::move(done));
}

void GrpcTaskManagerGateway::StartTasks(const std::string& job_id, Done done) {
  Call(stub_.get(), timeout_, JobTasks(job_id), &v1::TaskExecutor::Stub::async_interface::StartJob,
       std::move(done));
}

void GrpcTaskManagerGateway::CancelTasks(const std::string& job_id,
                                         const std::string& deployment_id, Done done) {
  v1::JobTasksRequest request = JobTasks(job_id);
  request.set_deployment_id(deployment_id);
  Call(stub_.get(), timeout_, request, &v1::TaskExecutor::Stub::async_interface::CancelJob,
       std::move(done));
}

void GrpcTaskManagerGateway::TriggerCheckpoint(const v1::TriggerCheckpointRequest& request,
                                               Done done) {
  Call(stub_.get(), timeout_, request, &v1::TaskExecutor::Stub::async_interface::TriggerCheckpoint,
       std::move(done));
}

void GrpcTaskManagerGateway::NotifyCheckpoint(const v1::NotifyCheckpointRequest& request,
                                              Done done) {
  Call(stub_.get(), timeout_, request, &v1::TaskExecutor::Stub::async_interface::NotifyCheckpoint,
       std::move(done));
}

void GrpcTaskManagerGateway::Heartbeat(const v1::JobMasterHeartbeat& request, HeartbeatDone done) {
  CallFor<v1::JobMasterHeartbeat, v1::JobMasterHeartbeatAnswer>(
      stub_.get(), timeout_, request,
      &v1::TaskExecutor::Stub::async_interface::HeartbeatFromJobMaster, std::move(done));
}

TaskManagerGateway* TaskManagerGatewayCache::At(const std::string& address) {
  absl::MutexLock lock(&mu_);
  auto& gateway = gateways_[address];
  if (!gateway) gateway = std::make_unique<GrpcTaskManagerGateway>(address, timeout_);
  return gateway.get();
}

}  // namespace sluice
