#include "resourcemanager/cluster_overview.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

const ResourceUtilization* Find(const std::vector<ResourceUtilization>& all,
                                const std::string& name) {
  for (const auto& u : all) {
    if (u.resource == name) return &u;
  }
  return nullptr;
}

TEST(ClusterOverviewTest, UtilizationIsUsedOverCapacityInPercent) {
  ClusterTotals totals;
  totals.slots_total = 8;
  totals.slots_free = 6;
  totals.capacity.cpu_cores = 8;
  totals.capacity.memory_bytes = 4000;
  totals.capacity.extended["gpu"] = 4;
  totals.used.cpu_cores = 1;
  totals.used.memory_bytes = 1000;
  totals.used.extended["gpu"] = 3;
  auto u = ComputeUtilization(totals);
  ASSERT_NE(Find(u, "slots"), nullptr);
  EXPECT_DOUBLE_EQ(Find(u, "slots")->percent, 25);
  EXPECT_DOUBLE_EQ(Find(u, "cpu")->percent, 12.5);
  EXPECT_DOUBLE_EQ(Find(u, "memory")->percent, 25);
  EXPECT_DOUBLE_EQ(Find(u, "gpu")->percent, 75);
  EXPECT_DOUBLE_EQ(Find(u, "gpu")->capacity, 4);
  EXPECT_EQ(Find(u, "network"), nullptr) << "network is shown only when declared";
}

TEST(ClusterOverviewTest, EmptyClusterReportsZeroNotNaN) {
  auto u = ComputeUtilization(ClusterTotals{});
  ASSERT_EQ(u.size(), 3u);
  for (const auto& r : u) EXPECT_EQ(r.percent, 0) << r.resource;
}

}  // namespace
}  // namespace sluice
