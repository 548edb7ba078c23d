// What user code sees of the subtask it runs in (Flink's RuntimeContext).
// The engine implements it; job code only calls it.
#ifndef SLUICE_RUNTIME_H_
#define SLUICE_RUNTIME_H_

#include <cstdint>
#include <ostream>
#include <string>

namespace sluice {

class TaskRuntime {
 public:
  virtual ~TaskRuntime() = default;
  virtual int subtask() const = 0;  // 0-based
  virtual int parallelism() const = 0;
  virtual int max_parallelism() const = 0;
  virtual const std::string& task_name() const = 0;
  // Processing time in milliseconds since the epoch.
  virtual int64_t NowMs() const = 0;
  virtual bool cancelled() const = 0;
  // Where print sinks write (the TaskManager's stdout or log).
  virtual std::ostream& out() = 0;
};

}  // namespace sluice

#endif  // SLUICE_RUNTIME_H_
