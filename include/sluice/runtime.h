// What an operator sees of the task it runs in. The engine implements it;
// job code (in a job library) only calls it.
#ifndef SLUICE_RUNTIME_H_
#define SLUICE_RUNTIME_H_

#include <cstdint>
#include <functional>
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
  // Runs `fire` on the task thread once processing time reaches `when_ms`.
  virtual void RegisterTimer(int64_t when_ms, std::function<void()> fire) = 0;
  virtual bool cancelled() const = 0;
  // Where print sinks write (the TaskManager's stdout or log).
  virtual std::ostream& out() = 0;
};

// A sink for serialized record buffers: one channel to one downstream
// subtask. Write blocks while the receiver has no room (backpressure).
class ChannelSink {
 public:
  virtual ~ChannelSink() = default;
  virtual void Write(std::string buffer) = 0;
  virtual void Close() = 0;  // end of partition
  // Share of the channel's buffers in use (queued or in flight), 0..1.
  virtual double usage() const { return 0; }
};

}  // namespace sluice

#endif  // SLUICE_RUNTIME_H_
