// Server side of one session stream, on gRPC's callback API. Incoming
// messages are handed to the ResourceManager (which posts them to its
// mailbox); the ResourceManager answers through the session's Handle, which
// goes inert once the stream has ended.
#ifndef SLUICE_RESOURCEMANAGER_SERVER_SESSION_H_
#define SLUICE_RESOURCEMANAGER_SERVER_SESSION_H_

#include <grpcpp/support/server_callback.h>

#include <deque>
#include <functional>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "resourcemanager/task_manager_registry.h"

namespace sluice {

template <typename Out>
class SessionHandle {
 public:
  virtual ~SessionHandle() = default;
  // Queues a message; dropped once the stream ends or is closing.
  virtual void Send(Out message) = 0;
  // Ends the stream with `status` after the queued messages.
  virtual void Close(grpc::Status status) = 0;
};

template <typename In, typename Out>
class ServerSession final : public grpc::ServerBidiReactor<In, Out> {
 public:
  using Handle = SessionHandle<Out>;
  using MessageFn = std::function<void(SessionId, std::shared_ptr<Handle>, In)>;
  using ClosedFn = std::function<void(SessionId)>;

  // Owned by gRPC: deletes itself in OnDone.
  static ServerSession* Open(SessionId id, MessageFn on_message, ClosedFn on_closed) {
    return new ServerSession(id, std::move(on_message), std::move(on_closed));
  }

 private:
  // Forwards to the session while it lives.
  class LinkedHandle final : public Handle {
   public:
    explicit LinkedHandle(ServerSession* session) : session_(session) {}
    void Send(Out message) override {
      absl::MutexLock lock(&mu_);
      if (session_ != nullptr) session_->Send(std::move(message));
    }
    void Close(grpc::Status status) override {
      absl::MutexLock lock(&mu_);
      if (session_ != nullptr) session_->Close(std::move(status));
    }
    void Unlink() {
      absl::MutexLock lock(&mu_);
      session_ = nullptr;
    }

   private:
    absl::Mutex mu_;
    ServerSession* session_ ABSL_GUARDED_BY(mu_);
  };

  ServerSession(SessionId id, MessageFn on_message, ClosedFn on_closed)
      : id_(id),
        on_message_(std::move(on_message)),
        on_closed_(std::move(on_closed)),
        handle_(std::make_shared<LinkedHandle>(this)) {
    this->StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      on_closed_(id_);
      Close(grpc::Status::OK);
      return;
    }
    on_message_(id_, handle_, std::move(in_));
    in_.Clear();
    this->StartRead(&in_);
  }

  void Send(Out message) {
    absl::MutexLock lock(&mu_);
    if (finish_requested_) return;
    outbox_.push_back(std::move(message));
    if (!writing_) {
      writing_ = true;
      this->StartWrite(&outbox_.front());
    }
  }

  void Close(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    if (finish_requested_) return;
    finish_requested_ = true;
    status_ = std::move(status);
    MaybeFinish();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    outbox_.pop_front();
    if (!ok) outbox_.clear();
    if (!outbox_.empty()) {
      this->StartWrite(&outbox_.front());
      return;
    }
    writing_ = false;
    MaybeFinish();
  }

  void MaybeFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finish_requested_ && !writing_ && !finished_) {
      finished_ = true;
      this->Finish(status_);
    }
  }

  void OnDone() override {
    handle_->Unlink();
    delete this;
  }

  const SessionId id_;
  const MessageFn on_message_;
  const ClosedFn on_closed_;
  const std::shared_ptr<LinkedHandle> handle_;
  In in_;
  absl::Mutex mu_;
  std::deque<Out> outbox_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice

#endif  // SLUICE_RESOURCEMANAGER_SERVER_SESSION_H_
