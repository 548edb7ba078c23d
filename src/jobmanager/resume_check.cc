#include "jobmanager/resume_check.h"

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/checkpoint_files.h"
#include "engine/task_snapshot.h"

namespace sluice {

std::string CheckpointDirectoryOf(const std::string& path) {
  std::string dir = path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const std::string metadata = absl::StrCat("/", engine::kMetadataFileName);
  if (absl::EndsWith(dir, metadata)) dir.resize(dir.size() - metadata.size());
  return dir;
}

absl::StatusOr<ResumePoint> CheckResume(const JobGraph& graph, const std::string& path,
                                        bool allow_non_restored_state) {
  const std::string dir = CheckpointDirectoryOf(path);
  auto meta = engine::ReadMetadata(dir);
  if (!meta.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot resume from ", path, ": ", meta.status().message()));
  }
  std::set<std::string> operators;
  std::map<std::string, int> source_parallelism;  // of the job now
  for (const auto& node : graph.nodes) operators.insert(engine::OperatorStateId(node));
  for (const auto& vertex : graph.vertices) {
    const StreamNode& head = graph.node(vertex.chain.front());
    if (head.kind == StreamNode::Kind::kSource) {
      source_parallelism[engine::OperatorStateId(head)] = vertex.parallelism;
    }
  }
  std::map<std::string, int> saved;  // operator id -> subtasks that saved it
  for (const auto& handle : meta->states()) {
    for (const auto& op : handle.operator_ids()) ++saved[op];
  }
  for (const auto& [op, subtasks] : saved) {
    if (operators.count(op) == 0) {
      if (allow_non_restored_state) continue;
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot resume job '", graph.name, "' from ", path, ": the state of operator '", op,
          "' belongs to no operator of the job (give operators a uid to keep their state across "
          "changes, or resume with --allow-non-restored-state to drop it)"));
    }
    auto source = source_parallelism.find(op);
    if (source != source_parallelism.end() && source->second != subtasks) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot resume job '", graph.name, "' from ", path, ": source '", op,
          "' saved its position with parallelism ", subtasks, " and now has ", source->second,
          "; a source resumes only at the parallelism it was saved with"));
    }
  }
  return ResumePoint{dir, meta->checkpoint_id()};
}

}  // namespace sluice
