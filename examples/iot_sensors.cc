// IoT sensors: per-sensor running min / max / average of generated readings,
// and an alert whenever a reading leaves the band [--low, --high].
//
//   sluice run --local -c IotSensors libsluice_examples.so --
//       [--readings 100000] [--sensors 50] [--low -10] [--high 40] [--output <dir>]
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

#include "sluice/parameter_tool.h"
#include "sluice/sluice.h"

struct Reading {
  std::string sensor;
  double value = 0;
  int64_t sequence = 0;
};
SLUICE_SERIALIZABLE(Reading, sensor, value, sequence);

struct SensorReport {
  std::string sensor;
  double min = 0;
  double max = 0;
  double average = 0;
  int64_t count = 0;
  bool alert = false;
  double value = 0;
};
SLUICE_SERIALIZABLE(SensorReport, sensor, min, max, average, count, alert, value);

inline std::ostream& operator<<(std::ostream& os, const SensorReport& r) {
  if (r.alert) os << "ALERT ";
  return os << r.sensor << " value=" << r.value << " min=" << r.min << " max=" << r.max
            << " avg=" << r.average << " n=" << r.count;
}

namespace {

struct Stats {
  double min = 0, max = 0, sum = 0;
  int64_t count = 0;
};
SLUICE_SERIALIZABLE(Stats, min, max, sum, count);

class SensorMonitor final
    : public sluice::KeyedProcessFunction<std::string, Reading, SensorReport> {
 public:
  SensorMonitor(double low, double high) : low_(low), high_(high) {}
  void Open(sluice::KeyedContext<std::string>& ctx) override {
    stats_ = &ctx.GetState(sluice::ValueStateDescriptor<Stats>("stats"));
  }
  void ProcessElement(const Reading& r, sluice::KeyedContext<std::string>&,
                      sluice::Collector<SensorReport>& out) override {
    Stats s = stats_->value().value_or(Stats{r.value, r.value, 0, 0});
    s.min = std::min(s.min, r.value);
    s.max = std::max(s.max, r.value);
    s.sum += r.value;
    ++s.count;
    stats_->update(s);
    bool alert = r.value < low_ || r.value > high_;
    out.Collect(SensorReport{r.sensor, s.min, s.max, s.sum / s.count, s.count, alert, r.value});
  }

 private:
  double low_, high_;
  sluice::ValueState<Stats>* stats_ = nullptr;
};

// Readings around 20 degrees with a daily-like swing; every 997th reading of
// a sensor spikes far outside any sane band.
struct ReadingGenerator {
  int64_t sensors;
  Reading operator()(int64_t i) const {
    int64_t sensor = i % sensors;
    int64_t n = i / sensors;
    double value =
        20.0 + 10.0 * std::sin(static_cast<double>(n) / 50.0 + static_cast<double>(sensor));
    if (n % 997 == 996) value = 85.0;
    return Reading{"sensor-" + std::to_string(sensor), value, i};
  }
};

}  // namespace

SLUICE_JOB(IotSensors) {
  auto flags = sluice::ParameterTool::FromArgs(args);
  double low = flags.GetDouble("low", -10), high = flags.GetDouble("high", 40);
  auto reports =
      env.Generate(ReadingGenerator{static_cast<int64_t>(flags.GetDouble("sensors", 50))},
                   static_cast<int64_t>(flags.GetDouble("readings", 100000)),
                   flags.GetDouble("rate", 0))
          .Name("Readings")
          .KeyBy([](const Reading& r) { return r.sensor; })
          .Process<SensorMonitor>(
              [low, high] { return std::make_unique<SensorMonitor>(low, high); }, "SensorMonitor");
  std::string output = flags.Get("output", "");
  auto alerts = reports.Filter([](const SensorReport& r) { return r.alert; }).Name("Alerts");
  if (output.empty()) {
    alerts.Print().Name("PrintAlerts");
  } else {
    alerts.WriteAsText(output).Name("AlertFiles");
  }
}
