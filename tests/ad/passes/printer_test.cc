#include "ad/passes/printer.h"

#include <string>

#include "ad/builder.h"
#include "ad/graph.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// ---- GraphToText ----

class GraphToTextTest : public ::testing::Test {
 protected:
  Graph g_;
  Node x_ = g_.Input("x", {100, 784}, kF32);
  Node w_ = g_.Parameter("w", {784, 10}, kF32);
  Node scores_ = MatMul(x_, w_);
  Node scaled_ = scores_ * 0.5;
  Node rows_ = Sum(scaled_, 1);
};

TEST_F(GraphToTextTest, PrintsLeavesWithTheirNames) {
  const std::string text = GraphToText(g_);
  EXPECT_THAT(text, HasSubstr("%0 = input \"x\" : f32[100,784]\n"));
  EXPECT_THAT(text, HasSubstr("%1 = parameter \"w\" : f32[784,10]\n"));
}

TEST_F(GraphToTextTest, PrintsOpsWithInputsAndType) {
  EXPECT_THAT(GraphToText(g_), HasSubstr("%2 = matmul(%0, %1) : f32[100,10]"));
}

TEST_F(GraphToTextTest, PrintsFillValues) {
  EXPECT_THAT(GraphToText(g_), HasSubstr("%3 = fill 0.5 : f32[100,10]"));
}

TEST_F(GraphToTextTest, PrintsNonDefaultAttributesInBrackets) {
  const std::string text = GraphToText(g_);
  EXPECT_THAT(text, HasSubstr("%5 = sum[axis=1](%4) : f32[100]"));
  EXPECT_THAT(text, HasSubstr("%4 = mul(%2, %3) : f32[100,10]"));
}

TEST_F(GraphToTextTest, NamesTheOutputs) {
  g_.AddOutput(rows_);
  g_.AddOutput(scores_);
  EXPECT_THAT(GraphToText(g_), HasSubstr("outputs %5, %2\n"));
}

TEST_F(GraphToTextTest, OmitsDeadAndReplacedNodes) {
  g_.ReplaceAllUses(scaled_, scores_);
  g_.MarkDead(3);
  const std::string text = GraphToText(g_);
  EXPECT_THAT(text, Not(HasSubstr("%3 =")));
  EXPECT_THAT(text, Not(HasSubstr("%4 =")));
  EXPECT_THAT(text, HasSubstr("%5 = sum[axis=1](%2)"));
}

TEST(GraphToTextConstantTest, PrintsTheFirstValuesOfAConstant) {
  Graph g;
  g.Constant(Tensor::FromValues<double>({5}, {1, 2.5, 3, 4, 5}));
  EXPECT_EQ(GraphToText(g), "%0 = constant {1, 2.5, 3, 4, ...} : f64[5]\n");
}

// ---- ExpressionString ----

TEST(ExpressionStringTest, LeavesPrintTheirNames) {
  Graph g;
  Node x = g.Input("x", {2}, kF64);
  Node w = g.Parameter("w", {2}, kF64);
  EXPECT_EQ(ExpressionString(x * w), "mul(x, w)");
}

TEST(ExpressionStringTest, FillsPrintTheShortestExactDecimal) {
  Graph g;
  EXPECT_EQ(ExpressionString(g.Fill(0.01, {3}, kF64)), "0.01");
  EXPECT_EQ(ExpressionString(g.Fill(1.0 / 3, {3}, kF64)), "0.3333333333333333");
  EXPECT_EQ(ExpressionString(g.Fill(-2, {3}, kF64)), "-2");
  EXPECT_EQ(ExpressionString(g.Fill(1e-20, {3}, kF64)), "1e-20");
}

TEST(ExpressionStringTest, F32FillsPrintTheShortestF32Decimal) {
  Graph g;
  EXPECT_EQ(ExpressionString(g.Fill(static_cast<float>(0.01), {3}, kF32)),
            "0.01");
  EXPECT_EQ(ExpressionString(g.Fill(1.0f / 3, {3}, kF32)), "0.33333334");
}

TEST(ExpressionStringTest, ConstantsPrintTheirType) {
  Graph g;
  Node c = g.Constant(Tensor::FromValues<double>({3}, {1, 2, 3}));
  EXPECT_EQ(ExpressionString(c), "constant<f64[3]>");
}

TEST(ExpressionStringTest, OpsPrintNonDefaultAttributes) {
  Graph g;
  Node x = g.Input("x", {4, 3}, kF64);
  Node labels = g.Input("labels", {4}, kF64);
  EXPECT_EQ(ExpressionString(Sum(x, 1)), "sum[axis=1](x)");
  EXPECT_EQ(ExpressionString(Sum(x, 0)), "sum(x)");
  EXPECT_EQ(ExpressionString(Max(x, -1, true)),
            "max[axis=1, keepdims=true](x)");
  EXPECT_EQ(ExpressionString(OneHot(labels, 10)),
            "one_hot[num_classes=10](labels)");
  EXPECT_EQ(ExpressionString(Transpose(x)), "transpose[permutation=[1,0]](x)");
  EXPECT_EQ(ExpressionString(Reshape(x, {12})), "reshape[shape=[12]](x)");
}

TEST(ExpressionStringTest, NestsTheWholeExpression) {
  Graph g;
  Node s = g.Input("s", {100, 10}, kF64);
  Node y = g.Input("y", {100, 10}, kF64);
  EXPECT_EQ(ExpressionString((Softmax(s) - y) * 0.01),
            "mul(sub(softmax(s), y), 0.01)");
}

TEST(ExpressionStringTest, FollowsReplacements) {
  Graph g;
  Node x = g.Input("x", {2}, kF64);
  Node e = Exp(x);
  Node l = Log(e);
  g.ReplaceAllUses(e, Softmax(x));
  EXPECT_EQ(ExpressionString(l), "log(softmax(x))");
  EXPECT_EQ(ExpressionString(e), "softmax(x)");
}

// ---- GraphToDot ----

class GraphToDotTest : public ::testing::Test {
 protected:
  Graph g_;
  Node x_ = g_.Input("x", {2, 3}, kF64);
  Node w_ = g_.Parameter("w", {3, 4}, kF64);
  Node product_ = MatMul(x_, w_);
};

TEST_F(GraphToDotTest, IsADigraphWithOneEdgePerInput) {
  const std::string dot = GraphToDot(g_);
  EXPECT_EQ(dot.rfind("digraph kiln {\n", 0), 0u);
  EXPECT_EQ(dot.back(), '\n');
  EXPECT_THAT(dot, HasSubstr("}\n"));
  EXPECT_THAT(dot, HasSubstr("  n0 -> n2;\n"));
  EXPECT_THAT(dot, HasSubstr("  n1 -> n2;\n"));
}

TEST_F(GraphToDotTest, LabelsNodesWithOpAndShape) {
  const std::string dot = GraphToDot(g_);
  EXPECT_THAT(dot, HasSubstr("n2 [label=\"matmul\\nf64[2,4]\", shape=ellipse"));
  EXPECT_THAT(dot, HasSubstr("n0 [label=\"input \\\"x\\\"\\nf64[2,3]\", "
                             "shape=box, style=filled, fillcolor=lightblue"));
  EXPECT_THAT(dot, HasSubstr("fillcolor=palegreen"));
}

TEST_F(GraphToDotTest, MarksOutputs) {
  EXPECT_THAT(GraphToDot(g_), Not(HasSubstr("peripheries=2")));
  g_.AddOutput(product_);
  EXPECT_THAT(GraphToDot(g_), HasSubstr("shape=ellipse, peripheries=2"));
}

TEST_F(GraphToDotTest, ClustersBoxTheirNodesOnceEach) {
  Node sum = product_ + product_;
  const std::string dot =
      GraphToDot(g_, {{"first \"k\"", {product_.id(), sum.id()}},
                      {"second", {sum.id(), 99}},
                      {"empty", {}}});
  EXPECT_THAT(dot, HasSubstr("  subgraph cluster_0 {\n    label=\"first "
                             "\\\"k\\\"\";"));
  EXPECT_THAT(dot, HasSubstr(" n2; n3;\n  }\n"));
  // sum is drawn in the first cluster only, and 99 is no node, so the
  // other clusters are left out.
  EXPECT_THAT(dot, Not(HasSubstr("cluster_1")));
  EXPECT_THAT(dot, Not(HasSubstr("cluster_2")));
  EXPECT_EQ(GraphToDot(g_, {}), GraphToDot(g_));
}

}  // namespace
}  // namespace kiln
