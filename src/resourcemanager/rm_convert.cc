#include "resourcemanager/rm_convert.h"

#include "absl/strings/str_cat.h"
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
  info.tenant = message.tenant();
  return info;
}

SlotRequestAnswer FromProto(const v1::SlotRequestResult& message) {
  return SlotRequestAnswer{message.allocation_id(), message.accepted(), message.occupant_job_id(),
                           message.occupant_allocation_id(), message.slot_report_version()};
}

absl::StatusOr<JobDeclaration> FromProto(const v1::DeclareResources& message) {
  JobDeclaration d;
  d.job_id = message.job_id();
  d.tenant = message.tenant();
  d.token = message.token();
  d.priority = message.priority();
  d.min_task_managers = message.min_task_managers();
  if (!message.placement().empty()) {
    d.placement = ParsePlacement(message.placement());
    if (!d.placement) {
      return absl::InvalidArgumentError(absl::StrCat("job '", d.job_id, "': unknown placement '",
                                                     message.placement(),
                                                     "' (expected spread or pack)"));
    }
  }
  for (const auto& r : message.requirements()) {
    d.requirements.push_back({FromProto(r.profile()), r.desired(), r.min()});
  }
  return d;
}

void ToProto(const SlotGrant& grant, const std::string& job_master_address, v1::SlotRequest* out) {
  out->set_allocation_id(grant.allocation_id);
  out->set_slot_index(grant.slot_index);
  out->set_job_id(grant.job_id);
  out->set_job_master_address(job_master_address);
  ToProto(grant.profile, out->mutable_profile());
}

void ToProto(const SlotManagerEffects::Revocation& revocation, v1::SlotRevoked* out) {
  out->set_allocation_id(revocation.slot.allocation_id);
  out->set_job_id(revocation.slot.job_id);
  out->set_task_manager_id(revocation.slot.task_manager);
  out->set_slot_index(revocation.slot.slot_index);
  out->set_reason(revocation.reason);
  out->set_preempted(revocation.preempted);
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
  ResourceProfile free = record.info.total;
  int free_slots = 0;
  for (const auto& slot : record.info.slots) {
    ToProto(slot, out->add_slots());
    if (slot.IsFree()) {
      ++free_slots;
    } else {
      free -= slot.profile;
    }
  }
  ToProto(free, out->mutable_free_resources());
  out->set_slots_total(static_cast<int>(record.info.slots.size()));
  out->set_slots_free(free_slots);
  out->set_tenant(record.info.tenant);
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
  out->set_scheduler(snapshot.scheduler);
  for (const auto& t : snapshot.tenants) {
    auto* tenant = out->add_tenants();
    tenant->set_name(t.name);
    tenant->set_weight(t.weight);
    tenant->set_quota(t.quota);
    tenant->set_slots(t.slots);
    ToProto(t.held, tenant->mutable_held());
    tenant->set_dominant_share(t.dominant_share);
    tenant->set_waiting_jobs(t.waiting_jobs);
  }
  for (const auto& w : snapshot.waiting) {
    auto* waiting = out->add_waiting();
    waiting->set_job_id(w.job_id);
    waiting->set_tenant(w.tenant);
    waiting->set_priority(w.priority);
    waiting->set_missing_slots(w.missing_slots);
    waiting->set_waiting_seconds(absl::ToDoubleSeconds(snapshot.taken_at - w.since));
    waiting->set_reason(w.reason);
  }
}

}  // namespace sluice
