#include "resourcemanager/rm_metrics.h"

namespace sluice {
namespace {

prometheus::Family<prometheus::Gauge>& GaugeFamily(prometheus::Registry& registry,
                                                   const std::string& name,
                                                   const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

}  // namespace

ResourceManagerMetrics::ResourceManagerMetrics(prometheus::Registry& registry)
    : task_managers_(GaugeFamily(registry, "sluice_resourcemanager_taskmanagers",
                                 "TaskManagers registered with the ResourceManager.")
                         .Add({})),
      slots_(GaugeFamily(registry, "sluice_resourcemanager_slots",
                         "Slots of registered TaskManagers by state.")),
      capacity_(GaugeFamily(registry, "sluice_resourcemanager_resource_capacity",
                            "Resources offered by registered TaskManagers (cpu in cores, "
                            "memory in bytes, network in bytes/s, extended in units).")),
      used_(GaugeFamily(registry, "sluice_resourcemanager_resource_used",
                        "Resources held by allocated slots, in the units of _capacity.")),
      utilization_(registry),
      lost_(prometheus::BuildCounter()
                .Name("sluice_resourcemanager_taskmanagers_lost_total")
                .Help("TaskManagers declared lost, by reason.")
                .Register(registry)),
      registrations_(prometheus::BuildCounter()
                         .Name("sluice_resourcemanager_taskmanager_registrations_total")
                         .Help("Accepted TaskManager registrations.")
                         .Register(registry)
                         .Add({})),
      refused_(prometheus::BuildCounter()
                   .Name("sluice_resourcemanager_taskmanager_registrations_refused_total")
                   .Help("Refused TaskManager registrations (duplicate id, bad request).")
                   .Register(registry)
                   .Add({})),
      heartbeat_interval_(
          prometheus::BuildHistogram()
              .Name("sluice_resourcemanager_heartbeat_interval_seconds")
              .Help("Time between consecutive heartbeats of one TaskManager.")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.1, 0.25, 0.5, 0.75, 0.9, 1, 1.1,
                                                               1.25, 1.5, 2, 3, 5, 10, 30})),
      job_managers_(GaugeFamily(registry, "sluice_resourcemanager_jobmanagers",
                                "JobManagers registered with the ResourceManager.")
                        .Add({})),
      tenant_slots_(GaugeFamily(registry, "sluice_resourcemanager_tenant_slots",
                                "Slots held by each tenant's jobs.")),
      tenant_held_(GaugeFamily(registry, "sluice_resourcemanager_tenant_resource_held",
                               "Resources of the slots each tenant holds (cpu in cores, memory "
                               "in bytes).")),
      tenant_share_(GaugeFamily(registry, "sluice_resourcemanager_tenant_dominant_share",
                                "Each tenant's dominant share of the cluster divided by its "
                                "weight (what fair sharing equalizes).")),
      tenant_waiting_(GaugeFamily(registry, "sluice_resourcemanager_tenant_waiting_requests",
                                  "Jobs of each tenant waiting for slots.")),
      tenant_oldest_wait_(
          GaugeFamily(registry, "sluice_resourcemanager_tenant_oldest_waiting_request_seconds",
                      "Age of each tenant's oldest waiting request.")),
      job_slots_(
          GaugeFamily(registry, "sluice_resourcemanager_job_slots", "Slots held by each job.")),
      job_held_(GaugeFamily(registry, "sluice_resourcemanager_job_resource_held",
                            "Resources of the slots each job holds.")),
      waiting_requests_(GaugeFamily(registry, "sluice_resourcemanager_waiting_requests",
                                    "Jobs waiting for slots.")
                            .Add({})),
      allocation_latency_(
          prometheus::BuildHistogram()
              .Name("sluice_resourcemanager_slot_allocation_latency_seconds")
              .Help("Time from a job's declaration to its first grant of slots.")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.001, 0.01, 0.1, 1, 10, 60,
                                                               300})),
      preemptions_(prometheus::BuildCounter()
                       .Name("sluice_resourcemanager_preemptions_total")
                       .Help("Slots taken from a running job for one of higher priority, by "
                             "the victim's tenant.")
                       .Register(registry)) {
  // Both reasons exist from the start, so rate() works before the first loss.
  lost_.Add({{"reason", "stream_broken"}});
  lost_.Add({{"reason", "heartbeat_timeout"}});
}

void ResourceManagerMetrics::Publish(const ClusterOverview& overview) {
  task_managers_.Set(overview.totals.task_managers);
  slots_.Add({{"state", "free"}}).Set(overview.totals.slots_free);
  slots_.Add({{"state", "allocated"}})
      .Set(overview.totals.slots_total - overview.totals.slots_free);
  for (const auto& u : overview.utilization) {
    capacity_.Add({{"resource", u.resource}}).Set(u.capacity);
    used_.Add({{"resource", u.resource}}).Set(u.used);
  }
  utilization_.Publish(overview.utilization);
}

void ResourceManagerMetrics::TaskManagerLost(RemovalReason reason) {
  if (reason == RemovalReason::kReplaced) return;  // a restart, counted as a registration
  lost_.Add({{"reason", RemovalReasonName(reason)}}).Increment();
}

void ResourceManagerMetrics::HeartbeatReceived(absl::Duration since_previous) {
  heartbeat_interval_.Observe(absl::ToDoubleSeconds(since_previous));
}

void ResourceManagerMetrics::PublishAllocation(const std::vector<TenantView>& tenants,
                                               const std::vector<JobView>& jobs,
                                               const std::vector<WaitingRequest>& waiting,
                                               absl::Time now) {
  std::map<std::string, double> oldest;
  for (const auto& w : waiting) {
    oldest[w.tenant] = std::max(oldest[w.tenant], absl::ToDoubleSeconds(now - w.since));
  }
  for (const auto& t : tenants) {
    tenant_slots_.Add({{"tenant", t.name}}).Set(t.slots);
    tenant_held_.Add({{"tenant", t.name}, {"resource", "cpu"}}).Set(t.held.cpu_cores);
    tenant_held_.Add({{"tenant", t.name}, {"resource", "memory"}})
        .Set(static_cast<double>(t.held.memory_bytes));
    tenant_share_.Add({{"tenant", t.name}}).Set(t.dominant_share);
    tenant_waiting_.Add({{"tenant", t.name}}).Set(t.waiting_jobs);
    tenant_oldest_wait_.Add({{"tenant", t.name}}).Set(oldest[t.name]);
  }
  waiting_requests_.Set(static_cast<double>(waiting.size()));
  std::map<std::string, JobSeries> present;
  for (const auto& j : jobs) {
    JobSeries series{&job_slots_.Add({{"job_id", j.job_id}, {"tenant", j.tenant}}),
                     &job_held_.Add({{"job_id", j.job_id}, {"resource", "cpu"}}),
                     &job_held_.Add({{"job_id", j.job_id}, {"resource", "memory"}})};
    series.slots->Set(j.slots);
    series.cpu->Set(j.held.cpu_cores);
    series.memory->Set(static_cast<double>(j.held.memory_bytes));
    present.emplace(j.job_id, series);
  }
  // Jobs that ended leave no stale series behind.
  for (const auto& [job, series] : job_series_) {
    if (present.count(job)) continue;
    job_slots_.Remove(series.slots);
    job_held_.Remove(series.cpu);
    job_held_.Remove(series.memory);
  }
  job_series_ = std::move(present);
}

void ResourceManagerMetrics::Preempted(const std::string& tenant) {
  preemptions_.Add({{"tenant", tenant}}).Increment();
}

}  // namespace sluice
