#include "engine/local_job.h"

#include <pthread.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/pipelined_regions.h"

namespace sluice::engine {
const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kRunning:
      return "RUNNING";
    case JobState::kFinished:
      return "FINISHED";
    case JobState::kFailed:
      return "FAILED";
    case JobState::kCanceled:
      return "CANCELED";
  }
  return "UNKNOWN";
}

LocalJob::LocalJob(JobGraph graph, LocalJobOptions options)
    : graph_(std::move(graph)), options_(options) {
  context_.buffer_timeout = options.buffer_timeout;
  context_.auto_watermark_interval = options.auto_watermark_interval;
  context_.buffers_per_channel = options.buffers_per_channel;
  context_.segment_size = options.segment_size;
  context_.print_out = options.print_out;
  context_.on_event = options.on_event;
  context_.on_snapshot = options.on_snapshot;
  context_.restore = options.restore;
  context_.on_failure = [this](const std::string& message) { OnFailure(message); };
}

absl::StatusOr<std::unique_ptr<LocalJob>> LocalJob::Start(JobGraph graph, LocalJobOptions options) {
  for (const auto& node : graph.nodes) {
    if (!node.make_operator && !node.make_source) {
      return absl::FailedPreconditionError(
          absl::StrCat("operator '", node.name, "' has no code in this process"));
    }
  }
  if (graph.vertices.empty()) return absl::FailedPreconditionError("the graph is not finalized");
  std::unique_ptr<LocalJob> job(new LocalJob(std::move(graph), options));
  job->Connect(options.placement);
  if (!options.paused) job->Run();
  return job;
}

void LocalJob::Run() {
  {
    absl::MutexLock lock(&mu_);
    if (started_threads_) return;
    started_threads_ = true;
    started_ = absl::Now();
    for (const auto& subtasks : tasks_) {
      for (const auto& task : subtasks) running_ += task ? 1 : 0;
    }
    if (running_ == 0) result_ = JobResult{JobState::kFinished, "", absl::ZeroDuration()};
  }
  for (auto& subtasks : tasks_) {
    for (auto& task : subtasks) {
      if (!task) continue;
      threads_.emplace_back([this, t = task.get()] {
        // "sluice-v<vertex>-<subtask>" in top, perf and gdb.
        std::string name = absl::StrCat("sluice-v", t->vertex(), "-", t->subtask()).substr(0, 15);
        pthread_setname_np(pthread_self(), name.c_str());
        t->Run();
        OnTaskDone(*t, t->failed());
      });
    }
  }
}

void LocalJob::Connect(Placement* placement) {
  auto local = [placement](int vertex, int subtask) {
    return placement == nullptr || placement->IsLocal(vertex, subtask);
  };
  for (const auto& vertex : graph_.vertices) {
    auto& subtasks = tasks_.emplace_back();
    for (int s = 0; s < vertex.parallelism; ++s) {
      subtasks.push_back(local(vertex.id, s) ? std::make_unique<Task>(graph_, vertex, s, &context_)
                                             : nullptr);
    }
  }
  int channel = 0;
  for (const auto& edge : graph_.edges) {
    auto& up = tasks_[edge.source_vertex];
    auto& down = tasks_[edge.target_vertex];
    std::vector<std::vector<ChannelSink*>> outputs(up.size());
    for (int t = 0; t < static_cast<int>(down.size()); ++t) {
      std::vector<int> from;
      for (int u = 0; u < static_cast<int>(up.size()); ++u) {
        auto targets = ConsumersOf(edge.partitioning, u, static_cast<int>(up.size()),
                                   static_cast<int>(down.size()));
        if (std::find(targets.begin(), targets.end(), t) != targets.end()) from.push_back(u);
      }
      int first = down[t] ? down[t]->gate().channels() : 0;
      for (int u : from) {
        int id = channel++;
        if (down[t]) {
          ChannelSink* sink = down[t]->gate().AddChannel();
          if (up[u]) {
            outputs[u].push_back(sink);
          } else {
            placement->RemoteInput(id, edge.source_vertex, u, &down[t]->gate(),
                                   down[t]->gate().channels() - 1, sink);
          }
        } else if (up[u]) {
          outputs[u].push_back(placement->RemoteOutput(id, edge.target_vertex, t));
        }
      }
      if (down[t]) down[t]->AddInput(edge, first, static_cast<int>(from.size()));
    }
    for (size_t u = 0; u < up.size(); ++u) {
      if (up[u]) up[u]->AddOutput(edge, std::move(outputs[u]));
    }
  }
}

void LocalJob::InjectAtSources(const ChannelEvent& event, Task::AfterEvent after, bool unaligned) {
  for (auto& subtasks : tasks_) {
    for (auto& task : subtasks) {
      if (task) task->InjectEvent(event, after, unaligned);
    }
  }
}

void LocalJob::SwitchToUnaligned(const ChannelEvent& barrier) {
  for (auto& subtasks : tasks_) {
    for (auto& task : subtasks) {
      if (task) task->SwitchToUnaligned(barrier);
    }
  }
}

void LocalJob::ExtendLease(absl::Time until) {
  context_.lease_until_ns.store(absl::ToUnixNanos(until), std::memory_order_relaxed);
}

void LocalJob::NotifyCheckpointComplete(int64_t id) {
  for (auto& subtasks : tasks_) {
    for (auto& task : subtasks) {
      if (task) task->NotifyCheckpointComplete(id);
    }
  }
}

std::vector<const Task*> LocalJob::tasks() const {
  std::vector<const Task*> out;
  for (const auto& subtasks : tasks_) {
    for (const auto& task : subtasks) {
      if (task) out.push_back(task.get());
    }
  }
  return out;
}

void LocalJob::OnFailure(const std::string& message) {
  {
    absl::MutexLock lock(&mu_);
    if (error_.empty()) error_ = message;
  }
  StopTasks();
}

void LocalJob::StopTasks() {
  context_.cancelled = true;
  if (options_.placement != nullptr) options_.placement->Cancel();
  for (auto& subtasks : tasks_) {
    for (auto& task : subtasks) {
      if (task) task->gate().Wake();
    }
  }
}

void LocalJob::Cancel() {
  {
    absl::MutexLock lock(&mu_);
    if (result_) return;
    cancel_requested_ = true;
  }
  StopTasks();
}

void LocalJob::OnTaskDone(const Task& task, bool failed) {
  if (options_.on_task_end) {
    JobState state = failed                 ? JobState::kFailed
                     : task.was_cancelled() ? JobState::kCanceled
                                            : JobState::kFinished;
    options_.on_task_end(task.vertex(), task.subtask(), state, task.error());
  }
  absl::MutexLock lock(&mu_);
  if (--running_ > 0) return;
  JobState state = !error_.empty()     ? JobState::kFailed
                   : cancel_requested_ ? JobState::kCanceled
                                       : JobState::kFinished;
  result_ = JobResult{state, error_, absl::Now() - started_};
}

std::optional<JobResult> LocalJob::WaitFor(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return result_.has_value(); };
  mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  return result_;
}

JobResult LocalJob::Wait() {
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return result_.has_value(); };
  mu_.Await(absl::Condition(&done));
  return *result_;
}

LocalJob::~LocalJob() {
  Cancel();
  {
    absl::MutexLock lock(&mu_);
    if (!started_threads_) return;  // prepared, never started
  }
  for (auto& thread : threads_) thread.join();
}

}  // namespace sluice::engine
