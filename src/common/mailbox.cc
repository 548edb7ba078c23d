#include "common/mailbox.h"

#include <utility>

#include "absl/time/clock.h"

namespace sluice {

Mailbox::Mailbox(std::string name) : name_(std::move(name)), thread_([this] { Run(); }) {}

Mailbox::~Mailbox() { Stop(); }

void Mailbox::Post(Task task) {
  absl::MutexLock lock(&mu_);
  if (!stopping_) ready_.push_back(std::move(task));
}

void Mailbox::PostAfter(absl::Duration delay, Task task) {
  absl::MutexLock lock(&mu_);
  if (!stopping_) delayed_.emplace(absl::Now() + delay, std::move(task));
}

void Mailbox::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable() && !IsMailboxThread()) thread_.join();
}

bool Mailbox::HasWork() const {
  return stopping_ || !ready_.empty() ||
         (!delayed_.empty() && delayed_.begin()->first <= absl::Now());
}

void Mailbox::Run() {
  while (true) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      absl::Time deadline = delayed_.empty() ? absl::InfiniteFuture() : delayed_.begin()->first;
      mu_.AwaitWithDeadline(absl::Condition(this, &Mailbox::HasWork), deadline);
      if (stopping_) {
        ready_.clear();
        delayed_.clear();
        return;
      }
      if (!delayed_.empty() && delayed_.begin()->first <= absl::Now()) {
        task = std::move(delayed_.begin()->second);
        delayed_.erase(delayed_.begin());
      } else if (!ready_.empty()) {
        task = std::move(ready_.front());
        ready_.pop_front();
      }
    }
    if (task) task();
  }
}

}  // namespace sluice
