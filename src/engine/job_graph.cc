// JobGraph's functions: validation, chaining, hashing and the plan in
// words. They live in the runtime, not in job libraries, so that they can
// change without rebuilding jobs.
#include <map>
#include <set>
#include <string>
#include <utility>
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
  CheckSideOutputs();
  std::set<std::string> uids;
  for (const auto& n : nodes) {
    if (!n.uid.empty() && !uids.insert(n.uid).second) {
      throw GraphError("operator '" + n.name + "': uid '" + n.uid + "' is used twice");
    }
  }
}

// Every reader of one side output expects the same type, and reads it from
// exactly one operator.
void JobGraph::CheckSideOutputs() const {
  std::map<std::pair<int, std::string>, const StreamNode*> readers;
  for (const auto& n : nodes) {
    if (n.side_output_tag.empty()) continue;
    if (n.inputs.size() != 1) {
      throw GraphError("side output '" + n.side_output_tag + "' must be read from one operator");
    }
    const StreamNode* first =
        readers.emplace(std::make_pair(n.inputs[0], n.side_output_tag), &n).first->second;
    if (first->output_type != n.output_type) {
      throw GraphError("side output '" + n.side_output_tag + "' of operator '" +
                       nodes[n.inputs[0]].name + "' is read as two types: " + first->output_type +
                       " and " + n.output_type + " (one OutputTag id, two record types)");
    }
  }
}

// A node chains to its one input when it is that input's only consumer of
// its main output, over a forward edge. A side output's reader never chains:
// its records leave the task through an edge of their own.
void JobGraph::Chain() {
  std::vector<int> main_consumers(nodes.size(), 0);
  for (const auto& n : nodes) {
    if (!n.side_output_tag.empty()) continue;
    for (int in : n.inputs) ++main_consumers[in];
  }
  std::vector<int> vertex_of(nodes.size(), -1);
  for (const auto& n : nodes) {
    const Partitioning first = n.inputs.empty() ? n.partitioning : InputPartitioning(n, 0);
    bool chained = n.inputs.size() == 1 && n.chainable && n.side_output_tag.empty() &&
                   (first == Partitioning::kForward || first == Partitioning::kDefault) &&
                   nodes[n.inputs[0]].parallelism == n.parallelism &&
                   main_consumers[n.inputs[0]] == 1;
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
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const int in = n.inputs[i];
      const StreamNode& up = nodes[in];
      const StreamNode& typed = n.side_output_tag.empty() ? up : n;
      if (!typed.output_serializable) {
        throw GraphError("operator '" + up.name + "' sends records of type " + typed.output_type +
                         " to '" + n.name +
                         "' across a channel, but that type has no Serializer: add "
                         "SLUICE_SERIALIZABLE(...) for it");
      }
      Partitioning p = InputPartitioning(n, i);
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
  for (const std::string& setting : config) mix("config:" + setting);
  for (const auto& n : nodes) {
    mix(std::to_string(static_cast<int>(n.kind)));
    mix(n.name);
    mix(n.uid);
    mix(std::to_string(n.parallelism));
    mix(std::to_string(n.max_parallelism));
    mix(PartitioningName(n.partitioning));
    for (Partitioning p : n.input_partitionings) mix(PartitioningName(p));
    if (!n.side_output_tag.empty()) mix("side:" + n.side_output_tag);
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
