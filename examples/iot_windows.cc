// IoT sensor aggregation in event time: per sensor and minute of the
// sensors' own clock, the count, min, max and average of its readings, with
// late data. Readings come in order, except that every 50th was buffered on
// its device and arrives 20 s late — within the allowed lateness of 30 s, so
// its window fires again with it — and every 173rd is 10 minutes stale and is
// dropped (counted in sluice_task_late_records_dropped_total). The last line
// of a (sensor, window) is its complete result.
//
//   sluice run --local -c IotSensorWindows libsluice_examples.so --
//       [--readings 100000] [--sensors 20] [--output <dir>]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "sluice/parameter_tool.h"
#include "sluice/sluice.h"

namespace {

constexpr int64_t kStart = 1'700'000'000'000;  // the sensors' clock at reading 0

struct TimedReading {
  std::string sensor;
  int64_t at = 0;  // event time, ms
  double value = 0;
};
SLUICE_SERIALIZABLE(TimedReading, sensor, at, value);

// Reading i: sensor i % sensors, one per second per sensor; every 50th 20 s
// late, every 173rd 10 minutes late.
struct Readings {
  int64_t sensors;
  TimedReading operator()(int64_t i) const {
    int64_t at = kStart + (i / sensors) * 1000;
    if (i % 173 == 172) {
      at -= 600'000;
    } else if (i % 50 == 49) {
      at -= 20'000;
    }
    const double value = 20.0 + static_cast<double>((i * 7919) % 200) / 10.0;
    return TimedReading{"sensor-" + std::to_string(i % sensors), at, value};
  }
};

// The devices' clocks are in order up to 5 s: after each reading, event
// time is its time minus that (a punctuated generator: the watermark goes
// with the reading, not at the next periodic emission).
class DeviceClock final : public sluice::WatermarkGenerator<TimedReading> {
 public:
  void OnEvent(const TimedReading&, int64_t at, sluice::WatermarkOutput& out) override {
    max_ = std::max(max_, at);
    out.EmitWatermark(max_ - 5000 - 1);
  }
  void OnPeriodicEmit(sluice::WatermarkOutput&) override {}

 private:
  int64_t max_ = kStart;
};

struct Summary {
  int64_t count = 0;
  double min = 0, max = 0, sum = 0;
};
SLUICE_SERIALIZABLE(Summary, count, min, max, sum);

struct Summarize {
  Summary CreateAccumulator() const { return {}; }
  Summary Add(const TimedReading& r, Summary s) const {
    s.min = s.count == 0 ? r.value : std::min(s.min, r.value);
    s.max = s.count == 0 ? r.value : std::max(s.max, r.value);
    s.sum += r.value;
    ++s.count;
    return s;
  }
  Summary GetResult(const Summary& s) const { return s; }
};

}  // namespace

SLUICE_JOB(IotSensorWindows) {
  auto flags = sluice::ParameterTool::FromArgs(args);
  auto summaries =
      env.Generate(Readings{static_cast<int64_t>(flags.GetDouble("sensors", 20))},
                   static_cast<int64_t>(flags.GetDouble("readings", 100000)))
          .Name("Readings")
          .SetParallelism(1)  // one gateway: the devices' clocks, in its order
          .AssignTimestampsAndWatermarks(
              sluice::WatermarkStrategy<TimedReading>::ForGenerator([] {
                return std::make_unique<DeviceClock>();
              }).WithTimestampAssigner([](const TimedReading& r) { return r.at; }))
          .SetParallelism(1)
          .KeyBy([](const TimedReading& r) { return r.sensor; })
          .Window(sluice::TumblingEventTimeWindows::Of(std::chrono::minutes(1)))
          .AllowedLateness(std::chrono::seconds(30))
          .Aggregate(Summarize{}, [](const std::string& sensor, const sluice::TimeWindow& w,
                                     const Summary& s, sluice::Collector<std::string>& out) {
            std::ostringstream line;
            line << sensor << " " << w.start << " " << s.count << " " << s.min << " " << s.max
                 << " " << s.sum / static_cast<double>(s.count);
            out.Collect(line.str());
          });
  std::string output = flags.Get("output", "");
  if (output.empty()) {
    summaries.Print().Name("PrintSummaries");
  } else {
    summaries.WriteAsText(output).Name("SummaryFiles");
  }
}
