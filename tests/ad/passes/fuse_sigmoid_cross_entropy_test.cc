#include "ad/passes/fuse_sigmoid_cross_entropy.h"

#include <cmath>
#include <random>

#include "ad/builder.h"
#include "ad/graph.h"
#include "ad/passes/printer.h"
#include "gtest/gtest.h"
#include "tests/ad/test_util.h"

namespace kiln {
namespace {

using testing::RandomTensor;
using testing::RunOne;

constexpr char kFused[] = "sigmoid_cross_entropy(s, y)";

class FuseSigmoidCrossEntropyTest : public ::testing::Test {
 protected:
  Graph g_;
  Node s_ = g_.Input("s", {4, 3}, kF64);
  Node y_ = g_.Input("y", {4, 3}, kF64);
  Node p_ = Sigmoid(s_);
};

TEST_F(FuseSigmoidCrossEntropyTest, FusesTheTextbookForm) {
  Node loss = -Mean(Sum(y_ * Log(p_) + (1.0 - y_) * Log(1.0 - p_), 1), 0);

  EXPECT_TRUE(FuseSigmoidCrossEntropy(g_));
  EXPECT_EQ(ExpressionString(loss), kFused);
}

TEST_F(FuseSigmoidCrossEntropyTest, AcceptsOperandsInAnyOrder) {
  Node loss = -Mean(Sum(Log(1.0 - p_) * (1.0 - y_) + Log(p_) * y_, 1), 0);

  EXPECT_TRUE(FuseSigmoidCrossEntropy(g_));
  EXPECT_EQ(ExpressionString(loss), kFused);
}

TEST_F(FuseSigmoidCrossEntropyTest, AcceptsNegationInsideTheSum) {
  Node loss = Mean(Sum(-(y_ * Log(p_) + (1.0 - y_) * Log(1.0 - p_)), 1), 0);

  EXPECT_TRUE(FuseSigmoidCrossEntropy(g_));
  EXPECT_EQ(ExpressionString(loss), kFused);
}

TEST_F(FuseSigmoidCrossEntropyTest, AcceptsOneHotTargets) {
  Node labels = g_.Input("labels", {4}, kF64);
  Node y = OneHot(labels, 3);
  Node loss = -Mean(Sum(y * Log(p_) + (1.0 - y) * Log(1.0 - p_), 1), 0);

  EXPECT_TRUE(FuseSigmoidCrossEntropy(g_));
  EXPECT_EQ(ExpressionString(loss),
            "sigmoid_cross_entropy(s, one_hot[num_classes=3](labels))");
}

TEST_F(FuseSigmoidCrossEntropyTest, RefusesTermsWithDifferentTargets) {
  Node z = g_.Input("z", {4, 3}, kF64);
  Node loss = -Mean(Sum(y_ * Log(p_) + (1.0 - z) * Log(1.0 - p_), 1), 0);

  EXPECT_FALSE(FuseSigmoidCrossEntropy(g_));
  EXPECT_EQ(loss.op(), OpKind::kNeg);
}

TEST_F(FuseSigmoidCrossEntropyTest, RefusesTermsWithDifferentProbabilities) {
  Node q = Sigmoid(g_.Input("t", {4, 3}, kF64));
  Node loss = -Mean(Sum(y_ * Log(p_) + (1.0 - y_) * Log(1.0 - q), 1), 0);

  EXPECT_FALSE(FuseSigmoidCrossEntropy(g_));
  EXPECT_EQ(loss.op(), OpKind::kNeg);
}

TEST_F(FuseSigmoidCrossEntropyTest, RefusesAComplementOtherThanOneMinus) {
  Node loss = -Mean(Sum(y_ * Log(p_) + (2.0 - y_) * Log(1.0 - p_), 1), 0);

  EXPECT_FALSE(FuseSigmoidCrossEntropy(g_));
  EXPECT_EQ(loss.op(), OpKind::kNeg);
}

TEST_F(FuseSigmoidCrossEntropyTest, RefusesProbabilitiesThatAreNotSigmoids) {
  Node p = Softmax(s_);
  Node loss = -Mean(Sum(y_ * Log(p) + (1.0 - y_) * Log(1.0 - p), 1), 0);

  EXPECT_FALSE(FuseSigmoidCrossEntropy(g_));
  EXPECT_EQ(loss.op(), OpKind::kNeg);
}

TEST_F(FuseSigmoidCrossEntropyTest, FusedLossHasThePrimitiveValue) {
  Graph reference;
  Node rs = reference.Input("s", {4, 3}, kF64);
  Node ry = reference.Input("y", {4, 3}, kF64);
  Node rp = Sigmoid(rs);
  Node expected = -Mean(Sum(ry * Log(rp) + (1.0 - ry) * Log(1.0 - rp), 1), 0);
  Node loss = -Mean(Sum(y_ * Log(p_) + (1.0 - y_) * Log(1.0 - p_), 1), 0);
  ASSERT_TRUE(FuseSigmoidCrossEntropy(g_));

  std::mt19937_64 rng(5);
  FeedMap feeds = {{"s", RandomTensor(rng, kF64, {4, 3}, -4, 4)},
                   {"y", RandomTensor(rng, kF64, {4, 3}, 0, 1)}};
  EXPECT_NEAR(RunOne(g_, loss, feeds).At(0),
              RunOne(reference, expected, feeds).At(0), 1e-14);
}

TEST_F(FuseSigmoidCrossEntropyTest, FusedLossStaysFiniteForSaturatedScores) {
  Node loss = -Mean(Sum(y_ * Log(p_) + (1.0 - y_) * Log(1.0 - p_), 1), 0);
  Tensor s(kF64, {4, 3});
  s.Set(0, 50.0);  // σ(50) rounds to 1, so log(1 − p) is −inf.
  FeedMap feeds = {{"s", s}, {"y", Tensor(kF64, {4, 3})}};
  ASSERT_TRUE(std::isinf(RunOne(g_, loss, feeds).At(0)));

  ASSERT_TRUE(FuseSigmoidCrossEntropy(g_));
  const double fused = RunOne(g_, loss, feeds).At(0);
  EXPECT_TRUE(std::isfinite(fused));
  EXPECT_NEAR(fused, (50.0 + 11 * std::log(2.0)) / 4, 1e-12);
}

}  // namespace
}  // namespace kiln
