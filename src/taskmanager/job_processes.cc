#include "taskmanager/job_processes.h"

#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/helper_binary.h"
#include "common/rpc/grpc_status.h"
#include "spdlog/spdlog.h"

extern char** environ;

namespace sluice {
namespace {

std::string HowItEnded(int status) {
  if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    return absl::StrCat("was killed by signal ", signal, " (", sigdescr_np(signal), ")");
  }
  return absl::StrCat("exited with status ", WEXITSTATUS(status));
}

// A descriptor moved to `at` in the child (dup2 onto itself would keep O_CLOEXEC).
int AwayFromLowFds(int fd) {
  if (fd > kCrashReportFd) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, kCrashReportFd + 1);
  close(fd);
  return moved;
}

std::string ReadNote(int fd) {
  std::string note;
  char buffer[1024];
  ssize_t n;
  while (note.size() < 4096 && (n = read(fd, buffer, sizeof buffer)) > 0) {
    note.append(buffer, static_cast<size_t>(n));
  }
  return std::string(absl::StripTrailingAsciiWhitespace(note));
}

}  // namespace

// A starter for JobProcesses::Call: begins `method` on `stub` (the callback
// overload; a member pointer cannot name one overload among several).
#define SLUICE_ASYNC(stub, method)                                                  \
  [raw = (stub).get()](grpc::ClientContext* c, const auto* request, auto* response, \
                       std::function<void(grpc::Status)> callback) {                \
    raw->async()->method(c, request, response, std::move(callback));                \
  }

std::string DefaultJobProcessPath() {
  return HelperBinaryPath(kJobProcessName, SLUICE_BUILD_BIN_DIR);
}

JobProcesses::Process::~Process() {
  if (hand_off_fd >= 0) close(hand_off_fd);
  if (crash_fd >= 0) close(crash_fd);
}

JobProcesses::JobProcesses(JobProcessLaunch launch, TaskSlotTable* slots, TaskStateSink report,
                           Mailbox* owner)
    : launch_(std::move(launch)), slots_(slots), report_(std::move(report)), owner_(owner) {}

JobProcesses::~JobProcesses() {
  std::vector<ProcessPtr> all;
  {
    absl::MutexLock lock(&mu_);
    all = all_;
  }
  for (const auto& process : all) kill(process->pid, SIGKILL);
  for (const auto& process : all) {
    if (process->watcher.joinable()) process->watcher.join();
  }
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* in_flight) { return *in_flight == 0; }, &in_flight_));
}

absl::StatusOr<JobProcesses::ProcessPtr> JobProcesses::Spawn(const std::string& job_id) {
  auto process = std::make_shared<Process>();
  process->job_id = job_id;
  process->generation = ++generations_;
  const std::string dir = absl::StrCat(launch_.work_dir, "/jobs");
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  JobProcessOptions options = launch_.base;
  options.job_id = job_id;
  options.parent_pid = getpid();
  // Unix socket paths are short (108 bytes): the job id's prefix and a counter.
  options.socket_path = absl::StrCat(dir, "/", job_id.substr(0, 12), "-", process->generation);
  int pair[2];
  int crash[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return absl::InternalError(absl::StrCat("socketpair: ", std::strerror(errno)));
  }
  if (pipe2(crash, O_CLOEXEC) != 0) {
    close(pair[0]);
    close(pair[1]);
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  pair[1] = AwayFromLowFds(pair[1]);
  crash[1] = AwayFromLowFds(crash[1]);
  std::vector<std::string> arguments = JobProcessArguments(options);
  arguments.insert(arguments.begin(), launch_.binary);
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pair[1], kHandOffFd);
  posix_spawn_file_actions_adddup2(&actions, crash[1], kCrashReportFd);
  const int spawned =
      posix_spawn(&process->pid, launch_.binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pair[1]);
  close(crash[1]);
  process->hand_off_fd = pair[0];
  process->crash_fd = crash[0];
  if (spawned != 0) {
    return absl::InternalError(absl::StrCat("cannot start the job process '", launch_.binary,
                                            "': ", std::strerror(spawned)));
  }
  // The process needs some milliseconds before it listens: retry connecting
  // every 10 ms (gRPC's default backoff would wait a second after the first
  // refusal, delaying every deployment by as much).
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 10);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 10);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 100);
  auto channel = grpc::CreateCustomChannel("unix:" + options.socket_path,
                                           grpc::InsecureChannelCredentials(), args);
  process->tasks = v1::TaskExecutor::NewStub(channel);
  process->control = v1::JobProcess::NewStub(channel);
  spdlog::info("Started job process {} for job {}", process->pid, job_id);
  process->watcher = std::thread([this, process] {
    int status = 0;
    while (waitpid(process->pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::string note = ReadNote(process->crash_fd);
    owner_->Post([this, process, status, note] { OnExited(process, status, note); });
  });
  absl::MutexLock lock(&mu_);
  running_[job_id] = process;
  all_.push_back(process);
  return process;
}

JobProcesses::ProcessPtr JobProcesses::Find(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = running_.find(job_id);
  return it == running_.end() ? nullptr : it->second;
}

template <typename Request, typename Response, typename Starter>
void JobProcesses::Call(const ProcessPtr& process, Starter start, const Request& request,
                        Response* response, absl::Duration timeout, bool wait_for_ready,
                        std::function<void(absl::Status)> done) {
  auto context = std::make_shared<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  context->set_wait_for_ready(wait_for_ready);
  auto owned_request = std::make_shared<Request>(request);
  {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
    process->calls[context.get()] = context;
  }
  start(context.get(), owned_request.get(), response,
        [this, context, owned_request, process, done = std::move(done)](grpc::Status status) {
          owner_->Post([done, status = FromGrpcStatus(status)] { done(status); });
          absl::MutexLock lock(&mu_);
          process->calls.erase(context.get());
          --in_flight_;
        });
}

void JobProcesses::SetMemoryLimit(const Process& process) {
  std::set<std::string> allocations;
  for (const auto& [id, attempts] : process.deployments) {
    for (const Attempt& attempt : attempts) allocations.insert(attempt.allocation_id);
  }
  int64_t bytes = launch_.runtime_memory_bytes;
  for (const std::string& allocation : allocations) {
    if (const TaskSlotTable::Slot* slot = slots_->Find(allocation)) {
      bytes += slot->state.profile.memory_bytes;
    }
  }
  rlimit limit{static_cast<rlim_t>(bytes), static_cast<rlim_t>(bytes)};
  if (prlimit(process.pid, RLIMIT_DATA, &limit, nullptr) != 0) {
    spdlog::warn("Cannot limit the memory of job process {}: {}", process.pid,
                 std::strerror(errno));
  }
}

void JobProcesses::Deploy(const v1::DeployJobRequest& request, DeployDone done) {
  if (closed_) return done(absl::UnavailableError("the TaskManager is shutting down"));
  const std::string& tm = launch_.base.deployment.task_manager_id;
  std::vector<Attempt> attempts;
  for (const auto& a : request.assignments()) {
    if (a.task_manager_id() != tm) continue;
    if (!slots_->Holds(a.allocation_id(), request.job_id())) {
      return done(absl::FailedPreconditionError(absl::StrFormat(
          "subtask %d of vertex %d of job %s names allocation '%s', which TaskManager '%s' does "
          "not hold for that job",
          a.subtask(), a.vertex(), request.job_id(), a.allocation_id(), tm)));
    }
    attempts.push_back(Attempt{a.vertex(), a.subtask(), a.attempt(), a.allocation_id()});
  }
  ProcessPtr process = Find(request.job_id());
  if (process == nullptr) {
    auto spawned = Spawn(request.job_id());
    if (!spawned.ok()) return done(spawned.status());
    process = *spawned;
  }
  for (const Attempt& attempt : attempts) slots_->Activate(attempt.allocation_id);
  process->job_manager_address = request.job_manager_address();
  process->deployments[request.deployment_id()] = attempts;
  SetMemoryLimit(*process);
  auto response = std::make_shared<v1::DeployJobResponse>();
  // The download and build take up to a few RPC timeouts, as in the TaskManager.
  const absl::Duration timeout = launch_.base.deployment.rpc_timeout * 8;
  Call(process, SLUICE_ASYNC(process->tasks, DeployJob), request, response.get(), timeout,
       /*wait_for_ready=*/true,
       [this, process, response, deployment = request.deployment_id(),
        done = std::move(done)](absl::Status status) {
         if (process->deployments.count(deployment) == 0) {
           // Cancelled (or its process ended) while it was being deployed:
           // not kept, whatever the process answered.
           return done(absl::CancelledError(
               absl::StrCat("deployment ", deployment, " of job ", process->job_id,
                            " was cancelled while it was being deployed")));
         }
         if (!status.ok()) {
           process->deployments.erase(deployment);
           StopIfIdle(process);
           return done(status);
         }
         done(response->tasks());
       });
}

void JobProcesses::Start(const v1::JobTasksRequest& request, Done done) {
  ProcessPtr process = Find(request.job_id());
  if (process == nullptr) {
    return done(absl::NotFoundError(absl::StrCat("job ", request.job_id(),
                                                 " is not deployed on TaskManager '",
                                                 launch_.base.deployment.task_manager_id, "'")));
  }
  auto response = std::make_shared<v1::DeployJobResponse>();
  Call(process, SLUICE_ASYNC(process->tasks, StartJob), request, response.get(),
       launch_.base.deployment.rpc_timeout, false,
       [response, done = std::move(done)](absl::Status status) { done(status); });
}

void JobProcesses::Cancel(const v1::JobTasksRequest& request, Done done) {
  ProcessPtr process = Find(request.job_id());
  if (process == nullptr) return done(absl::OkStatus());
  auto response = std::make_shared<v1::DeployJobResponse>();
  Call(process, SLUICE_ASYNC(process->tasks, CancelJob), request, response.get(),
       launch_.cancellation_timeout, false,
       [this, process, response, request, done = std::move(done)](absl::Status status) {
         if (request.deployment_id().empty()) {
           process->deployments.clear();
         } else {
           process->deployments.erase(request.deployment_id());
         }
         if (absl::IsDeadlineExceeded(status)) {
           spdlog::error(
               "Tasks of job {} did not stop within {} (task.cancellation.timeout): killing its "
               "job process {}",
               process->job_id, absl::FormatDuration(launch_.cancellation_timeout), process->pid);
           process->stopping = true;
           if (!process->exited) kill(process->pid, SIGKILL);
           status = absl::OkStatus();
         }
         if (!process->deployments.empty()) return done(status);
         // Nothing of the job is left here: answer once its process (and its memory) is gone.
         process->on_exit.push_back([done, status] { done(status); });
         Stop(process);
       });
}

void JobProcesses::TriggerCheckpoint(const v1::TriggerCheckpointRequest& request, Done done) {
  ProcessPtr process = Find(request.job_id());
  if (process == nullptr)
    return done(
        absl::NotFoundError(absl::StrCat("no task of job ", request.job_id(), " runs here")));
  auto response = std::make_shared<v1::DeployJobResponse>();
  Call(process, SLUICE_ASYNC(process->tasks, TriggerCheckpoint), request, response.get(),
       launch_.base.deployment.rpc_timeout, false,
       [response, done = std::move(done)](absl::Status status) { done(status); });
}

void JobProcesses::NotifyCheckpoint(const v1::NotifyCheckpointRequest& request, Done done) {
  ProcessPtr process = Find(request.job_id());
  if (process == nullptr) return done(absl::OkStatus());
  auto response = std::make_shared<v1::DeployJobResponse>();
  Call(process, SLUICE_ASYNC(process->tasks, NotifyCheckpoint), request, response.get(),
       launch_.base.deployment.rpc_timeout, false,
       [response, done = std::move(done)](absl::Status status) { done(status); });
}

void JobProcesses::Heartbeat(const v1::JobMasterHeartbeat& request,
                             v1::JobMasterHeartbeatAnswer* answer, Done done) {
  ProcessPtr process = Find(request.job_id());
  if (process == nullptr) return done(absl::OkStatus());
  // The TaskManager answers for itself: a job process still starting (or
  // ending) only leaves its tasks' metrics out of this answer. The lease of
  // its tasks runs on the heartbeats it does get.
  auto forwarded = std::make_shared<v1::JobMasterHeartbeatAnswer>();
  Call(process, SLUICE_ASYNC(process->tasks, HeartbeatFromJobMaster), request, forwarded.get(),
       launch_.base.deployment.rpc_timeout, false,
       [forwarded, answer, done = std::move(done)](absl::Status status) {
         if (status.ok()) answer->Swap(forwarded.get());
         done(absl::OkStatus());
       });
}

void JobProcesses::OnAllocationFreed(const std::string& allocation_id, const std::string& reason) {
  std::vector<ProcessPtr> holders;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [job, process] : running_) holders.push_back(process);
  }
  for (const ProcessPtr& process : holders) {
    bool holds = false;
    for (auto it = process->deployments.begin(); it != process->deployments.end();) {
      bool in_it = false;
      for (const Attempt& attempt : it->second) in_it |= attempt.allocation_id == allocation_id;
      holds |= in_it;
      it = in_it ? process->deployments.erase(it) : std::next(it);
    }
    if (!holds) continue;
    v1::FreeAllocationRequest request;
    request.set_allocation_id(allocation_id);
    request.set_reason(reason);
    auto response = std::make_shared<v1::FreeAllocationResponse>();
    Call(process, SLUICE_ASYNC(process->control, FreeAllocation), request, response.get(),
         launch_.base.deployment.rpc_timeout, false,
         [this, process, response](absl::Status) { StopIfIdle(process); });
  }
}

void JobProcesses::CancelAll(std::function<void()> done) {
  std::vector<ProcessPtr> all;
  {
    absl::MutexLock lock(&mu_);
    all = all_;
  }
  if (all.empty()) return done();
  auto left = std::make_shared<size_t>(all.size());
  for (const ProcessPtr& process : all) {
    process->on_exit.push_back([left, done] {
      if (--*left == 0) done();
    });
    // The TaskManager is stopping: its stop script waits only so long.
    Stop(process, std::min(launch_.cancellation_timeout, absl::Seconds(5)));
  }
}

void JobProcesses::StopIfIdle(const ProcessPtr& process) {
  if (process->deployments.empty()) Stop(process);
}

void JobProcesses::Stop(const ProcessPtr& process, absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    auto it = running_.find(process->job_id);
    if (it != running_.end() && it->second == process) running_.erase(it);
  }
  if (process->stopping) return;
  process->stopping = true;
  kill(process->pid, SIGTERM);
  // A process whose tasks ignore the stop is killed.
  std::weak_ptr<Process> weak = process;
  owner_->PostAfter(grace, [this, weak, grace] {
    auto alive = weak.lock();
    if (!alive || alive->exited) return;
    spdlog::error(
        "Job process {} of job {} did not stop within {} (task.cancellation.timeout, or 5 s "
        "when the TaskManager stops): a task ignores cancellation; killing it",
        alive->pid, alive->job_id, absl::FormatDuration(grace));
    kill(alive->pid, SIGKILL);
  });
}

void JobProcesses::OnExited(const ProcessPtr& process, int status, const std::string& note) {
  process->watcher.join();
  process->exited = true;
  std::vector<std::shared_ptr<grpc::ClientContext>> calls;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [raw, call] : process->calls) calls.push_back(call);
    auto it = running_.find(process->job_id);
    if (it != running_.end() && it->second == process) running_.erase(it);
    std::erase(all_, process);
  }
  // Calls waiting for it (a deployment waits for its socket) end now;
  // outside the lock, as their callbacks may run right here.
  for (const auto& call : calls) call->TryCancel();
  std::error_code ignored;
  std::filesystem::remove(absl::StrCat(launch_.work_dir, "/jobs/", process->job_id.substr(0, 12),
                                       "-", process->generation),
                          ignored);
  if (!process->stopping) {
    std::string cause =
        absl::StrCat("the job's process (pid ", process->pid, ") ", HowItEnded(status));
    if (!note.empty()) cause = absl::StrCat(note, "; ", cause);
    spdlog::error("Job {}: {}", process->job_id, cause);
    ReportFailed(*process, cause);
  } else {
    spdlog::info("Job process {} of job {} {}", process->pid, process->job_id, HowItEnded(status));
  }
  process->deployments.clear();
  for (auto& callback : process->on_exit) callback();
  process->on_exit.clear();
}

void JobProcesses::ReportFailed(const Process& process, const std::string& cause) {
  const std::string& tm = launch_.base.deployment.task_manager_id;
  for (const auto& [deployment, attempts] : process.deployments) {
    for (const Attempt& attempt : attempts) {
      v1::TaskStateUpdate update;
      update.set_job_id(process.job_id);
      update.set_vertex(attempt.vertex);
      update.set_subtask(attempt.subtask);
      update.set_attempt(attempt.attempt);
      update.set_state(v1::EXECUTION_STATE_FAILED);
      update.set_error(absl::StrCat(cause, " on TaskManager '", tm, "'"));
      update.set_task_manager_id(tm);
      report_(process.job_manager_address, std::move(update));
    }
  }
}

bool JobProcesses::HandOff(const std::string& job, net::Fd& fd, const std::string& buffered,
                           const std::string& sender) {
  net::Fd taken = std::move(fd);  // closed here whatever happens: the process has its copy
  ProcessPtr process = Find(job);
  if (process == nullptr) {
    spdlog::warn("Data connection from '{}' for job {}, which has no process here: closed", sender,
                 job);
    return true;
  }
  std::string payload(4, '\0');
  const auto length = static_cast<uint32_t>(sender.size());
  std::memcpy(payload.data(), &length, 4);
  payload += sender;
  payload += buffered;
  iovec iov{payload.data(), payload.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  const int raw = taken.get();
  std::memcpy(CMSG_DATA(header), &raw, sizeof(raw));
  if (sendmsg(process->hand_off_fd, &message, MSG_NOSIGNAL) < 0) {
    spdlog::warn("Cannot hand a data connection to the process of job {}: {}", job,
                 std::strerror(errno));
  }
  return true;
}

std::vector<prometheus::MetricFamily> JobProcesses::CollectMetrics() {
  std::vector<ProcessPtr> running;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [job, process] : running_) running.push_back(process);
  }
  std::vector<prometheus::MetricFamily> out;
  for (const ProcessPtr& process : running) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    v1::CollectMetricsResponse response;
    if (!process->control->CollectMetrics(&context, v1::CollectMetricsRequest(), &response).ok()) {
      continue;  // starting, or ending: its tasks are absent from this scrape
    }
    auto families = FromProto(response);
    out.insert(out.end(), std::make_move_iterator(families.begin()),
               std::make_move_iterator(families.end()));
  }
  return out;
}

}  // namespace sluice
