// An Executor for unit tests: posted work waits in a queue until the test
// thread runs it, so an actor is driven step by step in one thread.
#ifndef SLUICE_TESTS_TESTING_QUEUE_EXECUTOR_H_
#define SLUICE_TESTS_TESTING_QUEUE_EXECUTOR_H_

#include <deque>
#include <functional>
#include <mutex>

#include "common/executor.h"

namespace sluice::testing {

class QueueExecutor final : public Executor {
 public:
  void Post(std::function<void()> task) override {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
  }
  // Runs queued work, including what it posts, until none is left; returns
  // how many tasks ran.
  int RunUntilIdle() {
    int ran = 0;
    while (true) {
      std::function<void()> task;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (queue_.empty()) return ran;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
      ++ran;
    }
  }

 private:
  std::mutex mu_;
  std::deque<std::function<void()>> queue_;
};

}  // namespace sluice::testing

#endif  // SLUICE_TESTS_TESTING_QUEUE_EXECUTOR_H_
