#include "ad/passes/fuse_log_softmax.h"

#include <cmath>

#include "ad/builder.h"
#include "ad/graph.h"
#include "ad/passes/printer.h"
#include "gtest/gtest.h"
#include "tests/ad/test_util.h"

namespace kiln {
namespace {

using testing::RunOne;

TEST(FuseLogSoftmaxTest, LogOfSoftmaxBecomesLogSoftmax) {
  Graph g;
  Node s = g.Input("s", {2, 3}, kF64);
  Node log_p = Log(Softmax(s));

  EXPECT_TRUE(FuseLogSoftmax(g));
  EXPECT_EQ(ExpressionString(log_p), "log_softmax(s)");
}

TEST(FuseLogSoftmaxTest, LeavesOtherLogsAlone) {
  Graph g;
  Node s = g.Input("s", {2, 3}, kF64);
  Node log_e = Log(Exp(s));

  EXPECT_FALSE(FuseLogSoftmax(g));
  EXPECT_EQ(ExpressionString(log_e), "log(exp(s))");
}

TEST(FuseLogSoftmaxTest, StaysFiniteWhereTheProbabilityUnderflows) {
  Graph g;
  Node s = g.Input("s", {1, 2}, kF64);
  Node log_p = Log(Softmax(s));
  FeedMap feeds = {{"s", Tensor::FromValues<double>({1, 2}, {0, -1000})}};
  ASSERT_TRUE(std::isinf(RunOne(g, log_p, feeds).At(1)));

  ASSERT_TRUE(FuseLogSoftmax(g));
  const Tensor fused = RunOne(g, log_p, feeds);
  EXPECT_NEAR(fused.At(0), 0.0, 1e-15);
  EXPECT_NEAR(fused.At(1), -1000.0, 1e-12);
}

}  // namespace
}  // namespace kiln
