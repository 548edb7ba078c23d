#include "engine/job_graph_convert.h"

#include <gtest/gtest.h>

#include "sluice/sluice.h"

namespace sluice::engine {
namespace {

JobGraph Sample() {
  StreamEnvironment env("sample");
  env.SetParallelism(3);
  env.Sequence(0, 100)
      .Uid("numbers")
      .Map([](int64_t x) { return std::to_string(x); })
      .KeyBy([](const std::string& s) { return s.size(); })
      .Reduce([](const std::string& a, const std::string& b) { return a + b; })
      .Rebalance()
      .Filter([](const std::string& s) { return !s.empty(); })
      .SetParallelism(2)
      .Print();
  return env.Build();
}

TEST(JobGraphConvertTest, TheDescriptionSurvivesTheRoundTripWithItsHash) {
  JobGraph graph = Sample();
  v1::JobGraph proto = ToProto(graph);
  EXPECT_EQ(proto.hash(), graph.Hash());
  auto back = FromProto(proto);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->Hash(), graph.Hash());
  EXPECT_EQ(back->Describe(), graph.Describe());
  EXPECT_EQ(back->nodes[0].uid, "numbers");
  EXPECT_FALSE(back->nodes[0].make_source) << "no code travels with the graph";
}

TEST(JobGraphConvertTest, MalformedGraphsAreRefused) {
  v1::JobGraph proto = ToProto(Sample());
  v1::JobGraph tampered = proto;
  tampered.mutable_nodes(1)->set_parallelism(99);
  EXPECT_NE(FromProto(tampered).status().message().find("hash does not match"), std::string::npos);
  v1::JobGraph dangling = proto;
  dangling.mutable_edges(0)->set_target_vertex(42);
  EXPECT_EQ(FromProto(dangling).status().code(), absl::StatusCode::kInvalidArgument);
  v1::JobGraph cycle = proto;
  cycle.mutable_nodes(1)->add_inputs(3);
  EXPECT_EQ(FromProto(cycle).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::engine
