// Proto <-> domain conversion for the types every component shares.
#ifndef SLUICE_COMMON_RPC_PROTO_CONVERT_H_
#define SLUICE_COMMON_RPC_PROTO_CONVERT_H_

#include <vector>

#include "common/process_stats.h"
#include "common/resource_profile.h"
#include "common/slot.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "sluice/v1/resources.pb.h"

namespace sluice {

void ToProto(const ResourceProfile& profile, v1::ResourceProfile* out);
ResourceProfile FromProto(const v1::ResourceProfile& profile);

void ToProto(const SlotState& slot, v1::SlotStatus* out);
SlotState FromProto(const v1::SlotStatus& slot);
std::vector<SlotState> FromProto(const google::protobuf::RepeatedPtrField<v1::SlotStatus>& slots);

void ToProto(const ProcessUsage& usage, v1::ProcessUsage* out);
ProcessUsage FromProto(const v1::ProcessUsage& usage);

}  // namespace sluice

#endif  // SLUICE_COMMON_RPC_PROTO_CONVERT_H_
