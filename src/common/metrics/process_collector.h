// Exposes this process with the standard names of Prometheus' client
// libraries — process_cpu_seconds_total, process_resident_memory_bytes,
// process_start_time_seconds, process_open_fds, process_max_fds — read from
// /proc at scrape time, and sluice_build_info{version} (always 1).
#ifndef SLUICE_COMMON_METRICS_PROCESS_COLLECTOR_H_
#define SLUICE_COMMON_METRICS_PROCESS_COLLECTOR_H_

#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace sluice {

class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  // Made with the daemon's metrics endpoint, as it starts.
  const absl::Time started_ = absl::Now();
};

}  // namespace sluice

#endif  // SLUICE_COMMON_METRICS_PROCESS_COLLECTOR_H_
