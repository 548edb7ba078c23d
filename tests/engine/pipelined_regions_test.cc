// Pipelined regions: subtasks joined by channels are one region; subtasks
// with no channel between them are apart.
#include "engine/pipelined_regions.h"

#include <gtest/gtest.h>

#include "sluice/sluice.h"

namespace sluice::engine {
namespace {

TEST(PipelinedRegionsTest, AForwardOnlyJobHasARegionPerSubtask) {
  StreamEnvironment env("forward");
  env.SetParallelism(3);
  env.Sequence(0, 10).Map([](int64_t x) { return x; }).Rebalance().Discard();
  JobGraph graph = env.Build();
  ASSERT_EQ(graph.vertices.size(), 2u) << "the rebalance splits the chain";
  // Rebalance connects all to all: one region.
  EXPECT_EQ(PipelinedRegionsOf(graph).count, 1);

  StreamEnvironment chained("chained");
  chained.SetParallelism(3);
  chained.Sequence(0, 10).Map([](int64_t x) { return x; }).Discard();
  PipelinedRegions regions = PipelinedRegionsOf(chained.Build());
  EXPECT_EQ(regions.count, 3);
  EXPECT_EQ(regions.region[0], (std::vector<int>{0, 1, 2}));
}

TEST(PipelinedRegionsTest, AKeyedJobIsOneRegion) {
  StreamEnvironment env("keyed");
  env.SetParallelism(4);
  env.Sequence(0, 10)
      .KeyBy([](const int64_t& x) { return x % 3; })
      .Reduce([](const int64_t& a, const int64_t& b) { return a + b; })
      .Discard();
  PipelinedRegions regions = PipelinedRegionsOf(env.Build());
  EXPECT_EQ(regions.count, 1);
  for (const auto& vertex : regions.region) {
    for (int region : vertex) EXPECT_EQ(region, 0);
  }
}

TEST(PipelinedRegionsTest, RescaleJoinsOnlyTheSubtasksItConnects) {
  StreamEnvironment env("rescale");
  env.SetParallelism(4);
  env.Sequence(0, 10)
      .Rescale()
      .Map([](int64_t x) { return x; })
      .SetParallelism(2)
      .Discard()
      .SetParallelism(2);
  JobGraph graph = env.Build();
  ASSERT_EQ(graph.vertices.size(), 2u) << "the map and the sink chain";
  PipelinedRegions regions = PipelinedRegionsOf(graph);
  // Producers 0,1 feed consumer 0; producers 2,3 feed consumer 1.
  EXPECT_EQ(regions.count, 2);
  EXPECT_EQ(regions.region[0], (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(regions.region[1], (std::vector<int>{0, 1}));
}

TEST(PipelinedRegionsTest, ConsumersOfFollowThePartitioning) {
  EXPECT_EQ(ConsumersOf(Partitioning::kForward, 2, 3, 3), (std::vector<int>{2}));
  EXPECT_EQ(ConsumersOf(Partitioning::kRescale, 1, 2, 4), (std::vector<int>{2, 3}));
  EXPECT_EQ(ConsumersOf(Partitioning::kRescale, 3, 4, 2), (std::vector<int>{1}));
  EXPECT_EQ(ConsumersOf(Partitioning::kHash, 0, 2, 3), (std::vector<int>{0, 1, 2}));
}

}  // namespace
}  // namespace sluice::engine
