// A job as Flink's REST API describes it, built from the JobMaster's status
// snapshot and the job graph: /jobs/<id> (vertices with 32-hex ids, their
// task-state counts and metrics, timestamps, status-counts, plan), a vertex
// with its subtasks, a vertex's back pressure, and the exception history.
// Field names and types are Flink's, so its scripts and tools keep working.
#ifndef SLUICE_JOBMANAGER_JOB_JSON_H_
#define SLUICE_JOBMANAGER_JOB_JSON_H_

#include <optional>
#include <string>

#include "nlohmann/json.hpp"
#include "sluice/internal/graph.h"
#include "sluice/v1/jobmanager.pb.h"

namespace sluice {

// Vertex `index`'s id: 32 hex digits, stable for the job's graph (Flink's
// JobVertexID), from the job id and the uids of the vertex's chain.
std::string VertexId(const std::string& job_id, const JobGraph& graph, int index);
// The vertex named by `id` (its 32-hex id or its index), if any.
std::optional<int> FindVertex(const std::string& job_id, const JobGraph& graph,
                              const std::string& id);

// Flink's task-state counts: every execution state, zero or not.
nlohmann::ordered_json TaskStateCounts(const v1::JobStatus& job, std::optional<int> vertex);

nlohmann::ordered_json JobDetailsJson(const v1::JobStatus& job, const JobGraph& graph,
                                      int64_t now_ms);
nlohmann::ordered_json VertexDetailsJson(const v1::JobStatus& job, const JobGraph& graph,
                                         int vertex, int64_t now_ms);
nlohmann::ordered_json BackPressureJson(const v1::JobStatus& job, int vertex, int64_t now_ms);
nlohmann::ordered_json ExceptionsJson(const v1::JobStatus& job);

}  // namespace sluice

#endif  // SLUICE_JOBMANAGER_JOB_JSON_H_
