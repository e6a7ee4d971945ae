#include "ad/passes/common_subexpression_elimination.h"

#include "ad/builder.h"
#include "ad/graph.h"
#include "ad/passes/printer.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(CommonSubexpressionEliminationTest, MergesDuplicatesIntoTheOlderNode) {
  Graph g;
  Node x = g.Input("x", {3}, kF64);
  Node first = Exp(x);
  Node second = Exp(x);
  const int first_id = first.id();
  Node total = first + second;

  EXPECT_TRUE(EliminateCommonSubexpressions(g));
  EXPECT_EQ(first.id(), first_id);
  EXPECT_EQ(second.id(), first_id);
  EXPECT_EQ(total.input(0).id(), total.input(1).id());
}

TEST(CommonSubexpressionEliminationTest, KeepsUserHandlesUsable) {
  Graph g;
  Node x = g.Input("x", {3}, kF64);
  Node first = Sum(Exp(x), 0);
  Node second = Sum(Exp(x), 0);

  EXPECT_TRUE(EliminateCommonSubexpressions(g));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second, first);
  EXPECT_EQ(ExpressionString(second), "sum(exp(x))");
  EXPECT_TRUE(g.IsLive(second.id()));
}

TEST(CommonSubexpressionEliminationTest, CollapsesChainsInOneRun) {
  Graph g;
  Node x = g.Input("x", {4, 3}, kF64);
  Node a = Sum(Exp(x) * 2.0, 1, /*keepdims=*/true);
  Node b = Sum(Exp(x) * 2.0, 1, /*keepdims=*/true);

  EXPECT_TRUE(EliminateCommonSubexpressions(g));
  EXPECT_EQ(a, b);
  EXPECT_FALSE(EliminateCommonSubexpressions(g));
}

TEST(CommonSubexpressionEliminationTest, NeverMergesInputsOrParameters) {
  Graph g;
  Node x = g.Input("x", {3}, kF64);
  Node y = g.Input("y", {3}, kF64);
  Node w = g.Parameter("w", {3}, kF64);
  Node v = g.Parameter("v", {3}, kF64);

  EXPECT_FALSE(EliminateCommonSubexpressions(g));
  EXPECT_NE(x.id(), y.id());
  EXPECT_NE(w.id(), v.id());
}

TEST(CommonSubexpressionEliminationTest, KeepsNodesWithDifferentAttributes) {
  Graph g;
  Node x = g.Input("x", {4, 3}, kF64);
  Node rows = Sum(x, 0);
  Node columns = Sum(x, 1);
  Node kept = Sum(x, 1, /*keepdims=*/true);

  EXPECT_FALSE(EliminateCommonSubexpressions(g));
  EXPECT_NE(rows.id(), columns.id());
  EXPECT_NE(columns.id(), kept.id());
}

TEST(CommonSubexpressionEliminationTest, MergesEqualFillsButNotSignedZeros) {
  Graph g;
  Node a = g.Fill(2.0, {3}, kF64);
  Node b = g.Fill(2.0, {3}, kF64);
  Node zero = g.Fill(0.0, {3}, kF64);
  Node negative_zero = g.Fill(-0.0, {3}, kF64);

  EXPECT_TRUE(EliminateCommonSubexpressions(g));
  EXPECT_EQ(a, b);
  EXPECT_NE(zero.id(), negative_zero.id());
}

TEST(CommonSubexpressionEliminationTest, KeepsFillsOfDifferentShapes) {
  Graph g;
  Node a = g.Fill(1.0, {3}, kF64);
  Node b = g.Fill(1.0, {4}, kF64);
  Node c = g.Fill(1.0, {3}, kF32);

  EXPECT_FALSE(EliminateCommonSubexpressions(g));
  EXPECT_NE(a.id(), b.id());
  EXPECT_NE(a.id(), c.id());
}

}  // namespace
}  // namespace kiln
