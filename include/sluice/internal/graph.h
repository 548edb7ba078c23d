// The dataflow a job's build function produces. StreamNodes carry both the
// description that can be shipped (names, uids, parallelism, edges) and, in
// the process that built them, the type-erased hooks that create the
// operators of a subtask and serialize its records and keys. Part of the job
// ABI (internal/abi.h): the runtime (src/engine) validates, chains and hashes
// the graph — JobGraph's functions are defined there, not in job libraries.
#ifndef SLUICE_INTERNAL_GRAPH_H_
#define SLUICE_INTERNAL_GRAPH_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/collector.h"
#include "sluice/internal/abi.h"
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
  // Where the source is, between two steps, for a checkpoint: after a
  // restore it continues from there. nullopt: it cannot be replayed.
  virtual std::optional<std::string> SnapshotPosition() const { return std::nullopt; }
  // Continues from a position SnapshotPosition() returned (by the same
  // subtask of the same source); false if the bytes do not fit.
  virtual bool RestorePosition(std::string_view position) {
    (void)position;
    return false;
  }
};

struct OperatorContext {
  TaskRuntime* runtime = nullptr;
  std::string name;
  int max_parallelism = 128;  // of this operator: its number of key groups
  // A keyed operator's state and timers (owned by the runtime); timers of a
  // key fire into `target`.
  std::function<internal::KeyedRuntime*(internal::TimerTarget* target)> keyed_runtime;
  // The event time of the record being processed (internal::kNoTimestamp:
  // none), owned by the task: read by event-time operators, set by timestamp
  // assigners and by operators that emit records of their own (a window
  // result carries its window's last millisecond), and sent with each record.
  int64_t* timestamp = nullptr;
  // Counts records a window dropped as too late (numLateRecordsDropped).
  std::atomic<uint64_t>* late_records_dropped = nullptr;
  // A watermark generator's new watermark, emitted in OnEvent (punctuated):
  // it goes downstream at once, behind the record that made it.
  std::function<void(int64_t watermark)> emit_watermark;
  // The collector of this operator's side output `tag` (Flink's OutputTag),
  // for records of type `type` (typeid name); null when nothing reads it (its
  // records are dropped). Throws if the readers expect another type.
  std::function<AnyCollector*(const std::string& tag, const std::string& type)> side_output;
};

// Serializes the key of a record (of the type flowing into a keyed operator).
using KeyWriter = std::function<void(const void* record, std::string* out)>;

struct StreamNode {
  enum class Kind { kSource, kOperator, kSink };

  int id = 0;
  Kind kind = Kind::kOperator;
  std::string name;
  std::string uid;
  int parallelism = -1;                                // -1: the job's default
  int max_parallelism = -1;                            // -1: the job's, or Flink's default rule
  std::vector<int> inputs;                             // upstream nodes (several for a union)
  Partitioning partitioning = Partitioning::kDefault;  // of the edges into this node
  // Per input, where they differ (a broadcast side next to a keyed one);
  // empty: `partitioning` for every input.
  std::vector<Partitioning> input_partitionings;
  // Not empty: this node reads side output `side_output_tag` of its one
  // input (records of this node's type), not that input's main output.
  std::string side_output_tag;
  bool chainable = true;
  bool output_serializable = true;
  std::string output_type;

  // Factories, present in the process that ran the build function.
  std::function<std::unique_ptr<SourceRunner>(OperatorContext&, AnyCollector* out)> make_source;
  std::function<std::unique_ptr<AnyCollector>(OperatorContext&, AnyCollector* out)> make_operator;
  // For this node's output type: a collector that serializes records (and,
  // with `key`, their keys) into one outgoing edge of the runtime.
  std::function<std::unique_ptr<AnyCollector>(internal::RecordOutput* out, const KeyWriter* key)>
      make_edge_writer;
  // For this node's output type: a function that deserializes one record and
  // feeds it into `head`.
  std::function<std::function<void(std::string_view)>(AnyCollector* head)> make_record_reader;
  // For this node's output type: a collector that copies every record to
  // each of `outputs` (a node feeding several consumers).
  std::function<std::unique_ptr<AnyCollector>(std::vector<AnyCollector*> outputs)> make_fan_out;
  // For this node's output type: passes records on to `next`, counting them
  // into `count` (the engine's per-operator metrics).
  std::function<std::unique_ptr<AnyCollector>(AnyCollector* next, std::atomic<uint64_t>* count)>
      make_counter;
  // For a keyed operator (hash-partitioned input): its KeyBy, serialized.
  KeyWriter key_writer;
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
  int max_parallelism = -1;  // pipeline.max-parallelism; -1: per operator by Flink's rule
  // "key=value" job settings from the job's code (execution.checkpointing.*,
  // restart-strategy.*): over the cluster's configuration and -D, as in Flink.
  std::vector<std::string> config;
  std::vector<StreamNode> nodes;
  std::vector<JobVertex> vertices;
  std::vector<JobEdge> edges;

  // Validates, resolves parallelism and max parallelism, and chains; throws
  // GraphError naming the operator at fault.
  void Finalize();
  // A stable hash of what can be shipped: names, uids, parallelism, edges.
  uint64_t Hash() const;
  // The plan in words: vertices, their chains, parallelism and partitioning.
  std::string Describe() const;
  const StreamNode& node(int id) const { return nodes.at(id); }
  // How records go from `input` (one of node's inputs, by position) into node.
  static Partitioning InputPartitioning(const StreamNode& node, size_t input) {
    return input < node.input_partitionings.size() ? node.input_partitionings[input]
                                                   : node.partitioning;
  }
  // The node whose type an edge's records have: a side output's reader, else its source.
  const StreamNode& EdgeRecordType(const JobEdge& edge) const {
    const StreamNode& target = node(edge.target_node);
    return target.side_output_tag.empty() ? node(edge.source_node) : target;
  }

 private:
  std::vector<std::vector<int>> Downstream() const;
  void CheckNodes() const;
  void CheckSideOutputs() const;
  void Chain();
};

}  // namespace sluice

#endif  // SLUICE_INTERNAL_GRAPH_H_
