#include "client/job_commands.h"

#include <csignal>

#include "absl/strings/str_format.h"
#include "engine/job_library.h"
#include "engine/local_job.h"

namespace sluice {
namespace {

absl::StatusOr<JobGraph> BuildGraph(const JobCommand& command) {
  auto library = engine::JobLibrary::Load(command.library);
  if (!library.ok()) return library.status();
  // The library stays loaded for the life of the process (see JobLibrary).
  static std::vector<std::unique_ptr<engine::JobLibrary>> loaded;
  loaded.push_back(std::move(*library));
  return loaded.back()->Build(command.job, command.args, command.parallelism,
                              command.max_parallelism);
}

std::atomic<engine::LocalJob*> running_job{nullptr};

void CancelOnSignal(int) {
  if (engine::LocalJob* job = running_job.load()) job->Cancel();
}

}  // namespace

int PrintPlan(const JobCommand& command, std::ostream& out, std::ostream& err) {
  auto graph = BuildGraph(command);
  if (!graph.ok()) {
    err << "sluice: " << graph.status().message() << "\n";
    return 1;
  }
  out << graph->Describe() << absl::StrFormat("Graph hash: %016x\n", graph->Hash());
  return 0;
}

int RunLocal(const JobCommand& command, std::ostream& out, std::ostream& err) {
  auto graph = BuildGraph(command);
  if (!graph.ok()) {
    err << "sluice: " << graph.status().message() << "\n";
    return 1;
  }
  std::string name = graph->name;
  uint64_t hash = graph->Hash();
  engine::LocalJobOptions options;
  options.print_out = &out;
  options.buffer_timeout = command.buffer_timeout;
  options.auto_watermark_interval = command.auto_watermark_interval;
  options.segment_size = command.segment_size;
  auto job = engine::LocalJob::Start(*std::move(graph), options);
  if (!job.ok()) {
    err << "sluice: " << job.status().message() << "\n";
    return 1;
  }
  out << absl::StrFormat("Job '%s' (graph %016x) is RUNNING in this process\n", name, hash);
  running_job = job->get();
  auto previous_int = std::signal(SIGINT, CancelOnSignal);
  auto previous_term = std::signal(SIGTERM, CancelOnSignal);
  engine::JobResult result = (*job)->Wait();
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);
  running_job = nullptr;
  out << absl::StrFormat("Job '%s' %s after %.3f s\n", name, engine::JobStateName(result.state),
                         absl::ToDoubleSeconds(result.duration));
  if (!result.error.empty()) err << "sluice: " << result.error << "\n";
  return result.state == engine::JobState::kFinished ? 0 : 1;
}

}  // namespace sluice
