#include "resourcemanager/rm_convert.h"

#include "common/rpc/proto_convert.h"

namespace sluice {

TaskManagerInfo FromProto(const v1::RegisterTaskManager& message) {
  TaskManagerInfo info;
  info.id = message.task_manager_id();
  info.rpc_address = message.rpc_address();
  info.data_port = message.data_port();
  info.hostname = message.hostname();
  info.total = FromProto(message.total_resources());
  info.slots = FromProto(message.slots());
  return info;
}

JobManagerInfo FromProto(const v1::RegisterJobManager& message) {
  return JobManagerInfo{message.job_manager_id(), message.rpc_address(), message.rest_address()};
}

void ToProto(const ClusterOverview& overview, v1::ClusterOverview* out) {
  out->set_task_managers(overview.totals.task_managers);
  out->set_slots_total(overview.totals.slots_total);
  out->set_slots_free(overview.totals.slots_free);
  out->set_task_managers_lost_total(overview.task_managers_lost_total);
  for (const auto& u : overview.utilization) {
    auto* resource = out->add_resources();
    resource->set_resource(u.resource);
    resource->set_capacity(u.capacity);
    resource->set_used(u.used);
    resource->set_utilization_percent(u.percent);
  }
}

namespace {

void ToProto(const TaskManagerRecord& record, absl::Time now, v1::TaskManagerStatus* out) {
  out->set_id(record.info.id);
  out->set_rpc_address(record.info.rpc_address);
  out->set_data_port(record.info.data_port);
  out->set_hostname(record.info.hostname);
  ToProto(record.info.total, out->mutable_total_resources());
  ToProto(record.info.total - record.used, out->mutable_free_resources());
  out->set_slots_total(static_cast<int>(record.info.slots.size()));
  out->set_slots_free(record.free_slots);
  for (const auto& slot : record.info.slots) ToProto(slot, out->add_slots());
  out->set_last_heartbeat_age_seconds(absl::ToDoubleSeconds(now - record.last_heartbeat));
  out->set_registered_seconds_ago(absl::ToDoubleSeconds(now - record.registered_at));
  ToProto(record.usage, out->mutable_usage());
}

}  // namespace

void ToProto(const ClusterStatusSnapshot& snapshot, v1::ClusterStatus* out) {
  for (const auto& record : snapshot.task_managers) {
    ToProto(record, snapshot.taken_at, out->add_task_managers());
  }
  ToProto(snapshot.overview, out->mutable_overview());
  out->set_job_managers(snapshot.job_managers);
  out->set_resource_manager_id(snapshot.resource_manager_id);
}

}  // namespace sluice
