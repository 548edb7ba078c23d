#include "jobmanager/checkpoint_coordinator.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/config/value_parsers.h"

namespace sluice {

absl::StatusOr<CheckpointingOptions> CheckpointingOptionsFromConfig(const Config& config) {
  CheckpointingOptions o;
  if (!config.Has("execution.checkpointing.interval")) return o;  // off
  const std::string p = "execution.checkpointing.";
  o.interval = config.GetDuration(p + "interval");
  o.exactly_once = config.GetString(p + "mode") == "EXACTLY_ONCE";
  o.timeout = config.GetDuration(p + "timeout");
  o.min_pause = config.GetDuration(p + "min-pause");
  o.max_concurrent = static_cast<int>(config.GetInt(p + "max-concurrent-checkpoints"));
  o.tolerable_failures = static_cast<int>(config.GetInt(p + "tolerable-failed-checkpoints"));
  o.num_retained = static_cast<int>(config.GetInt(p + "num-retained"));
  o.unaligned = config.GetBool(p + "unaligned.enabled");
  o.aligned_timeout = config.GetDuration(p + "aligned-checkpoint-timeout");
  const std::string retention = config.GetString(p + "externalized-checkpoint-retention");
  o.retention = retention == "RETAIN_ON_CANCELLATION"
                    ? CheckpointingOptions::Retention::kRetainOnCancellation
                : retention == "DELETE_ON_CANCELLATION"
                    ? CheckpointingOptions::Retention::kDeleteOnCancellation
                    : CheckpointingOptions::Retention::kNoExternalized;
  if (!config.Has(p + "dir") || config.GetString(p + "dir").empty()) {
    return absl::InvalidArgumentError(
        "execution.checkpointing.interval is set but execution.checkpointing.dir (or "
        "state.checkpoints.dir) is not: checkpoints need a directory");
  }
  o.dir = config.GetString(p + "dir");
  return o;
}

int64_t CompletedCheckpoint::size_bytes() const {
  int64_t total = 0;
  for (const auto& [task, state] : states) total += state.size_bytes;
  return total;
}

namespace {

std::string Describe(const TaskAttemptId& task) {
  return absl::StrCat("subtask ", task.subtask, " of vertex ", task.vertex, " (attempt ",
                      task.attempt, ")");
}

}  // namespace

CheckpointCoordinator::CheckpointCoordinator(CheckpointingOptions options,
                                             std::vector<TaskAttemptId> tasks, const Clock* clock,
                                             Scheduler schedule, Hooks* hooks)
    : options_(std::move(options)),
      tasks_(tasks.begin(), tasks.end()),
      clock_(clock),
      schedule_(std::move(schedule)),
      hooks_(hooks) {}

CheckpointCoordinator::~CheckpointCoordinator() = default;

void CheckpointCoordinator::Start() {
  if (running_) return;
  running_ = true;
  if (options_.enabled()) SchedulePeriodic(options_.interval);
}

void CheckpointCoordinator::Stop(const std::string& reason) {
  running_ = false;
  ++generation_;
  while (!pending_.empty()) Fail(pending_.begin()->first, reason, /*counts=*/false);
}

void CheckpointCoordinator::SetTasks(std::vector<TaskAttemptId> tasks) {
  tasks_ = std::set<TaskAttemptId>(tasks.begin(), tasks.end());
}

void CheckpointCoordinator::SchedulePeriodic(absl::Duration delay) {
  schedule_(delay, [alive = std::weak_ptr<int>(alive_), this, generation = generation_] {
    if (alive.lock()) OnPeriodic(generation);
  });
}

void CheckpointCoordinator::OnPeriodic(uint64_t generation) {
  if (generation != generation_ || !running_) return;
  (void)TriggerNow();  // held back: the next period tries again
  absl::Duration next = options_.interval;
  if (last_completion_) {
    // min-pause counts from the last completion.
    next = std::max(next, *last_completion_ + options_.min_pause - clock_->Now());
  }
  SchedulePeriodic(next);
}

absl::StatusOr<int64_t> CheckpointCoordinator::TriggerNow() {
  if (!running_) return absl::FailedPreconditionError("checkpointing is stopped");
  if (!options_.enabled()) return absl::FailedPreconditionError("checkpointing is off");
  return Trigger(std::nullopt);
}

absl::StatusOr<int64_t> CheckpointCoordinator::TriggerSavepoint(SavepointTrigger savepoint) {
  if (!running_) {
    return absl::FailedPreconditionError("the job is not running: its tasks cannot take one");
  }
  return Trigger(std::move(savepoint));
}

absl::StatusOr<int64_t> CheckpointCoordinator::Trigger(std::optional<SavepointTrigger> savepoint) {
  const absl::Time now = clock_->Now();
  const int checkpoints_pending = static_cast<int>(std::count_if(
      pending_.begin(), pending_.end(), [](const auto& p) { return !p.second.savepoint; }));
  if (!savepoint && checkpoints_pending >= options_.max_concurrent) {
    return absl::ResourceExhaustedError(absl::StrCat(
        pending_.size(), " checkpoint(s) in progress, at most ", options_.max_concurrent,
        " (execution.checkpointing.max-concurrent-checkpoints)"));
  }
  if (!savepoint && last_completion_ && now - *last_completion_ < options_.min_pause) {
    return absl::FailedPreconditionError(
        absl::StrCat("execution.checkpointing.min-pause: the next checkpoint may start in ",
                     HumanDuration(*last_completion_ + options_.min_pause - now)));
  }
  if (tasks_.empty()) return absl::FailedPreconditionError("no task to acknowledge a checkpoint");
  const int64_t id = next_id_++;
  Pending pending;
  pending.id = id;
  pending.triggered = now;
  pending.waiting = tasks_;
  pending.savepoint = savepoint;
  pending_.emplace(id, std::move(pending));
  ++stats_.triggered;
  ++stats_.in_progress;
  CheckpointRecord record;
  record.id = id;
  record.triggered = now;
  record.tasks = static_cast<int>(tasks_.size());
  Record(record);
  schedule_(options_.timeout, [alive = std::weak_ptr<int>(alive_), this, id] {
    if (!alive.lock() || pending_.count(id) == 0 || pending_.at(id).finalizing) return;
    const bool counts = !pending_.at(id).savepoint;
    Fail(id, absl::StrCat("expired after ", HumanDuration(options_.timeout)), counts);
  });
  if (!savepoint && options_.unaligned && options_.aligned_timeout > absl::ZeroDuration()) {
    schedule_(options_.aligned_timeout, [alive = std::weak_ptr<int>(alive_), this, id, now] {
      if (alive.lock() && pending_.count(id) != 0 && !pending_.at(id).finalizing) {
        hooks_->SwitchToUnaligned(id, now);
      }
    });
  }
  const SavepointTrigger* trigger = savepoint ? &*savepoint : nullptr;
  if (absl::Status started = hooks_->TriggerSources(id, now, trigger); !started.ok()) {
    Fail(id, absl::StrCat("could not be started: ", started.message()), /*counts=*/!savepoint);
    return started;
  }
  return id;
}

CheckpointCoordinator::Ack CheckpointCoordinator::Acknowledge(int64_t id, const TaskAttemptId& task,
                                                              TaskStateHandle state) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return id > 0 && id < next_id_ ? Ack::kDiscarded : Ack::kUnknown;
  Pending& pending = it->second;
  if (pending.waiting.erase(task) == 0) {
    const bool acked = pending.states.count(task) > 0 ||
                       (pending.finalizing && pending.finalizing->states.count(task) > 0);
    return acked ? Ack::kDuplicate : Ack::kUnknown;
  }
  const int64_t size = state.size_bytes;
  pending.states.emplace(task, std::move(state));
  Update(id, [size](CheckpointRecord& r) {
    ++r.acknowledged;
    r.size_bytes += size;
  });
  if (pending.waiting.empty()) Complete(it);
  return Ack::kRecorded;
}

void CheckpointCoordinator::Decline(int64_t id, const TaskAttemptId& task,
                                    const std::string& reason) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  const bool counts = !it->second.savepoint;  // a savepoint's failure fails only it
  Fail(id, absl::StrCat("declined by ", Describe(task), ": ", reason), counts);
}

void CheckpointCoordinator::Complete(std::map<int64_t, Pending>::iterator it) {
  CompletedCheckpoint& checkpoint = it->second.finalizing.emplace();
  checkpoint.id = it->first;
  checkpoint.triggered = it->second.triggered;
  checkpoint.completed = clock_->Now();
  checkpoint.states = std::move(it->second.states);
  checkpoint.savepoint = it->second.savepoint;
  hooks_->Finalize(
      checkpoint, [alive = std::weak_ptr<int>(alive_), this, id = it->first](absl::Status written) {
        if (alive.lock()) OnFinalized(id, written);
      });
}

void CheckpointCoordinator::OnFinalized(int64_t id, const absl::Status& written) {
  if (auto abandoned = abandoned_.extract(id)) {
    // A savepoint's directory is the user's: it is reported failed, not removed.
    if (!abandoned.mapped().savepoint) hooks_->Discard(abandoned.mapped());
    return;
  }
  auto it = pending_.find(id);
  if (it == pending_.end() || !it->second.finalizing) return;
  CompletedCheckpoint checkpoint = std::move(*it->second.finalizing);
  it->second.finalizing.reset();
  if (!written.ok()) {
    Fail(id, absl::StrCat("its metadata could not be written: ", written.message()),
         /*counts=*/!checkpoint.savepoint);
    return;
  }
  pending_.erase(it);
  checkpoint.completed = clock_->Now();  // its duration includes the write
  if (checkpoint.savepoint) return CompleteSavepoint(checkpoint);
  // Older checkpoints still in progress can no longer be the latest.
  std::vector<int64_t> subsumed;  // savepoints are not: they are the user's
  for (const auto& [older, p] : pending_) {
    if (older < id && !p.savepoint) subsumed.push_back(older);
  }
  for (int64_t older : subsumed) {
    Fail(older, absl::StrCat("subsumed by checkpoint ", id), /*counts=*/false);
  }
  completed_.push_back(std::move(checkpoint));
  while (static_cast<int>(completed_.size()) > options_.num_retained) {
    hooks_->Discard(completed_.front());
    completed_.pop_front();
  }
  last_completion_ = completed_.back().completed;
  consecutive_failures_ = 0;
  ++stats_.completed;
  --stats_.in_progress;
  Update(id, [this](CheckpointRecord& r) {
    r.status = CheckpointRecord::Status::kCompleted;
    r.ended = *last_completion_;
    stats_.latest_completed = r;
  });
  hooks_->NotifyComplete(id);
}

// A savepoint subsumes nothing and is not kept for failover (Flink's
// no-claim mode): the user owns its directory.
void CheckpointCoordinator::CompleteSavepoint(const CompletedCheckpoint& savepoint) {
  ++stats_.completed;
  --stats_.in_progress;
  const absl::Time ended = savepoint.completed;
  Update(savepoint.id, [this, ended, &savepoint](CheckpointRecord& r) {
    r.status = CheckpointRecord::Status::kCompleted;
    r.ended = ended;
    r.savepoint = true;
    r.external_path = savepoint.savepoint->directory;
    stats_.latest_savepoint = r;
  });
  hooks_->NotifyComplete(savepoint.id);  // sinks commit what they prepared for it
  hooks_->SavepointDone(savepoint.id, savepoint.savepoint->directory);
}

void CheckpointCoordinator::Fail(int64_t id, const std::string& reason, bool counts) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  const bool savepoint = it->second.savepoint.has_value();
  if (it->second.finalizing) abandoned_.emplace(id, std::move(*it->second.finalizing));
  pending_.erase(it);
  ++stats_.failed;
  --stats_.in_progress;
  const absl::Time now = clock_->Now();
  Update(id, [this, &reason, now](CheckpointRecord& r) {
    r.status = CheckpointRecord::Status::kFailed;
    r.ended = now;
    r.failure = reason;
    stats_.latest_failed = r;
  });
  hooks_->NotifyAborted(id, reason);
  if (savepoint) hooks_->SavepointDone(id, absl::AbortedError(reason));
  if (counts && ++consecutive_failures_ > options_.tolerable_failures) {
    hooks_->FailJob(absl::StrCat("Exceeded checkpoint tolerable failure threshold (",
                                 options_.tolerable_failures, "): checkpoint ", id, " ", reason));
  }
}

void CheckpointCoordinator::Record(const CheckpointRecord& record) {
  stats_.history.push_front(record);
  while (static_cast<int>(stats_.history.size()) > CheckpointStats::kHistory) {
    stats_.history.pop_back();
  }
}

void CheckpointCoordinator::Update(int64_t id,
                                   const std::function<void(CheckpointRecord&)>& change) {
  for (auto& record : stats_.history) {
    if (record.id == id) return change(record);
  }
  CheckpointRecord gone;  // older than the history: still counted
  gone.id = id;
  change(gone);
}

const CompletedCheckpoint* CheckpointCoordinator::latest() const {
  return completed_.empty() ? nullptr : &completed_.back();
}

}  // namespace sluice
