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
                        .Add({})) {
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

}  // namespace sluice
