#include "jobmanager/job_json.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "jobmanager/execution_graph.h"
#include "jobmanager/job_history.h"

namespace sluice {
namespace {

using json = nlohmann::ordered_json;

constexpr v1::ExecutionState kStates[] = {
    v1::EXECUTION_STATE_CREATED,      v1::EXECUTION_STATE_SCHEDULED, v1::EXECUTION_STATE_DEPLOYING,
    v1::EXECUTION_STATE_INITIALIZING, v1::EXECUTION_STATE_RUNNING,   v1::EXECUTION_STATE_FINISHED,
    v1::EXECUTION_STATE_CANCELING,    v1::EXECUTION_STATE_CANCELED,  v1::EXECUTION_STATE_FAILED};

std::vector<const v1::TaskExecution*> TasksOf(const v1::JobStatus& job, int vertex) {
  std::vector<const v1::TaskExecution*> tasks;
  for (const auto& task : job.tasks()) {
    if (task.vertex() == vertex) tasks.push_back(&task);
  }
  std::sort(tasks.begin(), tasks.end(),
            [](auto* a, auto* b) { return a->subtask() < b->subtask(); });
  return tasks;
}

bool Ended(v1::ExecutionState state) {
  return state == v1::EXECUTION_STATE_FINISHED || state == v1::EXECUTION_STATE_CANCELED ||
         state == v1::EXECUTION_STATE_FAILED;
}

// Flink's IOMetricsInfo, plus the rates and time shares the TaskManagers measured.
json IoMetrics(const std::vector<const v1::TaskExecution*>& tasks) {
  int64_t read_bytes = 0, write_bytes = 0, read_records = 0, write_records = 0;
  double in_rate = 0, out_rate = 0, busy = 0, idle = 0, backpressured = 0;
  bool complete = true;
  for (const auto* task : tasks) {
    const auto& m = task->metrics();
    read_bytes += m.bytes_in();
    write_bytes += m.bytes_out();
    read_records += m.records_in();
    write_records += m.records_out();
    in_rate += m.records_in_per_second();
    out_rate += m.records_out_per_second();
    busy = std::max(busy, m.busy_ratio());
    idle = std::max(idle, m.idle_ratio());
    backpressured = std::max(backpressured, m.backpressured_ratio());
    complete = complete && Ended(task->state());
  }
  return json{{"read-bytes", read_bytes},
              {"read-bytes-complete", complete},
              {"write-bytes", write_bytes},
              {"write-bytes-complete", complete},
              {"read-records", read_records},
              {"read-records-complete", complete},
              {"write-records", write_records},
              {"write-records-complete", complete},
              // Sluice's own: per second over the TaskManagers' window; the
              // busiest subtask's shares, as Flink's UI colours a vertex.
              {"read-records-per-second", in_rate},
              {"write-records-per-second", out_rate},
              {"busy-ratio", busy},
              {"idle-ratio", idle},
              {"backpressured-ratio", backpressured}};
}

json Watermarks(const std::vector<const v1::TaskExecution*>& tasks) {
  json watermarks = json::array();
  for (const auto* task : tasks) {
    const auto& m = task->metrics();
    watermarks.push_back(
        {{"subtask", task->subtask()},
         {"input", m.has_input_watermark_ms() ? json(m.input_watermark_ms()) : json(nullptr)},
         {"output", m.has_output_watermark_ms() ? json(m.output_watermark_ms()) : json(nullptr)}});
  }
  return watermarks;
}

// A vertex is in the state most of its subtasks are in, as Flink aggregates:
// any failed or running one decides first.
std::string VertexState(const std::vector<const v1::TaskExecution*>& tasks) {
  auto any = [&](v1::ExecutionState state) {
    return std::any_of(tasks.begin(), tasks.end(), [&](auto* t) { return t->state() == state; });
  };
  for (auto state :
       {v1::EXECUTION_STATE_FAILED, v1::EXECUTION_STATE_CANCELING, v1::EXECUTION_STATE_RUNNING,
        v1::EXECUTION_STATE_INITIALIZING, v1::EXECUTION_STATE_DEPLOYING,
        v1::EXECUTION_STATE_SCHEDULED, v1::EXECUTION_STATE_CREATED, v1::EXECUTION_STATE_CANCELED}) {
    if (any(state)) return ExecutionStateName(state);
  }
  return tasks.empty() ? "CREATED" : "FINISHED";
}

int64_t StartTime(const std::vector<const v1::TaskExecution*>& tasks) {
  int64_t start = -1;
  for (const auto* t : tasks) {
    if (t->start_time_ms() > 0 && (start < 0 || t->start_time_ms() < start)) {
      start = t->start_time_ms();
    }
  }
  return start;
}

json VertexJson(const v1::JobStatus& job, const JobGraph& graph, int index, int64_t now_ms) {
  const JobVertex& vertex = graph.vertices.at(static_cast<size_t>(index));
  const auto tasks = TasksOf(job, index);
  const int64_t start = StartTime(tasks);
  const std::string state = VertexState(tasks);
  const bool ended = state == "FINISHED" || state == "CANCELED" || state == "FAILED";
  const int64_t end = ended ? (job.end_time_ms() > 0 ? job.end_time_ms() : now_ms) : -1;
  return json{{"id", VertexId(job.job_id(), graph, index)},
              {"name", vertex.name},
              {"maxParallelism", graph.node(vertex.chain.front()).max_parallelism},
              {"parallelism", vertex.parallelism},
              {"status", state},
              {"start-time", start},
              {"end-time", end},
              {"duration", start < 0 ? -1 : (end < 0 ? now_ms : end) - start},
              {"tasks", TaskStateCounts(job, index)},
              {"metrics", IoMetrics(tasks)},
              {"watermarks", Watermarks(tasks)},
              {"index", index},
              {"chain", [&] {
                 json chain = json::array();
                 for (int node : vertex.chain) chain.push_back(graph.node(node).name);
                 return chain;
               }()}};
}

json PlanJson(const v1::JobStatus& job, const JobGraph& graph) {
  json nodes = json::array();
  for (size_t v = 0; v < graph.vertices.size(); ++v) {
    const JobVertex& vertex = graph.vertices[v];
    json inputs = json::array();
    int num = 0;
    for (const JobEdge& edge : graph.edges) {
      if (edge.target_vertex != vertex.id) continue;
      std::string strategy = PartitioningName(edge.partitioning);
      std::transform(strategy.begin(), strategy.end(), strategy.begin(), ::toupper);
      inputs.push_back({{"num", num++},
                        {"id", VertexId(job.job_id(), graph, edge.source_vertex)},
                        {"ship_strategy", strategy},
                        {"exchange", "pipelined_bounded"}});
    }
    std::string description;
    for (int node : vertex.chain) {
      if (!description.empty()) description += " -> ";
      description += graph.node(node).name;
    }
    json node{{"id", VertexId(job.job_id(), graph, static_cast<int>(v))},
              {"parallelism", vertex.parallelism},
              {"operator", ""},
              {"operator_strategy", ""},
              {"description", description},
              {"optimizer_properties", json::object()}};
    if (!inputs.empty()) node["inputs"] = std::move(inputs);
    nodes.push_back(std::move(node));
  }
  return json{{"jid", job.job_id()}, {"name", job.name()}, {"type", "STREAMING"}, {"nodes", nodes}};
}

// When the job entered each state, as far as the JobMaster's snapshot tells.
json Timestamps(const v1::JobStatus& job) {
  json timestamps;
  for (const char* state : {"INITIALIZING", "CREATED", "RUNNING", "FAILING", "FAILED", "CANCELLING",
                            "CANCELED", "FINISHED", "RESTARTING", "SUSPENDED", "RECONCILING"}) {
    timestamps[state] = 0;
  }
  timestamps["INITIALIZING"] = job.start_time_ms();
  timestamps["CREATED"] = job.start_time_ms();
  if (job.state() != "CREATED") timestamps["RUNNING"] = job.start_time_ms();
  if (job.end_time_ms() > 0) timestamps[job.state()] = job.end_time_ms();
  return timestamps;
}

}  // namespace

std::string VertexId(const std::string& job_id, const JobGraph& graph, int index) {
  std::string seed = absl::StrCat(job_id, "/", index);
  for (int node : graph.vertices.at(static_cast<size_t>(index)).chain) {
    absl::StrAppend(&seed, "/",
                    graph.node(node).uid.empty() ? graph.node(node).name : graph.node(node).uid);
  }
  return Sha256::Of(seed).substr(0, 32);
}

std::optional<int> FindVertex(const std::string& job_id, const JobGraph& graph,
                              const std::string& id) {
  for (size_t v = 0; v < graph.vertices.size(); ++v) {
    const int index = static_cast<int>(v);
    if (id == VertexId(job_id, graph, index) || id == std::to_string(index)) return index;
  }
  return std::nullopt;
}

json TaskStateCounts(const v1::JobStatus& job, std::optional<int> vertex) {
  json counts;
  for (auto state : kStates) counts[ExecutionStateName(state)] = 0;
  counts["RECONCILING"] = 0;
  for (const auto& task : job.tasks()) {
    if (vertex && task.vertex() != *vertex) continue;
    const char* name = ExecutionStateName(task.state());
    if (counts.contains(name)) counts[name] = counts[name].get<int>() + 1;
  }
  return counts;
}

json JobDetailsJson(const v1::JobStatus& job, const JobGraph& graph, int64_t now_ms) {
  const bool ended = IsTerminalJobState(job.state());
  json vertices = json::array();
  for (size_t v = 0; v < graph.vertices.size(); ++v) {
    vertices.push_back(VertexJson(job, graph, static_cast<int>(v), now_ms));
  }
  return json{{"jid", job.job_id()},
              {"name", job.name()},
              {"isStoppable", false},
              {"state", job.state()},
              {"job-type", "STREAMING"},
              {"start-time", job.start_time_ms()},
              {"end-time", ended ? job.end_time_ms() : -1},
              {"duration", job.duration_ms()},
              {"maxParallelism", graph.max_parallelism},
              {"now", now_ms},
              {"parallelism", job.parallelism()},
              {"tenant", job.tenant()},
              {"restarts", job.restarts()},
              {"root-exception", job.error().empty() ? json(nullptr) : json(job.error())},
              {"timestamps", Timestamps(job)},
              {"vertices", std::move(vertices)},
              {"status-counts", TaskStateCounts(job, std::nullopt)},
              {"plan", PlanJson(job, graph)}};
}

json VertexDetailsJson(const v1::JobStatus& job, const JobGraph& graph, int vertex,
                       int64_t now_ms) {
  json details = VertexJson(job, graph, vertex, now_ms);
  json subtasks = json::array();
  for (const auto* task : TasksOf(job, vertex)) {
    const bool ended = Ended(task->state());
    const int64_t start = task->start_time_ms() > 0 ? task->start_time_ms() : -1;
    const int64_t end = ended && job.end_time_ms() > 0 ? job.end_time_ms() : -1;
    subtasks.push_back({{"subtask", task->subtask()},
                        {"status", ExecutionStateName(task->state())},
                        {"attempt", task->attempt()},
                        {"endpoint", task->task_manager_address()},
                        {"start-time", start},
                        {"end-time", end},
                        {"duration", start < 0 ? -1 : (end < 0 ? now_ms : end) - start},
                        {"metrics", IoMetrics({task})},
                        {"taskmanager-id", task->task_manager_id()}});
  }
  details["now"] = now_ms;
  details["subtasks"] = std::move(subtasks);
  return details;
}

// Flink's levels: above 0.5 of the time back-pressured is high, above 0.1 low.
json BackPressureJson(const v1::JobStatus& job, int vertex, int64_t now_ms) {
  auto level = [](double ratio) { return ratio > 0.5 ? "high" : ratio > 0.1 ? "low" : "ok"; };
  json subtasks = json::array();
  double worst = 0;
  for (const auto* task : TasksOf(job, vertex)) {
    const auto& m = task->metrics();
    worst = std::max(worst, m.backpressured_ratio());
    subtasks.push_back({{"subtask", task->subtask()},
                        {"attemptNumber", task->attempt()},
                        {"backpressureLevel", level(m.backpressured_ratio())},
                        {"ratio", m.backpressured_ratio()},
                        {"idleRatio", m.idle_ratio()},
                        {"busyRatio", m.busy_ratio()}});
  }
  return json{{"status", "ok"},
              {"backpressureLevel", level(worst)},
              {"end-timestamp", now_ms},
              {"subtasks", std::move(subtasks)}};
}

json ExceptionsJson(const v1::JobStatus& job) {
  json entries = json::array();
  json all = json::array();
  for (auto it = job.exceptions().rbegin(); it != job.exceptions().rend(); ++it) {
    entries.push_back(
        {{"exceptionName", "JobException"},
         {"stacktrace", it->message()},
         {"timestamp", it->timestamp_ms()},
         {"taskName", it->task_name().empty() ? json(nullptr) : json(it->task_name())},
         {"location", it->location().empty() ? json(nullptr) : json(it->location())},
         {"concurrentExceptions", json::array()}});
    all.push_back({{"exception", it->message()},
                   {"task", it->task_name()},
                   {"location", it->location()},
                   {"timestamp", it->timestamp_ms()}});
  }
  const bool failed = !job.exceptions().empty();
  return json{
      {"root-exception", failed ? json(job.exceptions().rbegin()->message()) : json(nullptr)},
      {"timestamp", failed ? json(job.exceptions().rbegin()->timestamp_ms()) : json(nullptr)},
      {"all-exceptions", std::move(all)},
      {"truncated", false},
      {"exceptionHistory", {{"entries", std::move(entries)}, {"truncated", false}}}};
}

}  // namespace sluice
