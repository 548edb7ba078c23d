// JobGraph's functions: validation, chaining, hashing and the plan in
// words. They live in the runtime, not in job libraries, so that they can
// change without rebuilding jobs.
#include <set>
#include <string>
#include <vector>

#include "engine/key_groups.h"
#include "sluice/internal/graph.h"

namespace sluice {

std::vector<std::vector<int>> JobGraph::Downstream() const {
  std::vector<std::vector<int>> out(nodes.size());
  for (const auto& n : nodes) {
    for (int in : n.inputs) out[in].push_back(n.id);
  }
  return out;
}

void JobGraph::CheckNodes() const {
  if (max_parallelism != -1 &&
      (max_parallelism < 1 || max_parallelism > engine::kMaxMaxParallelism)) {
    throw GraphError("the job's max parallelism must be between 1 and " +
                     std::to_string(engine::kMaxMaxParallelism) + " (or -1 for the default), got " +
                     std::to_string(max_parallelism));
  }
  bool has_sink = false;
  const auto downstream = Downstream();
  for (const auto& n : nodes) {
    if (n.parallelism < 1) {
      throw GraphError("operator '" + n.name + "': parallelism must be at least 1, got " +
                       std::to_string(n.parallelism));
    }
    if (n.max_parallelism < 1 || n.max_parallelism > engine::kMaxMaxParallelism) {
      throw GraphError("operator '" + n.name + "': max parallelism must be between 1 and " +
                       std::to_string(engine::kMaxMaxParallelism) + ", got " +
                       std::to_string(n.max_parallelism));
    }
    if (n.parallelism > n.max_parallelism) {
      throw GraphError("operator '" + n.name + "': parallelism " + std::to_string(n.parallelism) +
                       " exceeds the max parallelism " + std::to_string(n.max_parallelism));
    }
    if (n.kind == StreamNode::Kind::kSink) has_sink = true;
    if (n.kind != StreamNode::Kind::kSink && downstream[n.id].empty()) {
      throw GraphError("operator '" + n.name +
                       "' leads nowhere: end it with a sink (Print, WriteAsText, Discard or Sink)");
    }
  }
  if (!has_sink) {
    throw GraphError("the job has no sink: add Print(), WriteAsText(), Discard() or Sink()");
  }
  std::set<std::string> uids;
  for (const auto& n : nodes) {
    if (!n.uid.empty() && !uids.insert(n.uid).second) {
      throw GraphError("operator '" + n.name + "': uid '" + n.uid + "' is used twice");
    }
  }
}

void JobGraph::Chain() {
  const auto downstream = Downstream();
  std::vector<int> vertex_of(nodes.size(), -1);
  for (const auto& n : nodes) {
    bool chained =
        n.inputs.size() == 1 && n.chainable &&
        (n.partitioning == Partitioning::kForward || n.partitioning == Partitioning::kDefault) &&
        nodes[n.inputs[0]].parallelism == n.parallelism && downstream[n.inputs[0]].size() == 1;
    if (chained) {
      int v = vertex_of[n.inputs[0]];
      vertices[v].chain.push_back(n.id);
      vertices[v].name += " -> " + n.name;
      vertex_of[n.id] = v;
      continue;
    }
    int v = static_cast<int>(vertices.size());
    vertices.push_back(JobVertex{v, {n.id}, n.parallelism, n.name});
    vertex_of[n.id] = v;
    for (int in : n.inputs) {
      const StreamNode& up = nodes[in];
      if (!up.output_serializable) {
        throw GraphError("operator '" + up.name + "' sends records of type " + up.output_type +
                         " to '" + n.name +
                         "' across a channel, but that type has no Serializer: add "
                         "SLUICE_SERIALIZABLE(...) for it");
      }
      Partitioning p = n.partitioning;
      if (p == Partitioning::kDefault) {
        p = up.parallelism == n.parallelism ? Partitioning::kForward : Partitioning::kRebalance;
      }
      if (p == Partitioning::kForward && up.parallelism != n.parallelism) {
        throw GraphError("operator '" + n.name + "': a forward edge from '" + up.name +
                         "' needs equal parallelism (" + std::to_string(up.parallelism) + " vs " +
                         std::to_string(n.parallelism) + "); use Rebalance() or Rescale()");
      }
      edges.push_back(JobEdge{vertex_of[in], v, in, n.id, p});
    }
  }
}

void JobGraph::Finalize() {
  for (auto& n : nodes) {
    if (n.parallelism == -1) n.parallelism = default_parallelism;
    // An operator's own setting, else pipeline.max-parallelism, else Flink's rule.
    if (n.max_parallelism == -1) {
      n.max_parallelism =
          max_parallelism > 0 ? max_parallelism : engine::DefaultMaxParallelism(n.parallelism);
    }
  }
  CheckNodes();
  vertices.clear();
  edges.clear();
  Chain();
}

uint64_t JobGraph::Hash() const {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  auto mix = [&h](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  mix(name);
  mix(std::to_string(max_parallelism));
  for (const auto& n : nodes) {
    mix(std::to_string(static_cast<int>(n.kind)));
    mix(n.name);
    mix(n.uid);
    mix(std::to_string(n.parallelism));
    mix(std::to_string(n.max_parallelism));
    mix(PartitioningName(n.partitioning));
    mix(n.output_type);
    for (int in : n.inputs) mix(std::to_string(in));
  }
  return h;
}

std::string JobGraph::Describe() const {
  std::string out = "Job '" + name + "'\n";
  for (const auto& v : vertices) {
    out += "  vertex " + std::to_string(v.id) + " x" + std::to_string(v.parallelism) + ": " +
           v.name + " (max parallelism " + std::to_string(nodes[v.chain.front()].max_parallelism) +
           ")\n";
  }
  for (const auto& e : edges) {
    out += "  vertex " + std::to_string(e.source_vertex) + " -> vertex " +
           std::to_string(e.target_vertex) + " (" + PartitioningName(e.partitioning) + ")\n";
  }
  return out;
}

}  // namespace sluice
