// The files checkpoints are made of, on a filesystem directory (local, or a
// mount every TaskManager and the JobManager share), in Flink's layout:
//
//   <dir>/<job id>/chk-<n>/_metadata      written last: the checkpoint exists once it does
//   <dir>/<job id>/chk-<n>/<state files>  each task attempt's state of checkpoint n
//   <dir>/<job id>/shared/, taskowned/    (for incremental state, later)
//
// Every file is framed: magic "SLCK", format version, what it holds, the
// body's length, the body, and the body's XXH3-64. Reading checks all of it,
// so a truncated or corrupt file is an error naming the file and what is
// wrong (DATA_LOSS), never state restored silently. Files are written to a
// temporary name, synced and renamed into place, so a reader never sees half
// a file; an existing file is never overwritten.
#ifndef SLUICE_ENGINE_CHECKPOINT_FILES_H_
#define SLUICE_ENGINE_CHECKPOINT_FILES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sluice/v1/checkpoint.pb.h"

namespace sluice::engine {

enum class CheckpointFileKind : uint32_t { kMetadata = 1, kTaskState = 2 };
inline constexpr uint32_t kCheckpointFormatVersion = 1;
inline constexpr char kMetadataFileName[] = "_metadata";

// Writes `body` framed to `path` atomically; ALREADY_EXISTS if it exists.
absl::Status WriteCheckpointFile(const std::string& path, CheckpointFileKind kind,
                                 std::string_view body);
// The body of a file written by WriteCheckpointFile, checked.
absl::StatusOr<std::string> ReadCheckpointFile(const std::string& path, CheckpointFileKind kind);

// <dir>/<job id>/chk-<n>
std::string CheckpointDirectory(const std::string& dir, const std::string& job_id, int64_t id);
// Creates chk-<n> (and the job's shared/ and taskowned/).
absl::Status CreateCheckpointDirectory(const std::string& dir, const std::string& job_id,
                                       int64_t id);
absl::Status WriteMetadata(const std::string& checkpoint_dir, const v1::CheckpointMetadata& meta);
absl::StatusOr<v1::CheckpointMetadata> ReadMetadata(const std::string& checkpoint_dir);
// Deletes chk-<n> with everything in it.
absl::Status DiscardCheckpoint(const std::string& checkpoint_dir);

struct LatestCheckpoint {
  std::string directory;
  v1::CheckpointMetadata metadata;
  // Newer checkpoints passed over, each with why (incomplete or corrupt).
  std::vector<std::string> skipped;
};
// The newest checkpoint of the job under `dir` whose metadata reads back
// whole; NOT_FOUND if there is none.
absl::StatusOr<LatestCheckpoint> FindLatestCheckpoint(const std::string& dir,
                                                      const std::string& job_id);

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_CHECKPOINT_FILES_H_
