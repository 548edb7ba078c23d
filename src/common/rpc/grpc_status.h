// absl::Status <-> grpc::Status. Both use the same canonical codes.
#ifndef SLUICE_COMMON_RPC_GRPC_STATUS_H_
#define SLUICE_COMMON_RPC_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace sluice {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace sluice

#endif  // SLUICE_COMMON_RPC_GRPC_STATUS_H_
