// Exposes this process's CPU time and resident memory as
// sluice_process_cpu_seconds_total and sluice_process_resident_memory_bytes,
// read from /proc at scrape time.
#ifndef SLUICE_COMMON_METRICS_PROCESS_COLLECTOR_H_
#define SLUICE_COMMON_METRICS_PROCESS_COLLECTOR_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace sluice {

class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_METRICS_PROCESS_COLLECTOR_H_
