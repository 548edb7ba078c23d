// Whether a job can resume from a checkpoint or savepoint (sluice run -s):
// the path holds a complete checkpoint, every operator state in it belongs to
// an operator of the job (or the user allowed dropping the rest), and every
// source resumes at the parallelism it was saved with. Keyed state may go to
// another parallelism: it is split by key groups.
#ifndef SLUICE_JOBMANAGER_RESUME_CHECK_H_
#define SLUICE_JOBMANAGER_RESUME_CHECK_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "sluice/internal/graph.h"

namespace sluice {

// The checkpoint's directory for `path` (a directory or its _metadata).
std::string CheckpointDirectoryOf(const std::string& path);

struct ResumePoint {
  std::string directory;  // of the checkpoint
  int64_t checkpoint_id = 0;
};
// Where to resume from, or why the job cannot resume from `path`
// (FAILED_PRECONDITION naming the operator or the file).
absl::StatusOr<ResumePoint> CheckResume(const JobGraph& graph, const std::string& path,
                                        bool allow_non_restored_state);

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_RESUME_CHECK_H_
