// The JobMaster's view of a running job (Flink's ExecutionGraph): one
// execution per (vertex, subtask), each with its current attempt, the
// allocation (slot) it runs in and its execution state. Reports move an
// execution forward only if they come from its current attempt and make a
// legal transition, so a late report of a replaced attempt, a duplicate, or
// a report that would revive an ended task changes nothing.
//
// Pure bookkeeping on the JobMaster's thread; no locks, no time.
#ifndef SLUICE_JOBMANAGER_EXECUTION_GRAPH_H_
#define SLUICE_JOBMANAGER_EXECUTION_GRAPH_H_

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "jobmanager/slot_pool.h"
#include "sluice/internal/graph.h"
#include "sluice/v1/execution.pb.h"

namespace sluice {

const char* ExecutionStateName(v1::ExecutionState state);
bool IsTerminal(v1::ExecutionState state);

struct ExecutionId {
  int vertex = 0;
  int subtask = 0;
  int attempt = 0;
};

struct Execution {
  int vertex = 0;
  int subtask = 0;
  int attempt = 0;
  int region = 0;  // its pipelined region (engine/pipelined_regions.h)
  v1::ExecutionState state = v1::EXECUTION_STATE_CREATED;
  OfferedSlot slot;   // where it runs, once scheduled
  std::string error;  // why it failed
};

class ExecutionGraph {
 public:
  explicit ExecutionGraph(const JobGraph& graph);

  // Slot i hosts subtask i of every vertex (slot sharing): CREATED ->
  // SCHEDULED. `slots` must hold at least the largest parallelism.
  void Schedule(const std::vector<OfferedSlot>& slots);
  // Moves every execution in `from` to `to` (e.g. SCHEDULED -> DEPLOYING).
  void TransitionAll(v1::ExecutionState from, v1::ExecutionState to);

  enum class Report { kApplied, kStaleAttempt, kDuplicate, kIllegal, kUnknownTask };
  Report Update(const ExecutionId& id, v1::ExecutionState state, const std::string& error);
  // The executions running in `allocation_id` fail (their slot is gone).
  int FailAllocation(const std::string& allocation_id, const std::string& why);
  // Every execution not yet ended becomes `state` (CANCELING, CANCELED, FAILED).
  void EndAll(v1::ExecutionState state);
  // A restart: every execution gets its next attempt, CREATED and without a
  // slot; reports of the earlier attempts are stale from now on.
  void Restart();
  // A restart of one pipelined region: its executions get their next
  // attempt, SCHEDULED in the slots they had; the others run on.
  void RestartRegion(int region);

  bool AllFinished() const;
  bool AllTerminal() const;
  // The first failure reported (the root cause), if any.
  std::optional<std::string> Failure() const { return failure_; }
  int Count(v1::ExecutionState state) const;
  const std::vector<Execution>& executions() const { return executions_; }
  int regions() const { return regions_; }
  const Execution* Find(int vertex, int subtask) const;
  // The TaskManagers (addresses) running region `region`.
  std::set<std::string> TaskManagersOf(int region) const;

 private:
  static bool Legal(v1::ExecutionState from, v1::ExecutionState to);
  Execution* Mutable(int vertex, int subtask);

  std::vector<Execution> executions_;
  std::vector<int> first_of_vertex_;  // index of (vertex, 0)
  int regions_ = 0;
  std::optional<std::string> failure_;
};

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_EXECUTION_GRAPH_H_
