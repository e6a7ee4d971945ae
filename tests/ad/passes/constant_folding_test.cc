#include "ad/passes/constant_folding.h"

#include <cmath>

#include "ad/builder.h"
#include "ad/graph.h"
#include "ad/passes/printer.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(ConstantFoldingTest, ElementwiseOfFillsBecomesAFill) {
  Graph g;
  Node sum = g.Fill(2.0, {3, 4}, kF64) + g.Fill(3.0, {3, 4}, kF64);

  EXPECT_TRUE(FoldConstants(g));
  ASSERT_EQ(sum.op(), OpKind::kFill);
  EXPECT_EQ(sum.attributes().scalar, 5.0);
  EXPECT_EQ(sum.shape(), (Shape{3, 4}));
}

TEST(ConstantFoldingTest, FoldsInTheNodesDtype) {
  Graph g;
  Node product = g.Fill(0.1, {2}, kF32) * g.Fill(3.0, {2}, kF32);

  EXPECT_TRUE(FoldConstants(g));
  ASSERT_EQ(product.op(), OpKind::kFill);
  EXPECT_EQ(product.attributes().scalar, static_cast<double>(0.1f * 3.0f));
  EXPECT_NE(product.attributes().scalar, 0.1 * 3.0);
}

TEST(ConstantFoldingTest, FoldsChainsInOneRun) {
  Graph g;
  Node value = Exp(g.Fill(0.5, {2}, kF64) + g.Fill(0.5, {2}, kF64));

  EXPECT_TRUE(FoldConstants(g));
  ASSERT_EQ(value.op(), OpKind::kFill);
  EXPECT_EQ(value.attributes().scalar, std::exp(1.0));
  EXPECT_FALSE(FoldConstants(g));
}

TEST(ConstantFoldingTest, BroadcastOfAFillIsAFillOfAnySize) {
  Graph g;
  Node big = BroadcastTo(g.Fill(0.25, {1000}, kF64), {1000, 1000});

  EXPECT_TRUE(FoldConstants(g));
  ASSERT_EQ(big.op(), OpKind::kFill);
  EXPECT_EQ(big.attributes().scalar, 0.25);
  EXPECT_EQ(big.shape(), (Shape{1000, 1000}));
}

TEST(ConstantFoldingTest, ReshapeOfAFillIsAFill) {
  Graph g;
  Node reshaped = Reshape(g.Fill(7.0, {2, 3}, kF64), {6});

  EXPECT_TRUE(FoldConstants(g));
  EXPECT_EQ(ExpressionString(reshaped), "7");
  EXPECT_EQ(reshaped.shape(), (Shape{6}));
}

TEST(ConstantFoldingTest, SmallNonUniformResultBecomesAConstant) {
  Graph g;
  Node a = g.Constant(Tensor::FromValues<double>({2, 2}, {1, 2, 3, 4}));
  Node b = g.Constant(Tensor::FromValues<double>({2, 2}, {5, 6, 7, 8}));
  Node product = MatMul(a, b);

  EXPECT_TRUE(FoldConstants(g));
  ASSERT_EQ(product.op(), OpKind::kConstant);
  EXPECT_EQ(product.attributes().value->ToDoubles(),
            (std::vector<double>{19, 22, 43, 50}));
}

TEST(ConstantFoldingTest, UniformKernelResultBecomesAFill) {
  Graph g;
  Node row_sums = Sum(g.Fill(1.0, {4, 3}, kF64), 1);

  EXPECT_TRUE(FoldConstants(g));
  ASSERT_EQ(row_sums.op(), OpKind::kFill);
  EXPECT_EQ(row_sums.attributes().scalar, 3.0);
  EXPECT_EQ(row_sums.shape(), (Shape{4}));
}

TEST(ConstantFoldingTest, LeavesLargeResultsToRunTime) {
  Graph g;
  Tensor values(kF64, {100, 100});
  for (int64_t i = 0; i < values.num_elements(); ++i) values.Set(i, i);
  Node transposed = Transpose(g.Constant(values));

  EXPECT_FALSE(FoldConstants(g));
  EXPECT_EQ(transposed.op(), OpKind::kTranspose);
}

TEST(ConstantFoldingTest, LeavesNodesWithFedInputsAlone) {
  Graph g;
  Node x = g.Input("x", {3}, kF64);
  Node shifted = x + 1.0;

  EXPECT_FALSE(FoldConstants(g));
  EXPECT_EQ(shifted.op(), OpKind::kAdd);
}

}  // namespace
}  // namespace kiln
