#include "ad/passes/algebraic_simplification.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "ad/builder.h"
#include "ad/graph.h"
#include "ad/passes/printer.h"
#include "gtest/gtest.h"
#include "tests/ad/test_util.h"

namespace kiln {
namespace {

using testing::RandomTensor;
using testing::RunOne;

class AlgebraicSimplificationTest : public ::testing::Test {
 protected:
  // The expression `node` computes after one run of the pass.
  std::string Simplified(Node node) {
    SimplifyAlgebra(g_);
    return ExpressionString(node);
  }

  Graph g_;
  Node x_ = g_.Input("x", {4, 3}, kF64);
  Node y_ = g_.Input("y", {4, 3}, kF64);
};

// ---- Canonical order ----

TEST_F(AlgebraicSimplificationTest, MovesConstantsToTheRightOfAddAndMul) {
  Node product = 3.0 * x_;
  Node total = 3.0 + x_;
  EXPECT_TRUE(SimplifyAlgebra(g_));
  EXPECT_EQ(ExpressionString(product), "mul(x, 3)");
  EXPECT_EQ(ExpressionString(total), "add(x, 3)");
}

TEST_F(AlgebraicSimplificationTest, LeavesNonCommutativeOperandsInPlace) {
  Node difference = 3.0 - x_;
  Node quotient = 3.0 / x_;
  EXPECT_FALSE(SimplifyAlgebra(g_));
  EXPECT_EQ(ExpressionString(difference), "sub(3, x)");
  EXPECT_EQ(ExpressionString(quotient), "div(3, x)");
}

// ---- Identities ----

TEST_F(AlgebraicSimplificationTest, DropsAddingZero) {
  EXPECT_EQ(Simplified(x_ + 0.0), "x");
}

TEST_F(AlgebraicSimplificationTest, DropsAddingZeroOnTheLeft) {
  EXPECT_EQ(Simplified(0.0 + x_), "x");
}

TEST_F(AlgebraicSimplificationTest, DropsSubtractingZero) {
  EXPECT_EQ(Simplified(x_ - 0.0), "x");
}

TEST_F(AlgebraicSimplificationTest, ZeroMinusXIsNegation) {
  EXPECT_EQ(Simplified(0.0 - x_), "neg(x)");
}

TEST_F(AlgebraicSimplificationTest, DropsMultiplyingByOne) {
  EXPECT_EQ(Simplified(1.0 * x_), "x");
}

TEST_F(AlgebraicSimplificationTest, DropsDividingByOne) {
  EXPECT_EQ(Simplified(x_ / 1.0), "x");
}

TEST_F(AlgebraicSimplificationTest, MultiplyingByMinusOneIsNegation) {
  EXPECT_EQ(Simplified(x_ * -1.0), "neg(x)");
}

TEST_F(AlgebraicSimplificationTest, DoubleNegationCancels) {
  EXPECT_EQ(Simplified(-(-x_)), "x");
}

TEST_F(AlgebraicSimplificationTest, NegatedFillIsAFill) {
  Node negated = -g_.Fill(2.5, {3}, kF64);
  EXPECT_EQ(Simplified(negated), "-2.5");
  EXPECT_EQ(negated.op(), OpKind::kFill);
}

TEST_F(AlgebraicSimplificationTest, KeepsMultiplyingByZero) {
  // inf·0 and NaN·0 are NaN, so x·0 is not 0.
  Node product = x_ * 0.0;
  EXPECT_FALSE(SimplifyAlgebra(g_));
  EXPECT_EQ(ExpressionString(product), "mul(x, 0)");
}

TEST_F(AlgebraicSimplificationTest, SelectWithConstantConditionIsItsBranch) {
  Node taken = Select(FillLike(x_, 1.0), x_, y_);
  Node not_taken = Select(FillLike(x_, 0.0), x_, y_);
  EXPECT_TRUE(SimplifyAlgebra(g_));
  EXPECT_EQ(ExpressionString(taken), "x");
  EXPECT_EQ(ExpressionString(not_taken), "y");
}

TEST_F(AlgebraicSimplificationTest, SelectBetweenOneNodeIsThatNode) {
  EXPECT_EQ(Simplified(Select(Greater(x_, y_), y_, y_)), "y");
}

TEST_F(AlgebraicSimplificationTest, KeepsSelectWithComputedCondition) {
  Node chosen = Select(Greater(x_, y_), x_, y_);
  EXPECT_FALSE(SimplifyAlgebra(g_));
  EXPECT_EQ(ExpressionString(chosen), "select(greater(x, y), x, y)");
}

// ---- Constant factors ----

TEST_F(AlgebraicSimplificationTest, FoldsNestedConstantFactors) {
  EXPECT_EQ(Simplified((x_ * 2.0) * 3.0), "mul(x, 6)");
}

TEST_F(AlgebraicSimplificationTest, FoldsConstantFactorsWrittenOnTheLeft) {
  EXPECT_EQ(Simplified(0.5 * (2.0 * x_)), "x");
}

TEST_F(AlgebraicSimplificationTest, NegationMovesIntoAConstantFactor) {
  EXPECT_EQ(Simplified(-x_ * 3.0), "mul(x, -3)");
}

// ---- Negation ----

TEST_F(AlgebraicSimplificationTest, SubtractingANegationIsAdding) {
  EXPECT_EQ(Simplified(x_ - (-y_)), "add(x, y)");
}

TEST_F(AlgebraicSimplificationTest, AddingANegationIsSubtracting) {
  EXPECT_EQ(Simplified(x_ + (-y_)), "sub(x, y)");
}

TEST_F(AlgebraicSimplificationTest, AddingToANegationIsSubtracting) {
  EXPECT_EQ(Simplified(-x_ + y_), "sub(y, x)");
}

TEST_F(AlgebraicSimplificationTest, HoistsNegationOutOfMul) {
  EXPECT_EQ(Simplified(-x_ * y_), "neg(mul(x, y))");
}

TEST_F(AlgebraicSimplificationTest, HoistsNegationOutOfMulRightOperand) {
  EXPECT_EQ(Simplified(x_ * -y_), "neg(mul(x, y))");
}

TEST_F(AlgebraicSimplificationTest, HoistsNegationOutOfSum) {
  EXPECT_EQ(Simplified(Sum(-x_, 1)), "neg(sum[axis=1](x))");
}

TEST_F(AlgebraicSimplificationTest, HoistsNegationOutOfMean) {
  EXPECT_EQ(Simplified(Mean(-x_, 0, /*keepdims=*/true)),
            "neg(mean[keepdims=true](x))");
}

// ---- Layout ----

TEST_F(AlgebraicSimplificationTest, DropsBroadcastToTheSameShape) {
  EXPECT_EQ(Simplified(BroadcastTo(x_, {4, 3})), "x");
}

TEST_F(AlgebraicSimplificationTest, DropsReshapeToTheSameShape) {
  EXPECT_EQ(Simplified(Reshape(x_, {4, 3})), "x");
}

TEST_F(AlgebraicSimplificationTest, CollapsesReshapeOfReshape) {
  EXPECT_EQ(Simplified(Reshape(Reshape(x_, {12}), {2, 6})),
            "reshape[shape=[2,6]](x)");
}

TEST_F(AlgebraicSimplificationTest, CollapsesBroadcastOfBroadcast) {
  Node v = g_.Input("v", {3}, kF64);
  EXPECT_EQ(Simplified(BroadcastTo(BroadcastTo(v, {4, 3}), {2, 4, 3})),
            "broadcast[shape=[2,4,3]](v)");
}

TEST_F(AlgebraicSimplificationTest, TransposeTwiceIsIdentity) {
  EXPECT_EQ(Simplified(Transpose(Transpose(x_))), "x");
}

TEST_F(AlgebraicSimplificationTest, DropsIdentityTranspose) {
  EXPECT_EQ(Simplified(Transpose(x_, {0, 1})), "x");
}

TEST_F(AlgebraicSimplificationTest, ComposesTransposePermutations) {
  Node t = g_.Input("t", {2, 3, 4}, kF64);
  Node twice = Transpose(Transpose(t, {1, 2, 0}), {1, 2, 0});
  Graph reference;
  Node r = reference.Input("t", {2, 3, 4}, kF64);
  Node expected = Transpose(Transpose(r, {1, 2, 0}), {1, 2, 0});

  EXPECT_EQ(Simplified(twice), "transpose[permutation=[2,0,1]](t)");
  std::mt19937_64 rng(7);
  FeedMap feeds = {{"t", RandomTensor(rng, kF64, {2, 3, 4}, -1, 1)}};
  EXPECT_EQ(RunOne(g_, twice, feeds).ToDoubles(),
            RunOne(reference, expected, feeds).ToDoubles());
}

// ---- The pass as a whole ----

TEST_F(AlgebraicSimplificationTest, LeavesCanonicalGraphsAlone) {
  Node canonical = Sum(Exp(x_) * 2.0 - y_, 1);
  EXPECT_FALSE(SimplifyAlgebra(g_));
  EXPECT_EQ(ExpressionString(canonical), "sum[axis=1](sub(mul(exp(x), 2), y))");
}

TEST_F(AlgebraicSimplificationTest, KeepsValuesIncludingInfinityAndNaN) {
  Node simplified = (-(x_ * 1.0) + 0.0) * y_ / 1.0 - (-y_);
  Graph reference;
  Node rx = reference.Input("x", {4, 3}, kF64);
  Node ry = reference.Input("y", {4, 3}, kF64);
  Node expected = (-(rx * 1.0) + 0.0) * ry / 1.0 - (-ry);
  Tensor x = Tensor::FromValues<double>(
      {4, 3},
      {1, -2, 3.5, INFINITY, -INFINITY, NAN, 0.25, -0.5, 1e300, 7, 8, 9});
  Tensor y = Tensor::FromValues<double>(
      {4, 3}, {2, 3, -1, 0.5, 2, 1, INFINITY, 4, 1e10, -3, 0.125, NAN});
  FeedMap feeds = {{"x", x}, {"y", y}};

  EXPECT_TRUE(SimplifyAlgebra(g_));
  EXPECT_EQ(ExpressionString(simplified), "sub(y, mul(x, y))");
  const Tensor actual = RunOne(g_, simplified, feeds);
  const Tensor wanted = RunOne(reference, expected, feeds);
  for (int64_t i = 0; i < actual.num_elements(); ++i) {
    if (std::isnan(wanted.At(i))) {
      EXPECT_TRUE(std::isnan(actual.At(i))) << "element " << i;
    } else {
      EXPECT_EQ(actual.At(i), wanted.At(i)) << "element " << i;
    }
  }
}

}  // namespace
}  // namespace kiln
