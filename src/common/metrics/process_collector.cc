#include "common/metrics/process_collector.h"

#include "common/process_stats.h"

namespace sluice {
namespace {

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return prometheus::MetricFamily{name, help, type, {metric}};
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  ProcessUsage usage = ReadProcessUsage();
  return {
      Family("sluice_process_cpu_seconds_total", "User and system CPU time of this process.",
             prometheus::MetricType::Counter, usage.cpu_seconds),
      Family("sluice_process_resident_memory_bytes", "Resident memory of this process.",
             prometheus::MetricType::Gauge, static_cast<double>(usage.resident_memory_bytes)),
  };
}

}  // namespace sluice
