#include "engine/pipelined_regions.h"

#include <algorithm>
#include <numeric>

namespace sluice::engine {

std::vector<int> ConsumersOf(Partitioning partitioning, int u, int up, int down) {
  std::vector<int> targets;
  switch (partitioning) {
    case Partitioning::kForward:
      targets.push_back(u);
      break;
    case Partitioning::kRescale:
      if (down >= up) {
        for (int t = 0; t < down; ++t) {
          if (t * up / down == u) targets.push_back(t);
        }
      } else {
        targets.push_back(u * down / up);
      }
      break;
    default:  // rebalance, broadcast, hash: all to all
      for (int t = 0; t < down; ++t) targets.push_back(t);
  }
  return targets;
}

namespace {

// Union-find over subtasks numbered vertex by vertex.
class Components {
 public:
  explicit Components(int n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0); }
  int Find(int x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void Join(int a, int b) {
    a = Find(a);
    b = Find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<int> parent_;
};

}  // namespace

PipelinedRegions PipelinedRegionsOf(const JobGraph& graph) {
  std::vector<int> first(graph.vertices.size() + 1, 0);  // index of each vertex's subtask 0
  for (size_t v = 0; v < graph.vertices.size(); ++v) {
    first[v + 1] = first[v] + graph.vertices[v].parallelism;
  }
  Components components(first.back());
  for (const auto& edge : graph.edges) {
    const int up = graph.vertices[edge.source_vertex].parallelism;
    const int down = graph.vertices[edge.target_vertex].parallelism;
    for (int u = 0; u < up; ++u) {
      for (int t : ConsumersOf(edge.partitioning, u, up, down)) {
        components.Join(first[edge.source_vertex] + u, first[edge.target_vertex] + t);
      }
    }
  }
  PipelinedRegions out;
  std::vector<int> number(first.back(), -1);  // root -> region
  for (size_t v = 0; v < graph.vertices.size(); ++v) {
    auto& regions = out.region.emplace_back();
    for (int s = 0; s < graph.vertices[v].parallelism; ++s) {
      int& region = number[components.Find(first[v] + s)];
      if (region < 0) region = out.count++;
      regions.push_back(region);
    }
  }
  return out;
}

}  // namespace sluice::engine
