#include "ad/passes/fuse_softmax_cross_entropy.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "ad/builder.h"
#include "ad/graph.h"
#include "ad/passes/pipeline.h"
#include "ad/passes/printer.h"
#include "gtest/gtest.h"
#include "tests/ad/test_util.h"

namespace kiln {
namespace {

using testing::RandomLabels;
using testing::RandomTensor;
using testing::RunOne;

constexpr char kFused[] =
    "softmax_cross_entropy(s, one_hot[num_classes=5](labels))";

class FuseSoftmaxCrossEntropyTest : public ::testing::Test {
 protected:
  Graph g_;
  Node s_ = g_.Input("s", {4, 5}, kF64);
  Node labels_ = g_.Input("labels", {4}, kF64);
  Node y_ = OneHot(labels_, 5);
};

TEST_F(FuseSoftmaxCrossEntropyTest, FusesNegatedMeanOfRowSums) {
  Node loss = -Mean(Sum(y_ * LogSoftmax(s_), 1), 0);

  EXPECT_TRUE(FuseSoftmaxCrossEntropy(g_));
  EXPECT_EQ(ExpressionString(loss), kFused);
}

TEST_F(FuseSoftmaxCrossEntropyTest, AcceptsLabelsAsTheRightOperand) {
  Node loss = -Mean(Sum(LogSoftmax(s_) * y_, 1), 0);

  EXPECT_TRUE(FuseSoftmaxCrossEntropy(g_));
  EXPECT_EQ(ExpressionString(loss), kFused);
}

TEST_F(FuseSoftmaxCrossEntropyTest, AcceptsNegationBetweenMeanAndSum) {
  Node loss = Mean(-Sum(y_ * LogSoftmax(s_), 1), 0);

  EXPECT_TRUE(FuseSoftmaxCrossEntropy(g_));
  EXPECT_EQ(ExpressionString(loss), kFused);
}

TEST_F(FuseSoftmaxCrossEntropyTest, AcceptsNegationInsideTheSum) {
  Node loss = Mean(Sum(-(y_ * LogSoftmax(s_)), 1), 0);

  EXPECT_TRUE(FuseSoftmaxCrossEntropy(g_));
  EXPECT_EQ(ExpressionString(loss), kFused);
}

TEST_F(FuseSoftmaxCrossEntropyTest, RefusesTargetsThatAreNotOneHot) {
  // Rows of an arbitrary input need not sum to one, and the fused gradient
  // (softmax(s) − y)/N relies on that.
  Node targets = g_.Input("targets", {4, 5}, kF64);
  Node loss = -Mean(Sum(targets * LogSoftmax(s_), 1), 0);

  EXPECT_FALSE(FuseSoftmaxCrossEntropy(g_));
  EXPECT_EQ(loss.op(), OpKind::kNeg);
}

TEST_F(FuseSoftmaxCrossEntropyTest, RefusesALossWithoutNegation) {
  Node loss = Mean(Sum(y_ * LogSoftmax(s_), 1), 0);

  EXPECT_FALSE(FuseSoftmaxCrossEntropy(g_));
  EXPECT_EQ(loss.op(), OpKind::kMean);
}

TEST_F(FuseSoftmaxCrossEntropyTest, KeepsASecondNegationOutsideTheLoss) {
  // Mean(−Sum(..)) is the loss; the outer negation stays around it.
  Node loss = -Mean(-Sum(y_ * LogSoftmax(s_), 1), 0);

  EXPECT_TRUE(FuseSoftmaxCrossEntropy(g_));
  EXPECT_EQ(ExpressionString(loss), absl::StrCat("neg(", kFused, ")"));
}

TEST_F(FuseSoftmaxCrossEntropyTest, RefusesSumOverRowsFirst) {
  Node loss = -Mean(Sum(y_ * LogSoftmax(s_), 0), 0);

  EXPECT_FALSE(FuseSoftmaxCrossEntropy(g_));
  EXPECT_EQ(loss.op(), OpKind::kNeg);
}

TEST_F(FuseSoftmaxCrossEntropyTest, RefusesLogOfSomethingElse) {
  Node loss = -Mean(Sum(y_ * Log(Sigmoid(s_)), 1), 0);

  EXPECT_FALSE(FuseSoftmaxCrossEntropy(g_));
  EXPECT_EQ(loss.op(), OpKind::kNeg);
}

TEST_F(FuseSoftmaxCrossEntropyTest, PipelineFusesTheLossFromPrimitives) {
  Node loss = -Mean(Sum(y_ * Log(Exp(s_) / Sum(Exp(s_), 1, true)), 1), 0);
  g_.AddOutput(loss);

  EXPECT_TRUE(RunPasses(g_));
  EXPECT_EQ(ExpressionString(loss), kFused);
}

TEST_F(FuseSoftmaxCrossEntropyTest, FusedLossHasThePrimitiveValue) {
  Graph reference;
  Node r = reference.Input("s", {4, 5}, kF64);
  Node rl = reference.Input("labels", {4}, kF64);
  Node expected = -Mean(Sum(OneHot(rl, 5) * LogSoftmax(r), 1), 0);
  Node loss = -Mean(Sum(y_ * LogSoftmax(s_), 1), 0);
  ASSERT_TRUE(FuseSoftmaxCrossEntropy(g_));

  std::mt19937_64 rng(3);
  FeedMap feeds = {{"s", RandomTensor(rng, kF64, {4, 5}, -4, 4)},
                   {"labels", RandomLabels(rng, kF64, 4, 5)}};
  EXPECT_NEAR(RunOne(g_, loss, feeds).At(0),
              RunOne(reference, expected, feeds).At(0), 1e-14);
}

}  // namespace
}  // namespace kiln
