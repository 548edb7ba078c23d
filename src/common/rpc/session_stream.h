// Client side of a long-lived bidirectional session stream (TaskManager or
// JobManager to ResourceManager), on gRPC's callback API.
//
// Threads: callbacks run on gRPC's threads; Send(), Close() and Cancel() may
// be called from any thread. The owner must call WaitDone() before destroying
// the stream.
#ifndef SLUICE_COMMON_RPC_SESSION_STREAM_H_
#define SLUICE_COMMON_RPC_SESSION_STREAM_H_

#include <grpcpp/client_context.h>
#include <grpcpp/support/client_callback.h>

#include <deque>
#include <functional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace sluice {

template <typename Out, typename In>
class SessionStream final : public grpc::ClientBidiReactor<Out, In> {
 public:
  using StartCallFn = std::function<void(grpc::ClientContext*, grpc::ClientBidiReactor<Out, In>*)>;
  using MessageFn = std::function<void(In)>;
  using DoneFn = std::function<void(const grpc::Status&)>;

  SessionStream(StartCallFn start_call, MessageFn on_message, DoneFn on_done)
      : start_call_(std::move(start_call)),
        on_message_(std::move(on_message)),
        on_done_(std::move(on_done)) {}

  // Opens the stream with `first` as its first message.
  void Start(Out first) {
    start_call_(&context_, this);
    // The hold keeps the call alive for writes started outside reactions; it
    // is released once the stream cannot carry more writes.
    this->AddHold();
    Send(std::move(first));
    this->StartRead(&in_);
    this->StartCall();
  }

  // Queues a message; dropped once the stream has ended.
  void Send(Out message) {
    absl::MutexLock lock(&mu_);
    if (ended_ || closing_) return;
    outbox_.push_back(std::move(message));
    if (!writing_) {
      writing_ = true;
      this->StartWrite(&outbox_.front());
    }
  }

  // Half-closes after the queued messages are written.
  void Close() {
    absl::MutexLock lock(&mu_);
    if (ended_ || closing_) return;
    closing_ = true;
    if (!writing_) {
      writing_ = true;
      this->StartWritesDone();
    }
  }

  // Ends the stream at once; the server sees it broken.
  void Cancel() { context_.TryCancel(); }

  void WaitDone() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
  }

 private:
  void OnReadDone(bool ok) override {
    if (!ok) {
      absl::MutexLock lock(&mu_);
      ended_ = true;
      MaybeReleaseHold();
      return;
    }
    on_message_(std::move(in_));
    in_.Clear();
    this->StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    outbox_.pop_front();
    if (!ok) ended_ = true;
    if (!ended_ && !outbox_.empty()) {
      this->StartWrite(&outbox_.front());
    } else if (!ended_ && closing_) {
      this->StartWritesDone();
    } else {
      writing_ = false;
      MaybeReleaseHold();
    }
  }

  void OnWritesDoneDone(bool) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    ended_ = true;
    MaybeReleaseHold();
  }

  void OnDone(const grpc::Status& status) override {
    on_done_(status);
    absl::MutexLock lock(&mu_);
    done_ = true;
  }

  void MaybeReleaseHold() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ended_ && !writing_ && !hold_released_) {
      hold_released_ = true;
      this->RemoveHold();
    }
  }

  StartCallFn start_call_;
  MessageFn on_message_;
  DoneFn on_done_;
  grpc::ClientContext context_;
  In in_;
  absl::Mutex mu_;
  std::deque<Out> outbox_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool hold_released_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_RPC_SESSION_STREAM_H_
