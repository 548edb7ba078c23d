// Per-job metrics of the JobManager, read at scrape time: state, uptime and
// running tasks, labelled with job id and name.
#ifndef SLUICE_JOBMANAGER_JOB_METRICS_H_
#define SLUICE_JOBMANAGER_JOB_METRICS_H_

#include <vector>

#include "jobmanager/dispatcher.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace sluice {

class JobMetrics final : public prometheus::Collectable {
 public:
  explicit JobMetrics(Dispatcher* dispatcher) : dispatcher_(dispatcher) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Dispatcher* dispatcher_;
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_JOB_METRICS_H_
