// The cluster side of the job commands: submit, follow, list, cancel.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/credentials.h"
#include "client/job_commands.h"
#include "common/job_state.h"
#include "common/sha256.h"
#include "engine/job_graph_convert.h"
#include "engine/job_library.h"
#include "sluice/v1/jobmanager.grpc.pb.h"

namespace sluice {
namespace {

constexpr size_t kChunk = 1 << 20;

std::unique_ptr<v1::JobManager::Stub> Connect(const std::string& target) {
  return v1::JobManager::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
}

// When the job started, in local time, as Flink's list shows it.
std::string StartTime(const v1::JobStatus& job) {
  if (job.start_time_ms() <= 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(job.start_time_ms()),
                          absl::LocalTimeZone());
}

std::string Describe(const v1::JobStatus& job) {
  std::string line = absl::StrFormat("%s  %-12s %-10s %-19s p=%-3d tenant=%s  %.1fs", job.job_id(),
                                     job.name(), job.state(), StartTime(job), job.parallelism(),
                                     job.tenant(), static_cast<double>(job.duration_ms()) / 1000);
  if (job.restarts() > 0) absl::StrAppend(&line, "  restarts=", job.restarts());
  if (job.has_checkpoints()) {
    const auto& c = job.checkpoints();
    if (c.last_id() > 0) {
      absl::StrAppendFormat(&line, "  last checkpoint=%d (%d ms, %d bytes)", c.last_id(),
                            c.last_duration_ms(), c.last_size_bytes());
    } else {
      absl::StrAppend(&line, "  no checkpoint yet");
    }
  }
  return line;
}

// Why a call failed, saying so when nothing answered at `target`.
std::string Why(const grpc::Status& status, const std::string& target) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
       status.error_message().find("connect") != std::string::npos)) {
    return absl::StrCat("the JobManager at ", target, " is unreachable (", status.error_message(),
                        ")");
  }
  return status.error_message();
}

// While a job runs: its tasks, records in and out with their rates (as the
// TaskManagers last reported them), restarts and the latest checkpoint.
std::string Progress(const v1::JobStatus& job) {
  int64_t in = 0, out = 0;
  double in_rate = 0, out_rate = 0;
  for (const auto& task : job.tasks()) {
    in += task.metrics().records_in();
    out += task.metrics().records_out();
    in_rate += task.metrics().records_in_per_second();
    out_rate += task.metrics().records_out_per_second();
  }
  std::string line = absl::StrFormat(
      "  %s: tasks %d/%d running, records in %d (%.0f/s), out %d (%.0f/s)", job.state(),
      job.running_tasks(), job.total_tasks(), in, in_rate, out, out_rate);
  if (job.restarts() > 0) absl::StrAppend(&line, ", restarts ", job.restarts());
  if (job.has_checkpoints() && job.checkpoints().last_id() > 0) {
    absl::StrAppend(&line, ", checkpoint ", job.checkpoints().last_id(), " done");
  }
  return line;
}

absl::StatusOr<v1::JobSubmission> Prepare(const JobCommand& command, std::string* bytes) {
  auto library = engine::JobLibrary::Load(command.library);
  if (!library.ok()) return library.status();
  auto graph =
      (*library)->Build(command.job, command.args, command.parallelism, command.max_parallelism);
  if (!graph.ok()) return graph.status();
  std::ifstream in(command.library, std::ios::binary);
  bytes->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  v1::JobSubmission submission;
  *submission.mutable_graph() = engine::ToProto(*graph);
  submission.set_job_name(command.job);
  for (const auto& arg : command.args) submission.add_args(arg);
  submission.set_parallelism(command.parallelism);
  submission.set_max_parallelism(command.max_parallelism);
  submission.set_library_sha256(Sha256::Of(*bytes));
  submission.set_library_size(static_cast<int64_t>(bytes->size()));
  submission.set_tenant(command.tenant);
  submission.set_token(command.token);
  submission.set_priority(command.priority);
  for (const auto& assignment : command.job_config) submission.add_job_config(assignment);
  submission.set_num_task_managers(command.num_task_managers);
  if (!command.restore_path.empty()) {
    // The JobManager reads it: on a cluster, a path on the shared checkpoint mount.
    std::error_code error;
    auto absolute = std::filesystem::absolute(command.restore_path, error);
    submission.set_restore_path(error ? command.restore_path : absolute.string());
  }
  submission.set_allow_non_restored_state(command.allow_non_restored_state);
  submission.set_buffer_timeout_us(absl::ToInt64Microseconds(command.buffer_timeout));
  submission.set_auto_watermark_interval_us(
      absl::ToInt64Microseconds(command.auto_watermark_interval));
  return submission;
}

grpc::Status Upload(v1::JobManager::Stub& stub, const v1::JobSubmission& submission,
                    const std::string& bytes, v1::JobStatus* status) {
  grpc::ClientContext context;
  Authorize(&context);
  auto writer = stub.SubmitJob(&context, status);
  v1::SubmitJobRequest first;
  *first.mutable_submission() = submission;
  bool open = writer->Write(first);
  for (size_t at = 0; open && at < bytes.size(); at += kChunk) {
    v1::SubmitJobRequest chunk;
    chunk.set_library_chunk(bytes.substr(at, kChunk));
    open = writer->Write(chunk);
  }
  writer->WritesDone();
  return writer->Finish();
}

}  // namespace

int RunOnCluster(const JobCommand& command, std::ostream& out, std::ostream& err) {
  std::string bytes;
  auto submission = Prepare(command, &bytes);
  if (!submission.ok()) {
    err << "sluice: " << submission.status().message() << "\n";
    return 1;
  }
  auto stub = Connect(command.target);
  v1::JobStatus status;
  grpc::Status submitted = Upload(*stub, *submission, bytes, &status);
  if (!submitted.ok()) {
    const bool unreachable = submitted.error_code() == grpc::StatusCode::UNAVAILABLE;
    err << "sluice: "
        << (unreachable ? Why(submitted, command.target)
                        : absl::StrCat("the JobManager at ", command.target,
                                       " refused the job: ", submitted.error_message()))
        << "\n";
    return 1;
  }
  // std::endl: each line reaches a pipe as it is written.
  out << "Job has been submitted with JobID " << status.job_id() << std::endl;
  if (command.detached) return 0;
  std::string last_state;
  int last_restarts = 0;
  int64_t last_checkpoint = 0;
  absl::Time progress_at = absl::InfinitePast();
  while (true) {
    if (status.state() != last_state) {
      out << Describe(status) << std::endl;
      last_state = status.state();
    }
    if (IsTerminalJobState(status.state())) {
      out << Progress(status) << std::endl;  // the totals, as last reported
      break;
    }
    // Progress every 5 s, and whenever a restart or a checkpoint lands.
    const int64_t checkpoint = status.has_checkpoints() ? status.checkpoints().last_id() : 0;
    const bool news = status.restarts() != last_restarts || checkpoint != last_checkpoint;
    if (status.state() == "RUNNING" && (news || absl::Now() - progress_at >= absl::Seconds(5))) {
      out << Progress(status) << std::endl;
      last_restarts = status.restarts();
      last_checkpoint = checkpoint;
      progress_at = absl::Now();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    grpc::ClientContext context;
    Authorize(&context);
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetJobRequest request;
    request.set_job_id(status.job_id());
    if (grpc::Status got = stub->GetJob(&context, request, &status); !got.ok()) {
      err << "sluice: lost the JobManager while following the job: " << got.error_message() << "\n";
      return 1;
    }
  }
  if (!status.error().empty()) err << "sluice: job failed: " << status.error() << "\n";
  return status.state() == "FINISHED" ? 0 : 1;
}

namespace {

bool Scheduled(const std::string& state) {
  return state == "CREATED" || state == "INITIALIZING" || state == "SCHEDULED";
}

// One section of the list, with its header, as Flink's list prints them.
void ListSection(const v1::ListJobsResponse& jobs, const std::string& title,
                 const std::function<bool(const std::string&)>& shown, std::ostream& out) {
  std::vector<const v1::JobStatus*> picked;
  for (const auto& job : jobs.jobs()) {
    if (shown(job.state())) picked.push_back(&job);
  }
  if (picked.empty()) {
    out << "No " << absl::AsciiStrToLower(title) << ".\n";
    return;
  }
  out << "------------------ " << title << " ------------------\n";
  out << absl::StrFormat("%-32s  %-12s %-10s %-19s %-5s %-s\n", "JOB ID", "NAME", "STATE",
                         "STARTED", "P", "TENANT  DURATION  DETAILS");
  for (const v1::JobStatus* job : picked) {
    out << Describe(*job) << (job->error().empty() ? "" : "  " + job->error()) << "\n";
  }
}

}  // namespace

int ListJobs(const std::string& target, const ListFilter& filter, std::ostream& out,
             std::ostream& err) {
  grpc::ClientContext context;
  Authorize(&context);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::ListJobsResponse jobs;
  grpc::Status status = Connect(target)->ListJobs(&context, v1::ListJobsRequest{}, &jobs);
  if (!status.ok()) {
    err << "sluice: cannot list jobs: " << Why(status, target) << "\n";
    return 1;
  }
  const bool both = !filter.running && !filter.scheduled && !filter.all;
  if (filter.all || filter.running || both) {
    ListSection(
        jobs, "Running/Restarting Jobs",
        [](const std::string& state) { return !Scheduled(state) && !IsTerminalJobState(state); },
        out);
  }
  if (filter.all || filter.scheduled || both) ListSection(jobs, "Scheduled Jobs", Scheduled, out);
  if (filter.all) ListSection(jobs, "Ended Jobs", IsTerminalJobState, out);
  return 0;
}

int CancelJob(const std::string& target, const std::string& job_id, std::ostream& out,
              std::ostream& err) {
  grpc::ClientContext context;
  Authorize(&context);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto stub = Connect(target);
  v1::GetJobRequest get;
  get.set_job_id(job_id);
  v1::JobStatus before;
  grpc::Status known = stub->GetJob(&context, get, &before);
  if (!known.ok()) {
    err << "sluice: cannot cancel " << job_id << ": " << Why(known, target) << "\n";
    return 1;
  }
  if (IsTerminalJobState(before.state())) {
    err << "sluice: job " << job_id << " has already ended (" << before.state()
        << "): nothing to cancel\n";
    return 1;
  }
  grpc::ClientContext cancel_context;
  Authorize(&cancel_context);
  cancel_context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::CancelJobRequest request;
  request.set_job_id(job_id);
  v1::JobStatus job;
  grpc::Status status = stub->CancelJob(&cancel_context, request, &job);
  if (!status.ok()) {
    err << "sluice: cannot cancel " << job_id << ": " << Why(status, target) << "\n";
    return 1;
  }
  out << Describe(job) << "\n";
  return 0;
}

int TriggerSavepoint(const std::string& target, const SavepointCommand& command, std::ostream& out,
                     std::ostream& err) {
  grpc::ClientContext context;
  Authorize(&context);
  // A savepoint takes as long as its tasks need (execution.checkpointing.timeout at most).
  context.set_deadline(absl::ToChronoTime(absl::Now() + command.timeout));
  v1::TriggerSavepointRequest request;
  request.set_job_id(command.job_id);
  request.set_target_directory(command.directory);
  request.set_stop(command.stop);
  request.set_drain(command.drain);
  v1::TriggerSavepointResponse response;
  out << (command.stop ? "Stopping" : "Triggering a savepoint for") << " job " << command.job_id
      << ".\n";
  grpc::Status status = Connect(target)->TriggerSavepoint(&context, request, &response);
  if (!status.ok()) {
    err << "sluice: " << (command.stop ? "cannot stop " : "no savepoint of ") << command.job_id
        << ": " << Why(status, target) << "\n";
    return 1;
  }
  out << "Savepoint completed. Path: " << response.location() << "\n"
      << "Resume with: sluice run -s " << response.location() << " ...\n";
  return 0;
}

}  // namespace sluice
