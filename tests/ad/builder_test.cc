// The builder checks every node when it is made. Mistakes come back as an
// InvalidArgument status on the graph that names the op, the shapes or
// dtypes involved, and the caller's file and line.

#include "ad/builder.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/ad/test_util.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

// "builder_test.cc:<line>", the location a message should cite.
std::string Here(int line) { return absl::StrCat("builder_test.cc:", line); }

TEST(BuilderTest, ShapeMismatchNamesOpShapesAndCallerLine) {
  Graph g;
  Node x = g.Input("x", {100, 784}, kF32);
  Node w = g.Parameter("w", {200, 10}, kF32);
  const int line = __LINE__ + 1;
  Node product = MatMul(x, w);
  EXPECT_FALSE(product.ok());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(g.status().message(), HasSubstr("matmul"));
  EXPECT_THAT(g.status().message(), HasSubstr("[100,784]"));
  EXPECT_THAT(g.status().message(), HasSubstr("[200,10]"));
  EXPECT_THAT(g.status().message(), HasSubstr(Here(line)));
}

TEST(BuilderTest, DtypeMismatchNamesBothDtypes) {
  Graph g;
  Node a = g.Input("a", {3}, kF32);
  Node b = g.Input("b", {3}, kF64);
  const int line = __LINE__ + 1;
  Node sum = a + b;
  EXPECT_FALSE(sum.ok());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(g.status().message(), HasSubstr("add: dtype mismatch"));
  EXPECT_THAT(g.status().message(), HasSubstr("f32 and f64"));
  EXPECT_THAT(g.status().message(), HasSubstr(Here(line)));
}

TEST(BuilderTest, NonBroadcastablePairNamesBothShapes) {
  Graph g;
  Node a = g.Input("a", {100, 200}, kF64);
  Node b = g.Input("b", {10}, kF64);
  const int line = __LINE__ + 1;
  Node product = a * b;
  EXPECT_FALSE(product.ok());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(g.status().message(),
              HasSubstr("mul: shapes [100,200] and [10] are not "
                        "broadcastable"));
  EXPECT_THAT(g.status().message(), HasSubstr(Here(line)));
}

TEST(BuilderTest, ScalarOnTheLeftStillCitesTheCaller) {
  Graph g;
  Node a = g.Input("a", {2, 3}, kF64);
  Node b = g.Input("b", {4}, kF64);
  const int line = __LINE__ + 1;
  Node bad = 2.0 * a + b;
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(g.status().message(), HasSubstr(Here(line)));
}

TEST(BuilderTest, FirstErrorIsKeptAndLaterOpsPropagateQuietly) {
  Graph g;
  Node x = g.Input("x", {2, 3}, kF64);
  Node bad = MatMul(x, x);
  Node later = Sigmoid(bad) + x;
  EXPECT_FALSE(later.ok());
  EXPECT_THAT(g.status().message(), HasSubstr("matmul: inner dimensions"));
}

TEST(BuilderTest, AxisOutOfRangeIsReported) {
  Graph g;
  Node x = g.Input("x", {2, 3}, kF64);
  EXPECT_FALSE(Sum(x, 2).ok());
  EXPECT_THAT(g.status().message(),
              HasSubstr("sum: axis 2 is out of range for rank 2"));
}

TEST(BuilderTest, DuplicateLeafNameIsRejected) {
  Graph g;
  g.Input("x", {2}, kF64);
  EXPECT_FALSE(g.Parameter("x", {2}, kF64).ok());
  EXPECT_THAT(g.status().message(), HasSubstr("'x' is already used"));
}

TEST(BuilderTest, NonPositiveDimensionIsRejected) {
  Graph g;
  EXPECT_FALSE(g.Input("x", {3, 0}, kF32).ok());
  EXPECT_THAT(g.status().message(), HasSubstr("[3,0]"));
}

// Each input is a valid shape; the product [2^40, 2^40] is not, and its
// element count must be refused rather than wrap around to a small number.
TEST(BuilderTest, MatMulWhoseResultOverflowsIsRejected) {
  Graph g;
  const int64_t big = int64_t{1} << 40;
  Node a = g.Input("a", {big, 1}, kF32);
  Node b = g.Input("b", {1, big}, kF32);
  ASSERT_TRUE(g.status().ok()) << g.status();
  const int line = __LINE__ + 1;
  EXPECT_FALSE(MatMul(a, b).ok());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(g.status().message(), HasSubstr("matmul"));
  EXPECT_THAT(g.status().message(), HasSubstr("[1099511627776,1099511627776]"));
  EXPECT_THAT(g.status().message(), HasSubstr(Here(line)));
}

TEST(BuilderTest, BroadcastWhoseResultOverflowsIsRejected) {
  Graph g;
  const int64_t big = int64_t{1} << 32;
  Node a = g.Input("a", {big, 1}, kF64);
  Node b = g.Input("b", {1, big}, kF64);
  EXPECT_FALSE((a + b).ok());
  EXPECT_THAT(g.status().message(), HasSubstr("[4294967296,4294967296]"));
}

TEST(BuilderTest, OneHotWhoseResultOverflowsIsRejected) {
  Graph g;
  Node labels = g.Input("labels", {int64_t{1} << 40}, kF32);
  EXPECT_FALSE(OneHot(labels, int64_t{1} << 30).ok());
  EXPECT_THAT(g.status().message(), HasSubstr("one_hot"));
}

TEST(BuilderTest, NodesFromAnotherGraphAreRejected) {
  Graph g, other;
  Node a = g.Input("a", {2}, kF64);
  Node b = other.Input("b", {2}, kF64);
  EXPECT_FALSE((a + b).ok());
  EXPECT_THAT(g.status().message(), HasSubstr("another graph"));
}

TEST(BuilderTest, BinaryOpsBroadcastExplicitly) {
  Graph g;
  Node x = g.Input("x", {4, 3}, kF64);
  Node b = g.Parameter("b", {3}, kF64);
  Node sum = x + b;
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(sum.shape(), (Shape{4, 3}));
  EXPECT_EQ(sum.input(0), x);
  EXPECT_EQ(sum.input(1).op(), OpKind::kBroadcast);
  EXPECT_EQ(sum.input(1).input(0), b);
}

TEST(BuilderTest, ScalarsBecomeFillsOfTheOperandShape) {
  Graph g;
  Node x = g.Input("x", {4, 3}, kF32);
  Node scaled = x * 0.5;
  ASSERT_TRUE(g.status().ok());
  Node constant = scaled.input(1);
  EXPECT_EQ(constant.op(), OpKind::kFill);
  EXPECT_EQ(constant.shape(), (Shape{4, 3}));
  EXPECT_EQ(constant.dtype(), kF32);
  EXPECT_EQ(constant.attributes().scalar, 0.5);
}

TEST(BuilderTest, NegativeAxisIsStoredResolved) {
  Graph g;
  Node x = g.Input("x", {2, 3, 4}, kF64);
  Node total = Sum(x, -1, /*keepdims=*/true);
  ASSERT_TRUE(g.status().ok());
  EXPECT_EQ(total.attributes().axis, 2);
  EXPECT_EQ(total.shape(), (Shape{2, 3, 1}));
}

TEST(BuilderTest, MlpBuildsWithTheExpectedShapes) {
  Graph g;
  Node x = g.Input("x", {100, 784}, kF32);
  Node y = g.Input("y", {100, 10}, kF32);
  Node w1 = g.Parameter("w1", {784, 200}, kF32);
  Node b1 = g.Parameter("b1", {200}, kF32);
  Node w2 = g.Parameter("w2", {200, 10}, kF32);
  Node b2 = g.Parameter("b2", {10}, kF32);
  Node h = Sigmoid(MatMul(x, w1) + b1);
  Node logits = MatMul(h, w2) + b2;
  Node loss = SoftmaxCrossEntropy(logits, y);
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(h.shape(), (Shape{100, 200}));
  EXPECT_EQ(logits.shape(), (Shape{100, 10}));
  EXPECT_EQ(loss.shape(), Shape{});
  EXPECT_EQ(g.Leaves().size(), 6u);
}

}  // namespace
}  // namespace kiln
