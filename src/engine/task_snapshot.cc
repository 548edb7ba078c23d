#include "engine/task_snapshot.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "engine/checkpoint_files.h"

namespace sluice::engine {

absl::StatusOr<RestoredState> LoadCheckpoint(const std::string& checkpoint_dir) {
  auto meta = ReadMetadata(checkpoint_dir);
  if (!meta.ok()) return meta.status();
  RestoredState state;
  state.checkpoint_id = meta->checkpoint_id();
  for (const auto& handle : meta->states()) {
    std::string bytes = handle.inline_bytes();
    if (!handle.path().empty()) {
      auto read = ReadCheckpointFile(absl::StrCat(checkpoint_dir, "/", handle.path()),
                                     CheckpointFileKind::kTaskState);
      if (!read.ok()) return read.status();
      bytes = *std::move(read);
    }
    v1::TaskSnapshotProto snapshot;
    if (!snapshot.ParseFromString(bytes)) {
      return absl::DataLossError(absl::StrCat("the state of subtask ", handle.subtask(),
                                              " of vertex ", handle.vertex(), " in ",
                                              checkpoint_dir, " does not parse"));
    }
    state.vertices[snapshot.vertex()].push_back(std::move(snapshot));
  }
  for (auto& [vertex, snapshots] : state.vertices) {
    std::sort(snapshots.begin(), snapshots.end(),
              [](const auto& a, const auto& b) { return a.subtask() < b.subtask(); });
  }
  return state;
}

std::string OperatorStateId(const StreamNode& node) {
  return node.uid.empty() ? absl::StrCat(node.name, "-", node.id) : node.uid;
}

absl::StatusOr<v1::TaskSnapshotProto> SnapshotTask(int vertex, int subtask, int64_t checkpoint_id,
                                                   const std::string& source_id,
                                                   const SourceRunner* source,
                                                   const std::vector<KeyedOperator>& keyed,
                                                   std::vector<ListState> list_states) {
  v1::TaskSnapshotProto snapshot;
  snapshot.set_vertex(vertex);
  snapshot.set_subtask(subtask);
  snapshot.set_checkpoint_id(checkpoint_id);
  if (source != nullptr) {
    // A source that cannot be replayed (a socket) saves no position: after a
    // restore it reads on from wherever it is (at-most-once for its records).
    if (auto position = source->SnapshotPosition()) {
      snapshot.set_has_source_position(true);
      snapshot.set_source_position(*position);
      snapshot.set_source_operator_id(source_id);
    }
  }
  for (const auto& op : keyed) {
    auto* state = snapshot.add_operators();
    state->set_operator_id(op.operator_id);
    state->set_max_parallelism(op.backend->max_parallelism());
    if (op.backend->current_watermark() != internal::kNoWatermark) {
      state->set_watermark_ms(op.backend->current_watermark());
    }
    const KeyGroupRange& range = op.backend->key_groups();
    for (int group = range.start; group <= range.end; ++group) {
      auto bytes = op.backend->SnapshotKeyGroup(group);
      if (!bytes.ok()) return bytes.status();
      auto* kg = state->add_key_groups();
      kg->set_key_group(group);
      kg->set_data(*std::move(bytes));
    }
  }
  for (auto& list : list_states) {
    auto* state = snapshot.add_list_states();
    state->set_operator_id(std::move(list.operator_id));
    state->set_data(std::move(list.bytes));
  }
  return snapshot;
}

std::vector<std::string> OperatorListStates(const RestoredState& state,
                                            const std::string& operator_id) {
  std::vector<std::string> saved;
  for (const auto& [vertex, snapshots] : state.vertices) {
    for (const auto& snapshot : snapshots) {  // sorted by subtask
      for (const auto& list : snapshot.list_states()) {
        if (list.operator_id() == operator_id) saved.push_back(list.data());
      }
    }
  }
  return saved;
}

absl::Status RestoreKeyedOperator(const RestoredState& state, const std::string& operator_id,
                                  HeapKeyedStateBackend* backend) {
  const KeyGroupRange& range = backend->key_groups();
  std::optional<int64_t> watermark;  // the smallest of the subtasks restored from
  bool without_watermark = false;
  for (const auto& [vertex, snapshots] : state.vertices) {
    for (const auto& snapshot : snapshots) {
      for (const auto& op : snapshot.operators()) {
        if (op.operator_id() != operator_id) continue;
        const bool overlaps =
            std::any_of(op.key_groups().begin(), op.key_groups().end(),
                        [&](const auto& kg) { return range.contains(kg.key_group()); });
        if (overlaps && !op.has_watermark_ms()) without_watermark = true;
        if (overlaps && op.has_watermark_ms()) {
          watermark = std::min(watermark.value_or(op.watermark_ms()), op.watermark_ms());
        }
        if (op.max_parallelism() != backend->max_parallelism()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the state of operator '", operator_id, "' has ", op.max_parallelism(),
              " key groups (its max parallelism then); the job now has ",
              backend->max_parallelism(), ": keyed state cannot be moved between them"));
        }
        for (const auto& kg : op.key_groups()) {
          if (!range.contains(kg.key_group())) continue;
          if (absl::Status restored = backend->RestoreKeyGroup(kg.key_group(), kg.data());
              !restored.ok()) {
            return absl::DataLossError(
                absl::StrCat("state of operator '", operator_id, "': ", restored.message()));
          }
        }
      }
    }
  }
  if (watermark && !without_watermark) backend->RestoreWatermark(*watermark);
  return absl::OkStatus();
}

int SavedSourceParallelism(const RestoredState& state, const std::string& source_id) {
  int saved = 0;
  for (const auto& [vertex, snapshots] : state.vertices) {
    for (const auto& snapshot : snapshots) {
      saved += snapshot.has_source_position() && snapshot.source_operator_id() == source_id;
    }
  }
  return saved;
}

absl::Status RestoreSource(const RestoredState& state, const std::string& source_id, int subtask,
                           int parallelism, SourceRunner* source) {
  const int saved = SavedSourceParallelism(state, source_id);
  if (saved == 0) return absl::OkStatus();  // a new source: from its start
  if (saved != parallelism) {
    return absl::FailedPreconditionError(
        absl::StrCat("source '", source_id, "' ran with parallelism ", saved,
                     " when its position was saved, and now has ", parallelism,
                     ": a source resumes only at the parallelism it was saved with"));
  }
  for (const auto& [vertex, snapshots] : state.vertices) {
    for (const auto& snapshot : snapshots) {
      if (snapshot.source_operator_id() != source_id || snapshot.subtask() != subtask) continue;
      if (!source->RestorePosition(snapshot.source_position())) {
        return absl::FailedPreconditionError(absl::StrCat("the saved position of subtask ", subtask,
                                                          " of source '", source_id,
                                                          "' does not fit it"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice::engine
