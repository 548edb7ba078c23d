// The dataflow a job's build function produces. StreamNodes carry both the
// description that can be shipped (names, uids, parallelism, edges) and, in
// the process that built them, the factories that create the operators of a
// subtask. JobGraph::Finalize() validates the graph and decides chaining.
#ifndef SLUICE_GRAPH_H_
#define SLUICE_GRAPH_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "sluice/collector.h"
#include "sluice/runtime.h"

namespace sluice {

// kDefault: forward when both sides have equal parallelism, else rebalance
// (Flink's rule); an explicit kForward between different parallelisms is an error.
enum class Partitioning { kDefault, kForward, kRebalance, kRescale, kBroadcast, kHash };

inline const char* PartitioningName(Partitioning p) {
  switch (p) {
    case Partitioning::kDefault:
      return "default";
    case Partitioning::kForward:
      return "forward";
    case Partitioning::kRebalance:
      return "rebalance";
    case Partitioning::kRescale:
      return "rescale";
    case Partitioning::kBroadcast:
      return "broadcast";
    case Partitioning::kHash:
      return "hash";
  }
  return "?";
}

// A wrong graph: names the operator and what is wrong with it.
class GraphError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An exception thrown by user code, tagged with the operator it came from.
class UserCodeError : public std::runtime_error {
 public:
  UserCodeError(std::string op, const std::string& what)
      : std::runtime_error(what), op_(std::move(op)) {}
  const std::string& op() const { return op_; }

 private:
  std::string op_;
};

// Calls user code, turning its exceptions into UserCodeErrors of `op`.
template <typename F>
decltype(auto) CallUser(const std::string& op, F&& f) {
  try {
    return f();
  } catch (const UserCodeError&) {
    throw;  // from a chained operator further down: keep its name
  } catch (const std::exception& e) {
    throw UserCodeError(op, e.what());
  }
}

// Runs a source in small steps, so its task can fire timers and notice
// cancellation between them.
class SourceRunner {
 public:
  virtual ~SourceRunner() = default;
  // Emits some records; false once the source is exhausted.
  virtual bool Step() = 0;
};

struct OperatorContext {
  TaskRuntime* runtime = nullptr;
  std::string name;
};

struct StreamNode {
  enum class Kind { kSource, kOperator, kSink };

  int id = 0;
  Kind kind = Kind::kOperator;
  std::string name;
  std::string uid;
  int parallelism = -1;                                // -1: the job's default
  std::vector<int> inputs;                             // upstream nodes (several for a union)
  Partitioning partitioning = Partitioning::kDefault;  // of the edges into this node
  bool chainable = true;
  bool output_serializable = true;
  std::string output_type;

  // Factories, present in the process that ran the build function.
  std::function<std::unique_ptr<SourceRunner>(OperatorContext&, AnyCollector* out)> make_source;
  std::function<std::unique_ptr<AnyCollector>(OperatorContext&, AnyCollector* out)> make_operator;
  // For this node's output type: a collector that partitions records into
  // `channels` (serialized), and a function that feeds serialized records
  // of a buffer into `head`.
  std::function<std::unique_ptr<AnyCollector>(std::vector<ChannelSink*> channels,
                                              Partitioning partitioning, const void* key_hash,
                                              int max_parallelism, int subtask)>
      make_channel_writer;
  // (The reader returns how many records the buffer held.)
  std::function<std::function<size_t(const char*, size_t)>(AnyCollector* head)> make_channel_reader;
  // For this node's output type: a collector that copies every record to
  // each of `outputs` (a node feeding several consumers).
  std::function<std::unique_ptr<AnyCollector>(std::vector<AnyCollector*> outputs)> make_fan_out;
  // For this node's output type: passes records on to `next`, counting them
  // into `count` (the engine's per-operator metrics).
  std::function<std::unique_ptr<AnyCollector>(AnyCollector* next, std::atomic<uint64_t>* count)>
      make_counter;
  // For hash-partitioned inputs: std::function<uint64_t(const In&)>.
  std::shared_ptr<void> key_hash;
};

// A chain of nodes run together in one task (records pass as objects).
struct JobVertex {
  int id = 0;
  std::vector<int> chain;  // node ids, head first
  int parallelism = 1;
  std::string name;
};

struct JobEdge {
  int source_vertex = 0;
  int target_vertex = 0;
  int source_node = 0;  // tail of the source chain
  int target_node = 0;  // head of the target chain
  Partitioning partitioning = Partitioning::kForward;
};

struct JobGraph {
  std::string name;
  int default_parallelism = 1;
  int max_parallelism = 128;
  std::vector<StreamNode> nodes;
  std::vector<JobVertex> vertices;
  std::vector<JobEdge> edges;

  // Validates and chains; throws GraphError naming the operator at fault.
  void Finalize();
  // A stable hash of what can be shipped: names, uids, parallelism, edges.
  uint64_t Hash() const;
  // The plan in words: vertices, their chains, parallelism and partitioning.
  std::string Describe() const;
  const StreamNode& node(int id) const { return nodes.at(id); }

 private:
  std::vector<std::vector<int>> Downstream() const;
  void CheckNodes() const;
  void Chain();
};

// --- implementation ---------------------------------------------------------

inline std::vector<std::vector<int>> JobGraph::Downstream() const {
  std::vector<std::vector<int>> out(nodes.size());
  for (const auto& n : nodes) {
    for (int in : n.inputs) out[in].push_back(n.id);
  }
  return out;
}

inline void JobGraph::CheckNodes() const {
  if (max_parallelism < 1) throw GraphError("the job's max parallelism must be at least 1");
  bool has_sink = false;
  const auto downstream = Downstream();
  for (const auto& n : nodes) {
    if (n.parallelism < 1) {
      throw GraphError("operator '" + n.name + "': parallelism must be at least 1, got " +
                       std::to_string(n.parallelism));
    }
    if (n.parallelism > max_parallelism) {
      throw GraphError("operator '" + n.name + "': parallelism " + std::to_string(n.parallelism) +
                       " exceeds the max parallelism " + std::to_string(max_parallelism));
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

inline void JobGraph::Chain() {
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

inline void JobGraph::Finalize() {
  for (auto& n : nodes) {
    if (n.parallelism == -1) n.parallelism = default_parallelism;
  }
  CheckNodes();
  vertices.clear();
  edges.clear();
  Chain();
}

inline uint64_t JobGraph::Hash() const {
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
    mix(PartitioningName(n.partitioning));
    mix(n.output_type);
    for (int in : n.inputs) mix(std::to_string(in));
  }
  return h;
}

inline std::string JobGraph::Describe() const {
  std::string out =
      "Job '" + name + "' (max parallelism " + std::to_string(max_parallelism) + ")\n";
  for (const auto& v : vertices) {
    out += "  vertex " + std::to_string(v.id) + " x" + std::to_string(v.parallelism) + ": " +
           v.name + "\n";
  }
  for (const auto& e : edges) {
    out += "  vertex " + std::to_string(e.source_vertex) + " -> vertex " +
           std::to_string(e.target_vertex) + " (" + PartitioningName(e.partitioning) + ")\n";
  }
  return out;
}

}  // namespace sluice

#endif  // SLUICE_GRAPH_H_
