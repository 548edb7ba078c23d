#include "common/rpc/proto_convert.h"

namespace sluice {

void ToProto(const ResourceProfile& profile, v1::ResourceProfile* out) {
  out->set_cpu_cores(profile.cpu_cores);
  out->set_memory_bytes(profile.memory_bytes);
  out->set_network_bytes_per_second(profile.network_bytes_per_second);
  for (const auto& [name, amount] : profile.extended) (*out->mutable_extended())[name] = amount;
}

ResourceProfile FromProto(const v1::ResourceProfile& profile) {
  ResourceProfile out;
  out.cpu_cores = profile.cpu_cores();
  out.memory_bytes = profile.memory_bytes();
  out.network_bytes_per_second = profile.network_bytes_per_second();
  for (const auto& [name, amount] : profile.extended()) out.extended[name] = amount;
  return out;
}

void ToProto(const SlotState& slot, v1::SlotStatus* out) {
  out->set_index(slot.index);
  ToProto(slot.profile, out->mutable_profile());
  out->set_job_id(slot.job_id);
  out->set_allocation_id(slot.allocation_id);
}

SlotState FromProto(const v1::SlotStatus& slot) {
  return SlotState{slot.index(), FromProto(slot.profile()), slot.job_id(), slot.allocation_id()};
}

std::vector<SlotState> FromProto(const google::protobuf::RepeatedPtrField<v1::SlotStatus>& slots) {
  std::vector<SlotState> out;
  out.reserve(slots.size());
  for (const auto& slot : slots) out.push_back(FromProto(slot));
  return out;
}

void ToProto(const ProcessUsage& usage, v1::ProcessUsage* out) {
  out->set_cpu_seconds(usage.cpu_seconds);
  out->set_resident_memory_bytes(usage.resident_memory_bytes);
}

ProcessUsage FromProto(const v1::ProcessUsage& usage) {
  return ProcessUsage{usage.cpu_seconds(), usage.resident_memory_bytes()};
}

}  // namespace sluice
