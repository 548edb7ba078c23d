// Protobuf messages as JSON with proto field names and every field present,
// for the CLI's --output json and the REST API.
#ifndef SLUICE_COMMON_RPC_PROTO_JSON_H_
#define SLUICE_COMMON_RPC_PROTO_JSON_H_

#include <google/protobuf/message.h>

#include <string>

namespace sluice {

std::string ToJson(const google::protobuf::Message& message, bool pretty = false);

}  // namespace sluice

#endif  // SLUICE_COMMON_RPC_PROTO_JSON_H_
