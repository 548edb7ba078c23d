// How a job's subtasks are connected: which downstream subtasks each
// upstream subtask sends to, and the pipelined regions that follow (Flink's
// SchedulingPipelinedRegion). Channels are pipelined, so the subtasks of a
// region run, fail and restart together; subtasks of different regions share
// no channel, so a TaskManager can deploy and cancel a region's share of a
// job while the job's other regions run on.
#ifndef SLUICE_ENGINE_PIPELINED_REGIONS_H_
#define SLUICE_ENGINE_PIPELINED_REGIONS_H_

#include <vector>

#include "sluice/internal/graph.h"

namespace sluice::engine {

// The subtasks of the consumer (parallelism `down`) that subtask `u` of the
// producer (parallelism `up`) sends to over an edge with `partitioning`.
std::vector<int> ConsumersOf(Partitioning partitioning, int u, int up, int down);

struct PipelinedRegions {
  // Region of each subtask: region[vertex][subtask], numbered 0.. in the
  // order of their first subtask (vertex by vertex, subtask by subtask).
  std::vector<std::vector<int>> region;
  int count = 0;
};
// The regions of a finalized graph.
PipelinedRegions PipelinedRegionsOf(const JobGraph& graph);

}  // namespace sluice::engine

#endif  // SLUICE_ENGINE_PIPELINED_REGIONS_H_
