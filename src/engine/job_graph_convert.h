// JobGraph <-> its proto form (the description only: no operator code).
#ifndef SLUICE_ENGINE_JOB_GRAPH_CONVERT_H_
#define SLUICE_ENGINE_JOB_GRAPH_CONVERT_H_

#include "absl/status/statusor.h"
#include "sluice/internal/graph.h"
#include "sluice/v1/jobgraph.pb.h"

namespace sluice::engine {

v1::JobGraph ToProto(const JobGraph& graph);
// INVALID_ARGUMENT for a graph that does not hang together (unknown kinds or
// partitionings, edges or chains naming missing nodes, a wrong hash).
absl::StatusOr<JobGraph> FromProto(const v1::JobGraph& proto);

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_JOB_GRAPH_CONVERT_H_
