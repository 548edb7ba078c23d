#include "taskmanager/job_process.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <future>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/rpc/grpc_status.h"
#include "spdlog/spdlog.h"

namespace sluice {
namespace {

constexpr size_t kMaxHandOffBytes = 256 << 10;  // the sender id and the bytes after the hello

int64_t Millis(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

}  // namespace

std::vector<std::string> JobProcessArguments(const JobProcessOptions& o) {
  const DeploymentOptions& d = o.deployment;
  return {absl::StrCat("job=", o.job_id),
          absl::StrCat("socket=", o.socket_path),
          absl::StrCat("host=", o.host),
          absl::StrCat("task-manager=", d.task_manager_id),
          absl::StrCat("library-dir=", d.library_dir),
          absl::StrCat("rpc-timeout-ms=", Millis(d.rpc_timeout)),
          absl::StrCat("buffer-timeout-ms=", Millis(d.buffer_timeout)),
          absl::StrCat("watermark-interval-ms=", Millis(d.auto_watermark_interval)),
          absl::StrCat("buffers-per-channel=", d.buffers_per_channel),
          absl::StrCat("segment-size=", d.segment_size),
          absl::StrCat("lease-ms=", Millis(d.lease)),
          absl::StrCat("memory-bytes=", o.memory_bytes),
          absl::StrCat("parent-pid=", o.parent_pid)};
}

absl::StatusOr<JobProcessOptions> ParseJobProcessArguments(const std::vector<std::string>& args) {
  std::map<std::string, std::string> given;
  for (const std::string& arg : args) {
    std::pair<std::string, std::string> kv = absl::StrSplit(arg, absl::MaxSplits('=', 1));
    given[kv.first] = kv.second;
  }
  JobProcessOptions o;
  DeploymentOptions& d = o.deployment;
  int64_t rpc = 0, buffer = 0, watermark = 0, lease = 0;
  int64_t segment = 0;
  const bool numbers_ok = absl::SimpleAtoi(given["rpc-timeout-ms"], &rpc) &&
                          absl::SimpleAtoi(given["buffer-timeout-ms"], &buffer) &&
                          absl::SimpleAtoi(given["watermark-interval-ms"], &watermark) &&
                          absl::SimpleAtoi(given["buffers-per-channel"], &d.buffers_per_channel) &&
                          absl::SimpleAtoi(given["segment-size"], &segment) &&
                          absl::SimpleAtoi(given["lease-ms"], &lease) &&
                          absl::SimpleAtoi(given["memory-bytes"], &o.memory_bytes) &&
                          absl::SimpleAtoi(given["parent-pid"], &o.parent_pid);
  o.job_id = given["job"];
  o.socket_path = given["socket"];
  o.host = given["host"];
  d.task_manager_id = given["task-manager"];
  d.library_dir = given["library-dir"];
  if (!numbers_ok || o.job_id.empty() || o.socket_path.empty() || d.task_manager_id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kJobProcessName,
                     " is started by a TaskManager (taskmanager.isolation: "
                     "process), not by hand"));
  }
  d.rpc_timeout = absl::Milliseconds(rpc);
  d.buffer_timeout = absl::Milliseconds(buffer);
  d.auto_watermark_interval = absl::Milliseconds(watermark);
  d.segment_size = static_cast<size_t>(segment);
  d.lease = absl::Milliseconds(lease);
  return o;
}

absl::StatusOr<std::unique_ptr<JobProcessServer>> JobProcessServer::Start(JobProcessOptions options,
                                                                          int hand_off_fd) {
  std::unique_ptr<JobProcessServer> jp(new JobProcessServer(std::move(options)));
  const DeploymentOptions& deployment = jp->options_.deployment;
  DataExchangeOptions data;
  data.credits_per_channel = deployment.buffers_per_channel;
  data.connect_timeout = deployment.rpc_timeout;
  data.job_scope = jp->options_.job_id;
  auto exchange = DataExchange::Start(data);
  if (!exchange.ok()) return exchange.status();
  jp->exchange_ = *std::move(exchange);
  jp->exchange_->SetId(deployment.task_manager_id);
  jp->job_masters_ = std::make_unique<JobMasterClient>(deployment.rpc_timeout);
  JobMasterClient* job_masters = jp->job_masters_.get();
  jp->deployments_ = std::make_unique<JobDeployments>(
      deployment, jp->exchange_.get(), /*slots=*/nullptr,
      [job_masters](const std::string& address, v1::TaskStateUpdate update) {
        job_masters->UpdateTaskState(address, std::move(update));
      },
      &jp->mailbox_, &jp->worker_,
      [job_masters](const std::string& address, v1::CheckpointAcknowledgement ack) {
        job_masters->AcknowledgeCheckpoint(address, std::move(ack));
      });
  jp->metrics_ = std::make_unique<TaskMetrics>(
      [raw = jp.get()](const TaskMetrics::TaskVisitor& visit) {
        raw->mailbox_
            .Ask([raw, &visit] {
              raw->deployments_->ForEachTask([&](const std::string& job, const engine::Task& task) {
                visit(job, task, raw->sampler_);
              });
            })
            .get();
      },
      jp->exchange_.get(),
      std::vector<prometheus::ClientMetric::Label>{{"tm_id", deployment.task_manager_id},
                                                   {"host", jp->options_.host}});
  std::error_code ignored;
  std::filesystem::remove(jp->options_.socket_path, ignored);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + jp->options_.socket_path, grpc::InsecureServerCredentials());
  builder.RegisterService(static_cast<v1::TaskExecutor::CallbackService*>(jp.get()));
  builder.RegisterService(static_cast<v1::JobProcess::CallbackService*>(jp.get()));
  jp->server_ = builder.BuildAndStart();
  if (!jp->server_) {
    return absl::UnavailableError(absl::StrCat("cannot serve on unix:", jp->options_.socket_path));
  }
  jp->hand_off_fd_ = hand_off_fd;
  jp->receiver_ = std::thread([raw = jp.get()] { raw->ReceiveConnections(); });
  jp->mailbox_.Post([raw = jp.get()] { raw->SampleTasks(); });
  return jp;
}

JobProcessServer::~JobProcessServer() { Shutdown(); }

void JobProcessServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  deployments_->Close();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Milliseconds(200)));
  std::promise<void> cancelled;
  mailbox_.Post(
      [this, &cancelled] { deployments_->CancelAll([&cancelled] { cancelled.set_value(); }); });
  cancelled.get_future().wait();
  mailbox_.Stop();
  worker_.Stop();
  job_masters_->Shutdown(/*grace=*/absl::Seconds(1));
  shutdown(hand_off_fd_, SHUT_RDWR);
  receiver_.join();
  exchange_->Stop();
}

void JobProcessServer::ReceiveConnections() {
  std::string buffer(kMaxHandOffBytes, '\0');
  while (true) {
    iovec iov{buffer.data(), buffer.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    const ssize_t got = recvmsg(hand_off_fd_, &message, MSG_CMSG_CLOEXEC);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return;  // the TaskManager closed its end, or we are stopping
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    if (header == nullptr || header->cmsg_type != SCM_RIGHTS || got < 4) continue;
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(header), sizeof(fd));
    uint32_t sender_length = 0;
    std::memcpy(&sender_length, buffer.data(), 4);
    if (sender_length > static_cast<size_t>(got) - 4) {
      close(fd);
      continue;
    }
    std::string sender = buffer.substr(4, sender_length);
    std::string rest =
        buffer.substr(4 + sender_length, static_cast<size_t>(got) - 4 - sender_length);
    exchange_->Adopt(net::Fd(fd), std::move(rest), sender, "handed over by the TaskManager");
  }
}

void JobProcessServer::SampleTasks() {
  const int64_t now_ns = absl::GetCurrentTimeNanos();
  sampler_.BeginRound();
  deployments_->ForEachTask([&](const std::string& job, const engine::Task& task) {
    sampler_.Sample(job, task, now_ns);
  });
  sampler_.EndRound();
  mailbox_.PostAfter(TaskSampler::kPeriod, [this] { SampleTasks(); });
}

grpc::ServerUnaryReactor* JobProcessServer::DeployJob(grpc::CallbackServerContext* context,
                                                      const v1::DeployJobRequest* request,
                                                      v1::DeployJobResponse* response) {
  auto* reactor = context->DefaultReactor();
  mailbox_.Post([this, reactor, request, response] {
    deployments_->Deploy(*request, [reactor, response](absl::StatusOr<int> tasks) {
      if (tasks.ok()) response->set_tasks(*tasks);
      reactor->Finish(tasks.ok() ? grpc::Status::OK : ToGrpcStatus(tasks.status()));
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* JobProcessServer::StartJob(grpc::CallbackServerContext* context,
                                                     const v1::JobTasksRequest* request,
                                                     v1::DeployJobResponse*) {
  return AnswerOnMailbox(context, [this, request = *request] {
    return deployments_->Start(request.job_id(), request.deployment_id());
  });
}

grpc::ServerUnaryReactor* JobProcessServer::CancelJob(grpc::CallbackServerContext* context,
                                                      const v1::JobTasksRequest* request,
                                                      v1::DeployJobResponse*) {
  auto* reactor = context->DefaultReactor();
  mailbox_.Post([this, reactor, request = *request] {
    deployments_->Cancel(request.job_id(), request.deployment_id(),
                         [reactor](absl::Status status) { reactor->Finish(ToGrpcStatus(status)); });
  });
  return reactor;
}

grpc::ServerUnaryReactor* JobProcessServer::TriggerCheckpoint(
    grpc::CallbackServerContext* context, const v1::TriggerCheckpointRequest* request,
    v1::DeployJobResponse*) {
  return AnswerOnMailbox(
      context, [this, request = *request] { return deployments_->TriggerCheckpoint(request); });
}

grpc::ServerUnaryReactor* JobProcessServer::NotifyCheckpoint(
    grpc::CallbackServerContext* context, const v1::NotifyCheckpointRequest* request,
    v1::DeployJobResponse*) {
  return AnswerOnMailbox(
      context, [this, request = *request] { return deployments_->NotifyCheckpoint(request); });
}

grpc::ServerUnaryReactor* JobProcessServer::HeartbeatFromJobMaster(
    grpc::CallbackServerContext* context, const v1::JobMasterHeartbeat* request,
    v1::JobMasterHeartbeatAnswer* answer) {
  return AnswerOnMailbox(context, [this, request = *request, answer] {
    deployments_->Confirm(request);
    deployments_->ForEachTask([&](const std::string& job, const engine::Task& task) {
      *answer->add_subtasks() = sampler_.MetricsOf(job, task);
    });
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* JobProcessServer::FreeAllocation(grpc::CallbackServerContext* context,
                                                           const v1::FreeAllocationRequest* request,
                                                           v1::FreeAllocationResponse* response) {
  return AnswerOnMailbox(context, [this, request = *request, response] {
    deployments_->OnAllocationFreed(request.allocation_id(), request.reason());
    int tasks = 0;
    deployments_->ForEachTask([&](const std::string&, const engine::Task&) { ++tasks; });
    response->set_tasks(tasks);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* JobProcessServer::CollectMetrics(grpc::CallbackServerContext* context,
                                                           const v1::CollectMetricsRequest*,
                                                           v1::CollectMetricsResponse* response) {
  auto* reactor = context->DefaultReactor();
  ToProto(metrics_->Collect(), response);  // visits the tasks on the mailbox
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

void ToProto(const std::vector<prometheus::MetricFamily>& families,
             v1::CollectMetricsResponse* out) {
  for (const auto& family : families) {
    if (family.type != prometheus::MetricType::Counter &&
        family.type != prometheus::MetricType::Gauge) {
      continue;
    }
    auto* f = out->add_families();
    f->set_name(family.name);
    f->set_help(family.help);
    f->set_counter(family.type == prometheus::MetricType::Counter);
    for (const auto& metric : family.metric) {
      auto* sample = f->add_samples();
      for (const auto& label : metric.label) {
        auto* l = sample->add_labels();
        l->set_name(label.name);
        l->set_value(label.value);
      }
      sample->set_value(f->counter() ? metric.counter.value : metric.gauge.value);
    }
  }
}

std::vector<prometheus::MetricFamily> FromProto(const v1::CollectMetricsResponse& in) {
  std::vector<prometheus::MetricFamily> out;
  for (const auto& f : in.families()) {
    prometheus::MetricFamily family;
    family.name = f.name();
    family.help = f.help();
    family.type = f.counter() ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
    for (const auto& sample : f.samples()) {
      prometheus::ClientMetric metric;
      for (const auto& label : sample.labels())
        metric.label.push_back({label.name(), label.value()});
      if (f.counter()) {
        metric.counter.value = sample.value();
      } else {
        metric.gauge.value = sample.value();
      }
      family.metric.push_back(std::move(metric));
    }
    out.push_back(std::move(family));
  }
  return out;
}

}  // namespace sluice
