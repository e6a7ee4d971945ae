#include "ad/passes/dead_code_elimination.h"

#include "ad/builder.h"
#include "ad/graph.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(DeadCodeEliminationTest, KillsNodesNoOutputNeeds) {
  Graph g;
  Node x = g.Input("x", {3}, kF64);
  Node used = Exp(x);
  Node unused = Log(x);
  g.AddOutput(used);

  EXPECT_TRUE(EliminateDeadCode(g));
  EXPECT_TRUE(g.IsLive(used.id()));
  EXPECT_FALSE(g.IsLive(unused.id()));
}

TEST(DeadCodeEliminationTest, KeepsEverythingAnOutputDependsOn) {
  Graph g;
  Node x = g.Input("x", {3}, kF64);
  Node a = Exp(x);
  Node b = a * 2.0;
  Node c = Sum(b + a, 0);
  g.AddOutput(c);

  EXPECT_FALSE(EliminateDeadCode(g));
  for (Node node : {x, a, b, c}) EXPECT_TRUE(g.IsLive(node.id()));
}

TEST(DeadCodeEliminationTest, NeverKillsInputsOrParameters) {
  Graph g;
  Node x = g.Input("x", {3}, kF64);
  Node unused_input = g.Input("unused", {3}, kF64);
  Node unused_parameter = g.Parameter("w", {3}, kF64);
  Node dead = Exp(unused_parameter);
  g.AddOutput(Exp(x));

  EXPECT_TRUE(EliminateDeadCode(g));
  EXPECT_TRUE(g.IsLive(unused_input.id()));
  EXPECT_TRUE(g.IsLive(unused_parameter.id()));
  EXPECT_FALSE(g.IsLive(dead.id()));
}

TEST(DeadCodeEliminationTest, KillsUnusedFillsAndConstants) {
  Graph g;
  Node x = g.Input("x", {2}, kF64);
  Node fill = g.Fill(1.0, {2}, kF64);
  Node constant = g.Constant(Tensor::FromValues<double>({2}, {1, 2}));
  g.AddOutput(Exp(x));

  EXPECT_TRUE(EliminateDeadCode(g));
  EXPECT_FALSE(g.IsLive(fill.id()));
  EXPECT_FALSE(g.IsLive(constant.id()));
}

TEST(DeadCodeEliminationTest, WithoutOutputsKeepsOnlyInputsAndParameters) {
  Graph g;
  Node x = g.Input("x", {2}, kF64);
  Node w = g.Parameter("w", {2}, kF64);
  Node y = x * w;

  EXPECT_TRUE(EliminateDeadCode(g));
  EXPECT_TRUE(g.IsLive(x.id()));
  EXPECT_TRUE(g.IsLive(w.id()));
  EXPECT_FALSE(g.IsLive(y.id()));
}

TEST(DeadCodeEliminationTest, SecondRunFindsNothingLeft) {
  Graph g;
  Node x = g.Input("x", {2}, kF64);
  Log(x);
  g.AddOutput(Exp(x));

  EXPECT_TRUE(EliminateDeadCode(g));
  EXPECT_FALSE(EliminateDeadCode(g));
}

}  // namespace
}  // namespace kiln
