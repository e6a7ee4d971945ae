#include "ad/passes/pipeline.h"

#include "ad/autodiff.h"
#include "ad/builder.h"
#include "ad/graph.h"
#include "ad/passes/printer.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(PipelineTest, ReachesAFixedPoint) {
  Graph g;
  Node x = g.Input("x", {4, 3}, kF64);
  Node loss = Mean(Sum(Square(x * 1.0 - 0.0), 1), 0);
  g.AddOutput(loss);
  g.AddOutput(Grad(loss, {x})[x]);

  EXPECT_TRUE(RunPasses(g));
  EXPECT_FALSE(RunPasses(g));
}

TEST(PipelineTest, LeavesASimpleGraphAlone) {
  Graph g;
  Node x = g.Input("x", {4, 3}, kF64);
  Node y = Sum(Exp(x), 1);
  g.AddOutput(y);

  EXPECT_FALSE(RunPasses(g));
  EXPECT_EQ(ExpressionString(y), "sum[axis=1](exp(x))");
}

TEST(PipelineTest, LeavesAGraphWithABuildErrorAlone) {
  Graph g;
  Node x = g.Input("x", {4, 3}, kF64);
  Node unused = x * 1.0;
  MatMul(x, x);  // [4,3]·[4,3] fails to build.
  ASSERT_FALSE(g.status().ok());

  EXPECT_FALSE(RunPasses(g));
  EXPECT_EQ(unused.op(), OpKind::kMul);
}

TEST(PipelineTest, DefaultPassesEndWithDeadCodeElimination) {
  ASSERT_FALSE(DefaultPasses().empty());
  EXPECT_EQ(DefaultPasses().back().name, "dead_code_elimination");
}

// A pass that changes the graph on its first `kChanges` calls only, to
// count the rounds the pipeline makes.
int calls = 0;
constexpr int kChanges = 3;
bool ChangesThreeTimes(Graph&) { return ++calls <= kChanges; }
bool AlwaysChanges(Graph&) {
  ++calls;
  return true;
}

TEST(PipelineTest, RepeatsUntilARoundChangesNothing) {
  Graph g;
  calls = 0;
  const Pass passes[] = {{"changes_three_times", &ChangesThreeTimes}};

  EXPECT_TRUE(RunPasses(g, passes));
  EXPECT_EQ(calls, kChanges + 1);
}

TEST(PipelineTest, StopsAfterTheRoundLimit) {
  Graph g;
  calls = 0;
  const Pass passes[] = {{"always_changes", &AlwaysChanges}};

  EXPECT_TRUE(RunPasses(g, passes));
  EXPECT_EQ(calls, kMaxPipelineRounds);
}

}  // namespace
}  // namespace kiln
