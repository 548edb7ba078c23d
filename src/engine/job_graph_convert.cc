#include "engine/job_graph_convert.h"

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/key_groups.h"

namespace sluice::engine {
namespace {

const char* KindName(StreamNode::Kind kind) {
  switch (kind) {
    case StreamNode::Kind::kSource:
      return "source";
    case StreamNode::Kind::kOperator:
      return "operator";
    case StreamNode::Kind::kSink:
      return "sink";
  }
  return "?";
}

std::optional<StreamNode::Kind> ParseKind(const std::string& name) {
  for (auto kind :
       {StreamNode::Kind::kSource, StreamNode::Kind::kOperator, StreamNode::Kind::kSink}) {
    if (name == KindName(kind)) return kind;
  }
  return std::nullopt;
}

std::optional<Partitioning> ParsePartitioning(const std::string& name) {
  for (auto p : {Partitioning::kDefault, Partitioning::kForward, Partitioning::kRebalance,
                 Partitioning::kRescale, Partitioning::kBroadcast, Partitioning::kHash}) {
    if (name == PartitioningName(p)) return p;
  }
  return std::nullopt;
}

absl::Status Invalid(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed job graph: ", what));
}

}  // namespace

v1::JobGraph ToProto(const JobGraph& graph) {
  v1::JobGraph out;
  out.set_name(graph.name);
  out.set_default_parallelism(graph.default_parallelism);
  out.set_max_parallelism(graph.max_parallelism);
  for (const auto& n : graph.nodes) {
    auto* node = out.add_nodes();
    node->set_id(n.id);
    node->set_kind(KindName(n.kind));
    node->set_name(n.name);
    node->set_uid(n.uid);
    node->set_parallelism(n.parallelism);
    for (int in : n.inputs) node->add_inputs(in);
    node->set_partitioning(PartitioningName(n.partitioning));
    node->set_output_type(n.output_type);
    node->set_max_parallelism(n.max_parallelism);
    for (Partitioning p : n.input_partitionings) node->add_input_partitionings(PartitioningName(p));
    node->set_side_output_tag(n.side_output_tag);
  }
  for (const auto& v : graph.vertices) {
    auto* vertex = out.add_vertices();
    vertex->set_id(v.id);
    for (int n : v.chain) vertex->add_chain(n);
    vertex->set_parallelism(v.parallelism);
    vertex->set_name(v.name);
  }
  for (const auto& e : graph.edges) {
    auto* edge = out.add_edges();
    edge->set_source_vertex(e.source_vertex);
    edge->set_target_vertex(e.target_vertex);
    edge->set_source_node(e.source_node);
    edge->set_target_node(e.target_node);
    edge->set_partitioning(PartitioningName(e.partitioning));
  }
  for (const std::string& setting : graph.config) out.add_config(setting);
  out.set_hash(graph.Hash());
  return out;
}

absl::StatusOr<JobGraph> FromProto(const v1::JobGraph& proto) {
  JobGraph graph;
  graph.name = proto.name();
  graph.default_parallelism = proto.default_parallelism();
  graph.max_parallelism = proto.max_parallelism();
  if (graph.max_parallelism != -1 &&
      (graph.max_parallelism < 1 || graph.max_parallelism > kMaxMaxParallelism)) {
    return Invalid(absl::StrCat("max parallelism ", graph.max_parallelism, " is not in 1..",
                                kMaxMaxParallelism, " (or -1)"));
  }
  const int nodes = proto.nodes_size();
  auto valid_node = [nodes](int id) { return id >= 0 && id < nodes; };
  for (int i = 0; i < nodes; ++i) {
    const auto& n = proto.nodes(i);
    auto kind = ParseKind(n.kind());
    auto partitioning = ParsePartitioning(n.partitioning());
    if (n.id() != i || !kind || !partitioning) return Invalid(absl::StrCat("node ", i));
    StreamNode node;
    node.id = n.id();
    node.kind = *kind;
    node.name = n.name();
    node.uid = n.uid();
    node.parallelism = n.parallelism();
    node.partitioning = *partitioning;
    node.output_type = n.output_type();
    node.max_parallelism = n.max_parallelism();
    if (node.max_parallelism < 1 || node.max_parallelism > kMaxMaxParallelism ||
        node.parallelism < 1 || node.parallelism > node.max_parallelism) {
      return Invalid(
          absl::StrCat("node ", i, " ('", n.name(), "') has parallelism ", node.parallelism,
                       " and max parallelism ", node.max_parallelism,
                       "; it needs 1 <= parallelism <= max parallelism <= ", kMaxMaxParallelism));
    }
    for (int in : n.inputs()) {
      if (!valid_node(in) || in >= i) return Invalid(absl::StrCat("input ", in, " of node ", i));
      node.inputs.push_back(in);
    }
    if (n.input_partitionings_size() > n.inputs_size()) {
      return Invalid(absl::StrCat("node ", i, " has more input partitionings than inputs"));
    }
    for (const std::string& name : n.input_partitionings()) {
      auto p = ParsePartitioning(name);
      if (!p) return Invalid(absl::StrCat("input partitioning '", name, "' of node ", i));
      node.input_partitionings.push_back(*p);
    }
    node.side_output_tag = n.side_output_tag();
    if (!node.side_output_tag.empty() && node.inputs.size() != 1) {
      return Invalid(absl::StrCat("side output node ", i, " needs exactly one input"));
    }
    graph.nodes.push_back(std::move(node));
  }
  for (const auto& v : proto.vertices()) {
    JobVertex vertex{v.id(), {}, v.parallelism(), v.name()};
    for (int n : v.chain()) {
      if (!valid_node(n)) return Invalid(absl::StrCat("chain of vertex ", v.id()));
      vertex.chain.push_back(n);
    }
    const int limit = vertex.chain.empty() ? kMaxMaxParallelism
                                           : graph.nodes[vertex.chain.front()].max_parallelism;
    if (vertex.parallelism < 1 || vertex.parallelism > limit) {
      return Invalid(absl::StrCat("vertex ", v.id(), " ('", v.name(), "') has parallelism ",
                                  vertex.parallelism, "; it must be between 1 and the max ",
                                  "parallelism ", limit));
    }
    graph.vertices.push_back(std::move(vertex));
  }
  const int vertices = static_cast<int>(graph.vertices.size());
  for (const auto& e : proto.edges()) {
    auto partitioning = ParsePartitioning(e.partitioning());
    if (!partitioning || e.source_vertex() < 0 || e.source_vertex() >= vertices ||
        e.target_vertex() < 0 || e.target_vertex() >= vertices || !valid_node(e.source_node()) ||
        !valid_node(e.target_node())) {
      return Invalid("an edge names a missing vertex or node");
    }
    graph.edges.push_back(JobEdge{e.source_vertex(), e.target_vertex(), e.source_node(),
                                  e.target_node(), *partitioning});
  }
  graph.config.assign(proto.config().begin(), proto.config().end());
  if (graph.Hash() != proto.hash()) return Invalid("its hash does not match its content");
  return graph;
}

}  // namespace sluice::engine
