// Where an actor's work runs: a Mailbox thread in the daemons, a queue the
// test thread drains in unit tests (tests/testing/queue_executor.h).
#ifndef SLUICE_COMMON_EXECUTOR_H_
#define SLUICE_COMMON_EXECUTOR_H_

#include <functional>

namespace sluice {

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `task` later, one task at a time, in the order posted.
  virtual void Post(std::function<void()> task) = 0;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_EXECUTOR_H_
