#include "ad/passes/fuse_softmax.h"

#include <random>

#include "ad/builder.h"
#include "ad/graph.h"
#include "ad/passes/common_subexpression_elimination.h"
#include "ad/passes/printer.h"
#include "gtest/gtest.h"
#include "tests/ad/test_util.h"

namespace kiln {
namespace {

using testing::RandomTensor;
using testing::RunOne;

class FuseSoftmaxTest : public ::testing::Test {
 protected:
  Graph g_;
  Node s_ = g_.Input("s", {4, 5}, kF64);
};

TEST_F(FuseSoftmaxTest, RecognisesTextbookSoftmax) {
  Node e = Exp(s_);
  Node p = e / Sum(e, 1, /*keepdims=*/true);

  EXPECT_TRUE(FuseSoftmax(g_));
  EXPECT_EQ(ExpressionString(p), "softmax(s)");
}

TEST_F(FuseSoftmaxTest, DropsTheSubtractedRowMaximum) {
  Node e = Exp(s_ - Max(s_, 1, /*keepdims=*/true));
  Node p = e / Sum(e, 1, /*keepdims=*/true);

  EXPECT_TRUE(FuseSoftmax(g_));
  EXPECT_EQ(ExpressionString(p), "softmax(s)");
}

TEST_F(FuseSoftmaxTest, AcceptsSumWithoutKeepdimsReshapedToAColumn) {
  Node e = Exp(s_);
  Node p = e / Reshape(Sum(e, 1), {4, 1});

  EXPECT_TRUE(FuseSoftmax(g_));
  EXPECT_EQ(ExpressionString(p), "softmax(s)");
}

TEST_F(FuseSoftmaxTest, NeedsBothExpToBeOneNode) {
  // Two separate Exp(s) nodes: common-subexpression elimination merges them
  // first, as the pipeline does.
  Node p = Exp(s_) / Sum(Exp(s_), 1, /*keepdims=*/true);

  EXPECT_FALSE(FuseSoftmax(g_));
  EXPECT_TRUE(EliminateCommonSubexpressions(g_));
  EXPECT_TRUE(FuseSoftmax(g_));
  EXPECT_EQ(ExpressionString(p), "softmax(s)");
}

TEST_F(FuseSoftmaxTest, IgnoresSumOverAnotherAxis) {
  Node e = Exp(s_);
  Node p = e / Sum(e, 0, /*keepdims=*/true);

  EXPECT_FALSE(FuseSoftmax(g_));
  EXPECT_EQ(p.op(), OpKind::kDiv);
}

TEST_F(FuseSoftmaxTest, IgnoresDivisionByAnotherRowSum) {
  Node t = g_.Input("t", {4, 5}, kF64);
  Node p = Exp(s_) / Sum(Exp(t), 1, /*keepdims=*/true);

  EXPECT_FALSE(FuseSoftmax(g_));
  EXPECT_EQ(p.op(), OpKind::kDiv);
}

TEST_F(FuseSoftmaxTest, KeepsAShiftThatIsNotTheRowMaximum) {
  Node e = Exp(s_ - Mean(s_, 1, /*keepdims=*/true));
  Node p = e / Sum(e, 1, /*keepdims=*/true);

  EXPECT_TRUE(FuseSoftmax(g_));
  EXPECT_EQ(ExpressionString(p),
            "softmax(sub(s, broadcast[shape=[4,5]](mean[axis=1, "
            "keepdims=true](s))))");
}

TEST_F(FuseSoftmaxTest, FusedSoftmaxComputesTheSameValues) {
  Graph reference;
  Node r = reference.Input("s", {4, 5}, kF64);
  Node expected = Exp(r) / Sum(Exp(r), 1, /*keepdims=*/true);
  Node e = Exp(s_);
  Node p = e / Sum(e, 1, /*keepdims=*/true);
  ASSERT_TRUE(FuseSoftmax(g_));

  std::mt19937_64 rng(11);
  FeedMap feeds = {{"s", RandomTensor(rng, kF64, {4, 5}, -5, 5)}};
  const Tensor actual = RunOne(g_, p, feeds);
  const Tensor wanted = RunOne(reference, expected, feeds);
  for (int64_t i = 0; i < actual.num_elements(); ++i) {
    EXPECT_NEAR(actual.At(i), wanted.At(i), 1e-15) << "element " << i;
  }
}

}  // namespace
}  // namespace kiln
