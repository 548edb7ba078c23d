// Keeps a registered session with the ResourceManager alive: opens the stream,
// registers, sends heartbeats every interval, and when the stream breaks, the
// registration is refused or the RM falls silent past the timeout, opens a new
// one after a capped exponential backoff. Used by TaskManagers and JobManagers.
//
// Threads: one keeper thread runs the loop; hooks run on it, except
// `on_message`, which runs on a gRPC thread.
#ifndef SLUICE_COMMON_RPC_SESSION_KEEPER_H_
#define SLUICE_COMMON_RPC_SESSION_KEEPER_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/rpc/session_stream.h"
#include "sluice/v1/resourcemanager.pb.h"
#include "spdlog/spdlog.h"

namespace sluice {

struct SessionKeeperOptions {
  std::string peer;  // for log lines, e.g. "ResourceManager at host:6124"
  absl::Duration heartbeat_interval = absl::Seconds(1);
  absl::Duration heartbeat_timeout = absl::Seconds(5);
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(2);
  absl::Duration refused_delay = absl::Seconds(2);
};

template <typename Out>
class SessionKeeper {
 public:
  using In = v1::ResourceManagerMessage;
  using Stream = SessionStream<Out, In>;

  struct Hooks {
    typename Stream::StartCallFn start_call;
    std::function<Out()> make_register;
    std::function<Out(uint64_t sequence)> make_heartbeat;
    std::function<Out()> make_deregister;
    std::function<void(const In&)> on_message;      // every message, gRPC thread
    std::function<void(bool registered)> on_state;  // keeper thread
  };

  SessionKeeper(SessionKeeperOptions options, Hooks hooks)
      : options_(std::move(options)), hooks_(std::move(hooks)) {}
  ~SessionKeeper() { Stop(/*deregister=*/false); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  // Ends the loop; with `deregister`, first tells the RM this peer leaves.
  void Stop(bool deregister) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stopping_ = true;
      deregister_ = deregister;
    }
    if (thread_.joinable()) thread_.join();
  }

  // Sends on the current session if it is registered; false when there is
  // none (the caller re-sends what matters from on_state(true)).
  bool Send(Out message) {
    absl::MutexLock lock(&mu_);
    if (current_ == nullptr || !registered_) return false;
    current_->Send(std::move(message));
    return true;
  }

  bool registered() const {
    absl::MutexLock lock(&mu_);
    return registered_;
  }

 private:
  // State of one stream attempt, shared with gRPC callbacks.
  struct Attempt {
    bool accepted = false;
    bool done = false;
    grpc::Status status;
    absl::Time last_ack;
  };

  void Run() {
    absl::Duration backoff = options_.initial_backoff;
    while (!IsStopping()) {
      absl::Duration delay = RunOneSession(backoff);
      if (IsStopping()) break;
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), delay);
    }
  }

  // Runs one stream from open to end; returns how long to wait before the next.
  absl::Duration RunOneSession(absl::Duration& backoff) {
    auto stream = std::make_unique<Stream>(
        hooks_.start_call, [this](In message) { OnMessage(std::move(message)); },
        [this](const grpc::Status& status) {
          absl::MutexLock lock(&mu_);
          attempt_.done = true;
          attempt_.status = status;
        });
    {
      absl::MutexLock lock(&mu_);
      attempt_ = Attempt{};
      attempt_.last_ack = absl::Now();
      current_ = stream.get();
    }
    stream->Start(hooks_.make_register());
    bool accepted = AwaitRegistration();
    if (accepted) {
      backoff = options_.initial_backoff;
      SetRegistered(true);
      HeartbeatUntilEnd(*stream);
      SetRegistered(false);
    }
    EndStream(*stream, accepted);
    stream->WaitDone();
    {
      absl::MutexLock lock(&mu_);
      current_ = nullptr;
    }
    return NextDelay(accepted, backoff);
  }

  bool AwaitRegistration() {
    absl::MutexLock lock(&mu_);
    auto settled = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return attempt_.accepted || attempt_.done || stopping_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&settled), options_.heartbeat_timeout);
    if (!attempt_.accepted && !attempt_.done && !stopping_) {
      spdlog::warn("No registration answer from {} within {}; retrying", options_.peer,
                   absl::FormatDuration(options_.heartbeat_timeout));
    }
    return attempt_.accepted && !attempt_.done;
  }

  void HeartbeatUntilEnd(Stream& stream) {
    uint64_t sequence = 0;
    while (true) {
      stream.Send(hooks_.make_heartbeat(++sequence));
      absl::MutexLock lock(&mu_);
      auto ended = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return attempt_.done || stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&ended), options_.heartbeat_interval);
      if (attempt_.done || stopping_) return;
      absl::Duration silence = absl::Now() - attempt_.last_ack;
      if (silence > options_.heartbeat_timeout) {
        spdlog::warn("{} silent for {}; reconnecting", options_.peer,
                     absl::FormatDuration(silence));
        return;
      }
    }
  }

  void EndStream(Stream& stream, bool accepted) {
    bool deregister;
    {
      absl::MutexLock lock(&mu_);
      if (attempt_.done) return;
      deregister = stopping_ && deregister_ && accepted;
    }
    if (!deregister) {
      stream.Cancel();
      return;
    }
    stream.Send(hooks_.make_deregister());
    stream.Close();
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(absl::Condition(&attempt_.done), absl::Seconds(2))) stream.Cancel();
  }

  absl::Duration NextDelay(bool accepted, absl::Duration& backoff) {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::ZeroDuration();
    const grpc::Status& status = attempt_.status;
    if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS ||
        status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      spdlog::error("{} refused the registration: {}; retrying in {}", options_.peer,
                    status.error_message(), absl::FormatDuration(options_.refused_delay));
      return options_.refused_delay;
    }
    absl::Duration delay = backoff;
    backoff = std::min(backoff * 2, options_.max_backoff);
    if (accepted) {
      spdlog::warn("Lost the session with {} ({}: {}); reconnecting", options_.peer,
                   static_cast<int>(status.error_code()), status.error_message());
      return absl::ZeroDuration();
    }
    spdlog::info("Cannot register with {} yet ({}); retrying in {}", options_.peer,
                 status.error_message().empty() ? "no answer" : status.error_message(),
                 absl::FormatDuration(delay));
    return delay;
  }

  void OnMessage(In message) {
    {
      absl::MutexLock lock(&mu_);
      attempt_.last_ack = absl::Now();
      if (message.has_accepted()) attempt_.accepted = true;
    }
    if (hooks_.on_message) hooks_.on_message(message);
  }

  void SetRegistered(bool registered) {
    {
      absl::MutexLock lock(&mu_);
      registered_ = registered;
    }
    if (registered) spdlog::info("Registered with {}", options_.peer);
    if (hooks_.on_state) hooks_.on_state(registered);
  }

  bool IsStopping() const {
    absl::MutexLock lock(&mu_);
    return stopping_;
  }

  const SessionKeeperOptions options_;
  const Hooks hooks_;
  mutable absl::Mutex mu_;
  Attempt attempt_ ABSL_GUARDED_BY(mu_);
  Stream* current_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool deregister_ ABSL_GUARDED_BY(mu_) = false;
  bool registered_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_RPC_SESSION_KEEPER_H_
