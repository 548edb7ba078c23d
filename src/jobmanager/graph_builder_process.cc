#include "jobmanager/graph_builder_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/config/value_parsers.h"
#include "common/helper_binary.h"
#include "spdlog/spdlog.h"

extern char** environ;

namespace sluice {
namespace {

constexpr size_t kMaxResultBytes = 64 * 1024;
constexpr int kFixedArguments = 6;  // memory, timeout, library, job, parallelism, max

absl::Status Failed(const GraphBuildRequest& request, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("job '", request.job_name, "': ", why));
}

std::string HowItEnded(int status) {
  if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    return absl::StrCat("was killed by signal ", signal, " (", strsignal(signal), ")");
  }
  return absl::StrCat("exited with status ", WEXITSTATUS(status));
}

// The helper's verdict from what it wrote to the result descriptor and how it ended.
absl::StatusOr<uint64_t> Verdict(const GraphBuildRequest& request, const std::string& result,
                                 int status) {
  absl::string_view text = result;
  if (absl::ConsumePrefix(&text, "ok ")) {
    uint64_t hash = 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
        absl::SimpleAtoi(absl::StripTrailingAsciiWhitespace(text), &hash)) {
      return hash;
    }
  }
  if (absl::ConsumePrefix(&text, "error ")) return absl::InvalidArgumentError(std::string(text));
  return Failed(request, absl::StrCat("building its graph failed: the graph builder ",
                                      HowItEnded(status), " in the job's code, before it built ",
                                      "the graph (library '", request.library_path, "')"));
}

}  // namespace

std::vector<std::string> GraphBuilderArguments(const GraphBuildRequest& request,
                                               const GraphBuildLimits& limits) {
  std::vector<std::string> out = {std::to_string(limits.memory_bytes),
                                  std::to_string(absl::ToInt64Milliseconds(limits.timeout)),
                                  request.library_path,
                                  request.job_name,
                                  std::to_string(request.parallelism),
                                  std::to_string(request.max_parallelism)};
  out.insert(out.end(), request.args.begin(), request.args.end());
  return out;
}

absl::StatusOr<std::pair<GraphBuildRequest, GraphBuildLimits>> ParseGraphBuilderArguments(
    const std::vector<std::string>& arguments) {
  if (arguments.size() < kFixedArguments) {
    return absl::InvalidArgumentError(
        absl::StrCat(kGraphBuilderName, " is started by the JobManager; usage: ", kGraphBuilderName,
                     " <memory-bytes> <timeout-ms> <library> <job> <parallelism> "
                     "<max-parallelism> [job arguments...]"));
  }
  GraphBuildRequest request;
  GraphBuildLimits limits;
  int64_t timeout_ms = 0;
  if (!absl::SimpleAtoi(arguments[0], &limits.memory_bytes) ||
      !absl::SimpleAtoi(arguments[1], &timeout_ms) ||
      !absl::SimpleAtoi(arguments[4], &request.parallelism) ||
      !absl::SimpleAtoi(arguments[5], &request.max_parallelism)) {
    return absl::InvalidArgumentError("malformed numeric argument");
  }
  limits.timeout = absl::Milliseconds(timeout_ms);
  request.library_path = arguments[2];
  request.job_name = arguments[3];
  request.args.assign(arguments.begin() + kFixedArguments, arguments.end());
  return std::make_pair(std::move(request), limits);
}

std::string DefaultGraphBuilderPath() {
  return HelperBinaryPath(kGraphBuilderName, SLUICE_BUILD_BIN_DIR);
}

GraphBuilderProcess::GraphBuilderProcess(std::string helper_path, GraphBuildLimits limits)
    : helper_path_(std::move(helper_path)), limits_(limits) {}

GraphBuilderProcess::~GraphBuilderProcess() {
  std::list<Waiter> waiters;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    waiters.swap(waiters_);
  }
  for (auto& waiter : waiters) waiter.thread.join();
}

void GraphBuilderProcess::Build(GraphBuildRequest request, Done done) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return done(absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno))));
  }
  if (fds[1] == kGraphBuilderResultFd) {  // dup2 onto itself would keep O_CLOEXEC
    int moved = fcntl(fds[1], F_DUPFD_CLOEXEC, kGraphBuilderResultFd + 1);
    close(fds[1]);
    fds[1] = moved;
  }
  std::vector<std::string> arguments = GraphBuilderArguments(request, limits_);
  arguments.insert(arguments.begin(), helper_path_);
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], kGraphBuilderResultFd);
  pid_t pid = 0;
  const int spawned =
      posix_spawn(&pid, helper_path_.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (spawned != 0) {
    close(fds[0]);
    return done(absl::InternalError(absl::StrCat("cannot start the graph builder '", helper_path_,
                                                 "': ", std::strerror(spawned))));
  }
  absl::MutexLock lock(&mu_);
  Reap();
  auto finished = std::make_shared<std::atomic<bool>>(false);
  std::thread thread(
      [this, pid, fd = fds[0], request = std::move(request), done = std::move(done), finished] {
        Wait(pid, fd, request, done);
        finished->store(true);
      });
  waiters_.push_back(Waiter{std::move(thread), std::move(finished)});
}

void GraphBuilderProcess::Reap() {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (!it->finished->load()) {
      ++it;
      continue;
    }
    it->thread.join();
    it = waiters_.erase(it);
  }
}

void GraphBuilderProcess::Wait(pid_t pid, int result_fd, const GraphBuildRequest& request,
                               const Done& done) {
  const absl::Time deadline = absl::Now() + limits_.timeout;
  std::string result;
  bool timed_out = false;
  bool stopped = false;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      stopped = stopping_;
    }
    if (stopped || absl::Now() >= deadline) {
      timed_out = !stopped;
      kill(pid, SIGKILL);
      break;
    }
    pollfd readable{result_fd, POLLIN, 0};
    if (poll(&readable, 1, 100) <= 0) continue;
    char buffer[4096];
    ssize_t n = read(result_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the helper closed it: it is ending
    if (result.size() < kMaxResultBytes) result.append(buffer, static_cast<size_t>(n));
  }
  close(result_fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (stopped) return done(absl::CancelledError("the JobManager is stopping"));
  if (timed_out) {
    return done(absl::DeadlineExceededError(absl::StrCat(
        "job '", request.job_name, "': its build function did not finish within ",
        HumanDuration(limits_.timeout), " (jobmanager.graph-builder.timeout); it was killed")));
  }
  auto verdict = Verdict(request, result, status);
  if (!verdict.ok())
    spdlog::warn("graph builder for job '{}': {}", request.job_name,
                 std::string(verdict.status().message()));
  done(std::move(verdict));
}

}  // namespace sluice
