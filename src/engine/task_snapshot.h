// A task's part of a checkpoint and how a task starts from one: its source's
// position and its keyed operators' state, key group by key group, so that
// a restore can hand each key group to whichever subtask owns it now (the
// same parallelism or another, up to the max parallelism).
#ifndef SLUICE_ENGINE_TASK_SNAPSHOT_H_
#define SLUICE_ENGINE_TASK_SNAPSHOT_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/heap_keyed_state_backend.h"
#include "sluice/internal/graph.h"
#include "sluice/v1/checkpoint.pb.h"

namespace sluice::engine {

// State a job starts from: per vertex, the snapshots of all its subtasks
// (taken at any parallelism).
struct RestoredState {
  int64_t checkpoint_id = 0;
  std::map<int, std::vector<v1::TaskSnapshotProto>> vertices;
};

// Every task's state of the checkpoint in `checkpoint_dir` (its _metadata,
// inline state and state files, each checked): what a job restarts from.
absl::StatusOr<RestoredState> LoadCheckpoint(const std::string& checkpoint_dir);

// How state finds its operator again: the uid, else its name and node id.
std::string OperatorStateId(const StreamNode& node);

struct KeyedOperator {
  std::string operator_id;
  const HeapKeyedStateBackend* backend = nullptr;
};
// An operator's own state (internal::CheckpointedOperator), as it saved it.
struct ListState {
  std::string operator_id;
  std::string bytes;
};
// The snapshot of one task now (between two records). A source that cannot
// be replayed saves no position.
absl::StatusOr<v1::TaskSnapshotProto> SnapshotTask(int vertex, int subtask, int64_t checkpoint_id,
                                                   const std::string& source_id,
                                                   const SourceRunner* source,
                                                   const std::vector<KeyedOperator>& keyed,
                                                   std::vector<ListState> list_states);

// Gives `backend` every key group of its range that the snapshots hold for
// `operator_id` (in whichever vertex it was: chaining may differ). DATA_LOSS
// for malformed state; FAILED_PRECONDITION if the state was taken with
// another max parallelism.
absl::Status RestoreKeyedOperator(const RestoredState& state, const std::string& operator_id,
                                  HeapKeyedStateBackend* backend);
// Puts subtask `subtask` of source `source_id` back where its snapshot says.
// FAILED_PRECONDITION if the source's parallelism changed or the position
// does not fit.
absl::Status RestoreSource(const RestoredState& state, const std::string& source_id, int subtask,
                           int parallelism, SourceRunner* source);
// What every subtask saved of operator `operator_id`'s own state, by subtask.
std::vector<std::string> OperatorListStates(const RestoredState& state,
                                            const std::string& operator_id);
// How many subtasks saved a position of source `source_id` (0: none).
int SavedSourceParallelism(const RestoredState& state, const std::string& source_id);

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_TASK_SNAPSHOT_H_
