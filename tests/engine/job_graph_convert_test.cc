#include "engine/job_graph_convert.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "sluice/sluice.h"

namespace sluice::engine {
namespace {

class Gate final
    : public KeyedBroadcastProcessFunction<int64_t, int64_t, std::string, std::string> {
  void ProcessElement(const int64_t& v, const BroadcastState&, KeyedContext<int64_t>& ctx,
                      Collector<std::string>& out) override {
    if (v % 2 == 0) {
      out.Collect(std::to_string(v));
    } else {
      ctx.Output(OutputTag<std::string>("rejected"), std::to_string(v));
    }
  }
  void ProcessBroadcastElement(const std::string&, BroadcastState&, ProcessContext&,
                               Collector<std::string>&) override {}
};

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

// A keyed input next to a broadcast one, and a side output.
JobGraph TwoInputs() {
  StreamEnvironment env("two-inputs");
  env.SetParallelism(2);
  env.EnableCheckpointing(std::chrono::seconds(10));
  auto rules = env.FromCollection(std::vector<std::string>{"r"});
  auto joined = env.Sequence(0, 100)
                    .KeyBy([](int64_t x) { return x % 7; })
                    .Connect(rules.Broadcast(MapStateDescriptor<std::string, int>("rules")))
                    .Process<Gate>();
  joined.Print();
  joined.GetSideOutput(OutputTag<std::string>("rejected")).Print();
  return env.Build();
}

TEST(JobGraphConvertTest, PerInputPartitioningAndSideOutputsSurviveTheRoundTrip) {
  JobGraph graph = TwoInputs();
  auto back = FromProto(ToProto(graph));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->Hash(), graph.Hash());
  EXPECT_EQ(back->Describe(), graph.Describe());
  std::multiset<std::string> partitionings;
  for (const JobEdge& e : back->edges) partitionings.insert(PartitioningName(e.partitioning));
  EXPECT_EQ(partitionings, (std::multiset<std::string>{"hash", "broadcast", "forward"}))
      << back->Describe();
  int side_readers = 0;
  for (const StreamNode& n : back->nodes) side_readers += n.side_output_tag == "rejected";
  EXPECT_EQ(side_readers, 1);
  EXPECT_EQ(back->config, (std::vector<std::string>{"execution.checkpointing.interval=10000 ms",
                                                    "execution.checkpointing.mode=EXACTLY_ONCE"}));
  v1::JobGraph tampered = ToProto(graph);
  for (auto& node : *tampered.mutable_nodes()) {
    if (node.input_partitionings_size() > 0) node.set_input_partitionings(0, "sideways");
  }
  EXPECT_NE(FromProto(tampered).status().message().find("input partitioning 'sideways'"),
            std::string::npos);
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
