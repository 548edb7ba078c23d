#include "jobmanager/checkpoint_rest.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sluice {
namespace {

using json = nlohmann::ordered_json;

const char* StatusName(CheckpointRecord::Status status) {
  switch (status) {
    case CheckpointRecord::Status::kInProgress:
      return "IN_PROGRESS";
    case CheckpointRecord::Status::kCompleted:
      return "COMPLETED";
    case CheckpointRecord::Status::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

json RecordJson(const CheckpointRecord& r, const std::string& directory) {
  const bool ended = r.status != CheckpointRecord::Status::kInProgress;
  json out = {
      {"id", r.id},
      {"status", StatusName(r.status)},
      {"checkpoint_type", r.savepoint ? "SAVEPOINT" : "CHECKPOINT"},
      {"is_savepoint", r.savepoint},
      {"trigger_timestamp", absl::ToUnixMillis(r.triggered)},
      {"latest_ack_timestamp", ended ? absl::ToUnixMillis(r.ended) : -1},
      {"end_to_end_duration", ended ? absl::ToInt64Milliseconds(r.ended - r.triggered) : -1},
      {"state_size", r.size_bytes},
      {"checkpointed_size", r.size_bytes},
      {"num_subtasks", r.tasks},
      {"num_acknowledged_subtasks", r.acknowledged}};
  if (r.status == CheckpointRecord::Status::kCompleted) {
    out["external_path"] = r.savepoint ? r.external_path : absl::StrCat(directory, "/chk-", r.id);
  }
  if (r.status == CheckpointRecord::Status::kFailed) {
    out["failure_timestamp"] = absl::ToUnixMillis(r.ended);
    out["failure_message"] = r.failure;
  }
  return out;
}

// min, max, avg over the completed checkpoints of the history.
json Summary(const CheckpointStats& stats, int64_t (*value)(const CheckpointRecord&)) {
  std::vector<int64_t> values;
  for (const auto& r : stats.history) {
    if (r.status == CheckpointRecord::Status::kCompleted) values.push_back(value(r));
  }
  if (values.empty()) return json{{"min", 0}, {"max", 0}, {"avg", 0}};
  int64_t sum = 0;
  for (int64_t v : values) sum += v;
  return json{{"min", *std::min_element(values.begin(), values.end())},
              {"max", *std::max_element(values.begin(), values.end())},
              {"avg", sum / static_cast<int64_t>(values.size())}};
}

}  // namespace

json CheckpointsJson(const CheckpointStats& stats, const std::string& directory) {
  json history = json::array();
  for (const auto& r : stats.history) history.push_back(RecordJson(r, directory));
  auto latest = [&directory](const std::optional<CheckpointRecord>& r) {
    return r ? RecordJson(*r, directory) : json(nullptr);
  };
  return json{
      {"counts",
       {{"restored", stats.restored},
        {"total", stats.triggered},
        {"in_progress", stats.in_progress},
        {"completed", stats.completed},
        {"failed", stats.failed}}},
      {"summary",
       {{"state_size", Summary(stats, [](const CheckpointRecord& r) { return r.size_bytes; })},
        {"checkpointed_size",
         Summary(stats, [](const CheckpointRecord& r) { return r.size_bytes; })},
        {"end_to_end_duration", Summary(stats,
                                        [](const CheckpointRecord& r) {
                                          return absl::ToInt64Milliseconds(r.ended - r.triggered);
                                        })}}},
      {"latest",
       {{"completed", latest(stats.latest_completed)},
        {"savepoint", latest(stats.latest_savepoint)},
        {"failed", latest(stats.latest_failed)},
        {"restored", stats.latest_restore
                         ? json{{"id", stats.latest_restore->id},
                                {"restore_timestamp", absl::ToUnixMillis(stats.latest_restore->at)},
                                {"is_savepoint", stats.latest_restore->savepoint},
                                {"external_path", stats.latest_restore->path}}
                         : json(nullptr)}}},
      {"history", history}};
}

json CheckpointConfigJson(const CheckpointingOptions& o) {
  if (!o.enabled()) return json{{"mode", "none"}, {"interval", -1}};
  return json{{"mode", o.exactly_once ? "exactly_once" : "at_least_once"},
              {"interval", absl::ToInt64Milliseconds(o.interval)},
              {"timeout", absl::ToInt64Milliseconds(o.timeout)},
              {"min_pause", absl::ToInt64Milliseconds(o.min_pause)},
              {"max_concurrent", o.max_concurrent},
              {"externalization",
               {{"enabled", o.retention != CheckpointingOptions::Retention::kNoExternalized},
                {"delete_on_cancellation",
                 o.retention != CheckpointingOptions::Retention::kRetainOnCancellation}}},
              {"state_backend", "HashMapStateBackend"},
              {"checkpoint_storage", "FileSystemCheckpointStorage"},
              {"unaligned_checkpoints", o.unaligned},
              {"aligned_checkpoint_timeout", absl::ToInt64Milliseconds(o.aligned_timeout)},
              {"tolerable_failed_checkpoints", o.tolerable_failures},
              {"checkpoints_after_tasks_finish", false}};
}

}  // namespace sluice
