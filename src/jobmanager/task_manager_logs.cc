#include "jobmanager/task_manager_logs.h"

#include <grpcpp/grpcpp.h>

#include "absl/time/clock.h"
#include "common/rpc/channel.h"
#include "common/rpc/grpc_status.h"
#include "sluice/v1/taskmanager.grpc.pb.h"

namespace sluice {
namespace {

// One call on a channel of its own: logs are asked rarely, by people.
template <typename Request, typename Response>
absl::StatusOr<Response> Ask(const std::string& address, absl::Duration timeout,
                             const Request& request,
                             grpc::Status (v1::TaskExecutor::Stub::*method)(grpc::ClientContext*,
                                                                            const Request&,
                                                                            Response*)) {
  auto stub = v1::TaskExecutor::NewStub(CreateChannel(address, timeout));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  Response response;
  grpc::Status status = (stub.get()->*method)(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

}  // namespace

absl::StatusOr<v1::LogList> ListTaskManagerLogs(const std::string& address,
                                                absl::Duration timeout) {
  return Ask(address, timeout, v1::ListLogsRequest{}, &v1::TaskExecutor::Stub::ListLogs);
}

absl::StatusOr<std::string> ReadTaskManagerLog(const std::string& address, const std::string& name,
                                               int64_t max_bytes, absl::Duration timeout) {
  v1::ReadLogRequest request;
  request.set_name(name);
  request.set_max_bytes(max_bytes);
  auto content = Ask(address, timeout, request, &v1::TaskExecutor::Stub::ReadLog);
  if (!content.ok()) return content.status();
  return std::move(*content->mutable_data());
}

}  // namespace sluice
