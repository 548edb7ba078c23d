#include "jobmanager/execution_graph.h"

#include <algorithm>

#include "engine/pipelined_regions.h"

namespace sluice {

const char* ExecutionStateName(v1::ExecutionState state) {
  switch (state) {
    case v1::EXECUTION_STATE_CREATED:
      return "CREATED";
    case v1::EXECUTION_STATE_SCHEDULED:
      return "SCHEDULED";
    case v1::EXECUTION_STATE_DEPLOYING:
      return "DEPLOYING";
    case v1::EXECUTION_STATE_INITIALIZING:
      return "INITIALIZING";
    case v1::EXECUTION_STATE_RUNNING:
      return "RUNNING";
    case v1::EXECUTION_STATE_FINISHED:
      return "FINISHED";
    case v1::EXECUTION_STATE_CANCELING:
      return "CANCELING";
    case v1::EXECUTION_STATE_CANCELED:
      return "CANCELED";
    case v1::EXECUTION_STATE_FAILED:
      return "FAILED";
    default:
      return "UNKNOWN";
  }
}

bool IsTerminal(v1::ExecutionState state) {
  return state == v1::EXECUTION_STATE_FINISHED || state == v1::EXECUTION_STATE_CANCELED ||
         state == v1::EXECUTION_STATE_FAILED;
}

ExecutionGraph::ExecutionGraph(const JobGraph& graph) {
  const engine::PipelinedRegions regions = engine::PipelinedRegionsOf(graph);
  regions_ = regions.count;
  for (const auto& vertex : graph.vertices) {
    first_of_vertex_.push_back(static_cast<int>(executions_.size()));
    for (int s = 0; s < vertex.parallelism; ++s) {
      Execution e;
      e.vertex = vertex.id;
      e.subtask = s;
      e.region = regions.region[vertex.id][s];
      executions_.push_back(e);
    }
  }
}

Execution* ExecutionGraph::Mutable(int vertex, int subtask) {
  if (vertex < 0 || vertex >= static_cast<int>(first_of_vertex_.size())) return nullptr;
  const int index = first_of_vertex_[vertex] + subtask;
  const int end = vertex + 1 < static_cast<int>(first_of_vertex_.size())
                      ? first_of_vertex_[vertex + 1]
                      : static_cast<int>(executions_.size());
  if (subtask < 0 || index >= end) return nullptr;
  return &executions_[index];
}

const Execution* ExecutionGraph::Find(int vertex, int subtask) const {
  return const_cast<ExecutionGraph*>(this)->Mutable(vertex, subtask);
}

void ExecutionGraph::Schedule(const std::vector<OfferedSlot>& slots) {
  for (auto& e : executions_) {
    e.slot = slots.at(e.subtask);
    e.state = v1::EXECUTION_STATE_SCHEDULED;
  }
}

void ExecutionGraph::TransitionAll(v1::ExecutionState from, v1::ExecutionState to) {
  for (auto& e : executions_) {
    if (e.state == from) e.state = to;
  }
}

// Forward along CREATED .. RUNNING -> FINISHED (steps may be skipped: a
// short task can finish before its RUNNING report is sent); from any state
// not ended to CANCELING, CANCELED or FAILED; CANCELING only to an end.
bool ExecutionGraph::Legal(v1::ExecutionState from, v1::ExecutionState to) {
  if (IsTerminal(from)) return false;
  if (to == v1::EXECUTION_STATE_CANCELED || to == v1::EXECUTION_STATE_FAILED) return true;
  if (from == v1::EXECUTION_STATE_CANCELING) return to == v1::EXECUTION_STATE_FINISHED;
  if (to == v1::EXECUTION_STATE_CANCELING) return true;
  return to > from && to <= v1::EXECUTION_STATE_FINISHED;
}

ExecutionGraph::Report ExecutionGraph::Update(const ExecutionId& id, v1::ExecutionState state,
                                              const std::string& error) {
  Execution* e = Mutable(id.vertex, id.subtask);
  if (e == nullptr) return Report::kUnknownTask;
  if (id.attempt != e->attempt) return Report::kStaleAttempt;
  if (state == e->state) return Report::kDuplicate;
  if (!Legal(e->state, state)) return Report::kIllegal;
  e->state = state;
  if (state == v1::EXECUTION_STATE_FAILED) {
    e->error = error;
    if (!failure_) failure_ = error;
  }
  return Report::kApplied;
}

int ExecutionGraph::FailAllocation(const std::string& allocation_id, const std::string& why) {
  int failed = 0;
  for (auto& e : executions_) {
    if (e.slot.allocation_id != allocation_id || IsTerminal(e.state)) continue;
    e.state = v1::EXECUTION_STATE_FAILED;
    e.error = why;
    ++failed;
  }
  if (failed > 0 && !failure_) failure_ = why;
  return failed;
}

void ExecutionGraph::Restart() {
  for (auto& e : executions_) {
    ++e.attempt;
    e.state = v1::EXECUTION_STATE_CREATED;
    e.slot = OfferedSlot{};
    e.error.clear();
  }
  failure_.reset();
}

void ExecutionGraph::RestartRegion(int region) {
  for (auto& e : executions_) {
    if (e.region != region) continue;
    ++e.attempt;
    e.state = v1::EXECUTION_STATE_SCHEDULED;
    e.error.clear();
  }
  failure_.reset();
}

std::set<std::string> ExecutionGraph::TaskManagersOf(int region) const {
  std::set<std::string> addresses;
  for (const auto& e : executions_) {
    if (e.region == region) addresses.insert(e.slot.task_manager_address);
  }
  return addresses;
}

void ExecutionGraph::EndAll(v1::ExecutionState state) {
  for (auto& e : executions_) {
    if (!IsTerminal(e.state)) e.state = state;
  }
}

bool ExecutionGraph::AllFinished() const {
  return std::all_of(executions_.begin(), executions_.end(),
                     [](const Execution& e) { return e.state == v1::EXECUTION_STATE_FINISHED; });
}

bool ExecutionGraph::AllTerminal() const {
  return std::all_of(executions_.begin(), executions_.end(),
                     [](const Execution& e) { return IsTerminal(e.state); });
}

int ExecutionGraph::Count(v1::ExecutionState state) const {
  return static_cast<int>(std::count_if(executions_.begin(), executions_.end(),
                                        [state](const Execution& e) { return e.state == state; }));
}

}  // namespace sluice
