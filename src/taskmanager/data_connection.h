// The sending end of one TaskManager-to-TaskManager data connection: all
// channels from this TaskManager to one other, of every job, share it. Task
// threads write their buffers straight to the socket; a reader thread takes
// the credits the receiver returns.
//
// A buffer that finds no credit is not waited on at once: it joins the
// stream's pending buffer (records are length-prefixed, so buffers
// concatenate) until that holds kCoalesceBytes, and goes out with the next
// credit. Small buffers flushed one record at a time (buffer timeout 0)
// thus cost one frame per credit, not per record, while memory per stream
// stays bounded.
#ifndef SLUICE_TASKMANAGER_DATA_CONNECTION_H_
#define SLUICE_TASKMANAGER_DATA_CONNECTION_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/net/tcp.h"
#include "engine/channel.h"
#include "taskmanager/data_protocol.h"

namespace sluice {

// Thrown out of a send that gave up because its job is being cancelled.
struct SendCancelled {};

class DataConnection {
 public:
  // Connects to the data port at `address` and introduces this TaskManager
  // (and, from a job process, its job).
  static absl::StatusOr<std::unique_ptr<DataConnection>> Open(const std::string& address,
                                                              const data::Hello& self,
                                                              absl::Duration timeout,
                                                              data::Traffic* traffic);
  ~DataConnection();  // closes the socket and joins the reader

  // A new stream for `channel` of `job`; returns its id.
  uint32_t OpenStream(const std::string& job, int channel);
  // Sends with credit, or adds to the pending buffer; blocks while that is
  // full (backpressure). Throws SendCancelled once `cancelled` is
  // set, std::runtime_error if the connection broke.
  void Send(uint32_t stream, std::string buffer, const std::atomic<bool>* cancelled);
  // An unaligned checkpoint barrier: after what is pending and `data`, in a
  // frame that needs no credit (kPriority).
  void SendPriority(uint32_t stream, std::string data, const engine::ChannelEvent& barrier,
                    const std::atomic<bool>* cancelled);
  // End of partition, after everything pending.
  void End(uint32_t stream, const std::atomic<bool>* cancelled);
  // The stream's job is gone; the receiver forgets it too.
  void CloseStream(uint32_t stream);
  bool broken() const;
  // The stream's unused credits, and the bytes waiting for one.
  int credits(uint32_t stream) const;
  size_t pending_bytes(uint32_t stream) const;
  // Returns once nothing of the stream waits for credit, or after `at_most`.
  void AwaitNothingPending(uint32_t stream, absl::Duration at_most) const;
  const std::string& address() const { return address_; }

  static constexpr size_t kCoalesceBytes = 32 << 10;
  // A frame that makes no progress this long means the receiver is gone or
  // stuck: the connection is given up (and, while its job is being
  // cancelled, after a second).
  static constexpr absl::Duration kWriteStallLimit = absl::Seconds(30);

 private:
  struct Stream {
    int credits = 0;
    std::string pending;   // buffers waiting for a credit, concatenated
    bool sending = false;  // a thread is writing this stream's frame
  };
  // Sends the pending buffer while there is credit; one thread at a time per
  // stream, so frames keep their order.
  void SendPending(uint32_t stream, const std::atomic<bool>* cancelled)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits (re-checking `cancelled` every 50 ms) until `ready` or broken.
  void AwaitOrThrow(const std::function<bool()>& ready, const std::atomic<bool>* cancelled)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  DataConnection(std::string address, net::Fd fd, data::Traffic* traffic);
  void ReadCredits();
  // Writes one frame; on failure the connection is broken and this throws.
  void Write(data::FrameType type, uint32_t stream, const std::string* payload,
             const std::atomic<bool>* cancelled);
  // Marks the connection broken (false if it already was) and ends it.
  bool Break(const std::string& reason);
  [[noreturn]] void ThrowBroken();
  std::runtime_error BrokenError(const std::string& reason) const;

  const std::string address_;
  const net::Fd fd_;
  data::Traffic* const traffic_;
  std::thread reader_;
  absl::Mutex write_mu_;  // one frame at a time on the socket
  mutable absl::Mutex mu_;
  std::map<uint32_t, Stream> streams_ ABSL_GUARDED_BY(mu_);
  uint32_t next_stream_ ABSL_GUARDED_BY(mu_) = 1;
  std::string broken_ ABSL_GUARDED_BY(mu_);  // why, once broken
};

}  // namespace sluice

#endif  // SLUICE_TASKMANAGER_DATA_CONNECTION_H_
