// A single thread that runs posted tasks one at a time, in order, plus
// delayed tasks. A component's mutable state belongs to its mailbox thread
// (like Flink's RPC endpoint main thread): gRPC handlers post work here, so the
// bookkeeping code needs no locks.
#ifndef SLUICE_COMMON_MAILBOX_H_
#define SLUICE_COMMON_MAILBOX_H_

#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/executor.h"

namespace sluice {

class Mailbox final : public Executor {
 public:
  using Task = std::function<void()>;

  explicit Mailbox(std::string name);
  ~Mailbox() override;  // Stop()s and joins.
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Runs `task` on the mailbox thread. Dropped once Stop() was called.
  void Post(Task task) override;
  // Runs `task` on the mailbox thread after `delay` of real time.
  void PostAfter(absl::Duration delay, Task task);
  // Runs `fn` on the mailbox thread and returns its result as a future.
  template <typename F>
  auto Ask(F fn) -> std::future<std::invoke_result_t<F>> {
    using R = std::invoke_result_t<F>;
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    Post([promise, fn = std::move(fn)]() mutable {
      if constexpr (std::is_void_v<R>) {
        fn();
        promise->set_value();
      } else {
        promise->set_value(fn());
      }
    });
    return future;
  }
  // Finishes the task that runs now, drops the rest, joins the thread.
  void Stop();
  bool IsMailboxThread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  void Run();
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  mutable absl::Mutex mu_;
  std::deque<Task> ready_ ABSL_GUARDED_BY(mu_);
  std::multimap<absl::Time, Task> delayed_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_MAILBOX_H_
