// Building job graphs: chaining, validation errors that name the operator,
// and the stable hash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sluice/sluice.h"

struct Opaque {
  int value = 0;
};

namespace sluice {
namespace {

using ::testing::HasSubstr;

std::string BuildError(const std::function<void(StreamEnvironment&)>& build) {
  StreamEnvironment env("test");
  build(env);
  try {
    env.Build();
  } catch (const GraphError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a GraphError";
  return "";
}

JobGraph WordCountLike(int parallelism) {
  StreamEnvironment env("wc");
  env.SetParallelism(parallelism);
  env.FromCollection<std::string>({"a b", "b c"})
      .FlatMap<std::string>(
          [](const std::string& s, Collector<std::string>& out) { out.Collect(s); })
      .Name("Split")
      .Map([](const std::string& w) { return std::make_pair(w, int64_t{1}); })
      .Name("Pair")
      .KeyBy([](const auto& p) { return p.first; })
      .Sum<1>()
      .Name("Count")
      .Discard();
  return env.Build();
}

TEST(GraphTest, ForwardEdgesOfEqualParallelismAreChained) {
  JobGraph graph = WordCountLike(4);
  // The collection source has parallelism 1, so Split..Pair (at 4) start a
  // chain of their own behind a rebalance; Count breaks the chain (hash).
  ASSERT_EQ(graph.vertices.size(), 3u) << graph.Describe();
  EXPECT_EQ(graph.vertices[0].name, "Collection");
  EXPECT_EQ(graph.vertices[1].name, "Split -> Pair");
  EXPECT_THAT(graph.Describe(), HasSubstr("(rebalance)"));
  EXPECT_THAT(graph.Describe(), HasSubstr("x4: Count -> Discard"));
  EXPECT_THAT(graph.Describe(), HasSubstr("(hash)"));
}

TEST(GraphTest, TheHashIsStableAndFollowsTheGraph) {
  EXPECT_EQ(WordCountLike(4).Hash(), WordCountLike(4).Hash());
  EXPECT_NE(WordCountLike(4).Hash(), WordCountLike(2).Hash());
}

TEST(GraphTest, BadGraphsNameTheOperator) {
  EXPECT_THAT(BuildError([](StreamEnvironment& env) {
                env.Sequence(0, 10)
                    .Map([](int64_t x) { return x; })
                    .Name("Doubler")
                    .SetParallelism(0)
                    .Discard();
              }),
              HasSubstr("operator 'Doubler': parallelism must be at least 1, got 0"));
  EXPECT_THAT(BuildError([](StreamEnvironment& env) { env.Sequence(0, 10).Name("Numbers"); }),
              HasSubstr("operator 'Numbers' leads nowhere"));
  EXPECT_THAT(BuildError([](StreamEnvironment& env) {
                env.Sequence(0, 10)
                    .SetParallelism(2)
                    .Forward()
                    .Map([](int64_t x) { return x; })
                    .Name("M")
                    .SetParallelism(3)
                    .Discard();
              }),
              HasSubstr("operator 'M': a forward edge from 'Sequence' needs equal parallelism"));
  EXPECT_THAT(BuildError([](StreamEnvironment& env) {
                env.Sequence(0, 10)
                    .Map([](int64_t x) { return Opaque{static_cast<int>(x)}; })
                    .Name("MakeOpaque")
                    .Rebalance()
                    .Map([](const Opaque& o) { return o.value; })
                    .Discard();
              }),
              HasSubstr("operator 'MakeOpaque' sends records of type"));
  EXPECT_THAT(BuildError([](StreamEnvironment& env) {
                env.Sequence(0, 10).Uid("x").Map([](int64_t v) { return v; }).Uid("x").Discard();
              }),
              HasSubstr("uid 'x' is used twice"));
  EXPECT_THAT(BuildError([](StreamEnvironment& env) {
                env.SetMaxParallelism(4);
                env.Sequence(0, 10).SetParallelism(8).Discard();
              }),
              HasSubstr("parallelism 8 exceeds the max parallelism 4"));
}

TEST(GraphTest, OpaqueTypesAreFineWithinAChain) {
  StreamEnvironment env("chained");
  env.Sequence(0, 10)
      .Map([](int64_t x) { return Opaque{static_cast<int>(x)}; })
      .Filter([](const Opaque& o) { return o.value > 3; })
      .Discard();
  EXPECT_NO_THROW(env.Build());
}

}  // namespace
}  // namespace sluice
