// After the passes, the gradient of each standard output head with respect to
// its scores is, node for node, the hand-derived delta (prediction − target)
// scaled by 1/N, whether the loss was written from primitives or with the
// fused op. The printed expression is the structure; the interpreter checks
// that the structure computes the textbook formula.

#include <cmath>
#include <random>
#include <string>

#include "ad/autodiff.h"
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

constexpr int64_t kRows = 100;
constexpr int64_t kClasses = 10;

// The hand-derived deltas, with 1/N = 1/100 written as the printer writes
// the Fill holding it.
constexpr char kSoftmaxDelta[] =
    "mul(sub(softmax(s), one_hot[num_classes=10](labels)), 0.01)";
constexpr char kSigmoidDelta[] = "mul(sub(sigmoid(s), y), 0.01)";
constexpr char kSigmoidOneHotDelta[] =
    "mul(sub(sigmoid(s), one_hot[num_classes=10](labels)), 0.01)";
constexpr char kIdentityDelta[] = "mul(sub(s, y), 0.01)";

// ---- Losses written from primitives, as a user would ----

// −(1/N) Σ_rows Σ_c y_c log softmax(s)_c, with softmax spelled out.
Node SoftmaxCrossEntropyFromPrimitives(Node s, Node y) {
  Node p = Exp(s) / Sum(Exp(s), 1, /*keepdims=*/true);
  return -Mean(Sum(y * Log(p), 1), 0);
}

// The same with each row's maximum subtracted first, as numerically careful
// code does.
Node ShiftedSoftmaxCrossEntropyFromPrimitives(Node s, Node y) {
  Node e = Exp(s - Max(s, 1, /*keepdims=*/true));
  Node p = e / Sum(e, 1, /*keepdims=*/true);
  return -Mean(Sum(y * Log(p), 1), 0);
}

// −(1/N) Σ y log σ(s) + (1 − y) log(1 − σ(s)).
Node SigmoidCrossEntropyFromPrimitives(Node s, Node y) {
  Node p = Sigmoid(s);
  return -Mean(Sum(y * Log(p) + (1.0 - y) * Log(1.0 - p), 1), 0);
}

// ½ (1/N) Σ (s − y)².
Node HalfMseFromPrimitives(Node s, Node y) {
  return 0.5 * Mean(Sum(Square(s - y), 1), 0);
}

// Simplifies the graph with the loss as its output, differentiates, and
// simplifies again with the gradient as an output: the order a trainer uses.
// Returns the gradient with respect to the scores s.
Node SimplifiedGradient(Node loss, Node s) {
  Graph& g = *loss.graph();
  g.AddOutput(loss);
  RunPasses(g);
  Node grad = Grad(loss, {s})[s];
  g.AddOutput(grad);
  RunPasses(g);
  EXPECT_TRUE(g.status().ok()) << g.status();
  return grad;
}

class OutputDeltaStructureTest : public ::testing::Test {
 protected:
  Node SimplifiedGradient(Node loss) {
    return kiln::SimplifiedGradient(loss, s_);
  }

  Graph g_;
  Node s_ = g_.Input("s", {kRows, kClasses}, kF64);
  Node labels_ = g_.Input("labels", {kRows}, kF64);
  Node y_ = g_.Input("y", {kRows, kClasses}, kF64);
  Node one_hot_ = OneHot(labels_, kClasses);
};

// ---- Softmax cross-entropy ----

TEST_F(OutputDeltaStructureTest, SoftmaxCrossEntropyFromPrimitivesIsPMinusY) {
  Node loss = SoftmaxCrossEntropyFromPrimitives(s_, one_hot_);
  Node grad = SimplifiedGradient(loss);
  EXPECT_EQ(ExpressionString(loss),
            "softmax_cross_entropy(s, one_hot[num_classes=10](labels))");
  EXPECT_EQ(ExpressionString(grad), kSoftmaxDelta);
}

TEST_F(OutputDeltaStructureTest,
       MaxShiftedSoftmaxCrossEntropyFromPrimitivesIsPMinusY) {
  Node grad = SimplifiedGradient(
      ShiftedSoftmaxCrossEntropyFromPrimitives(s_, one_hot_));
  EXPECT_EQ(ExpressionString(grad), kSoftmaxDelta);
}

TEST_F(OutputDeltaStructureTest, CrossEntropyOfLogSoftmaxIsPMinusY) {
  Node loss = Mean(Sum(-(LogSoftmax(s_) * one_hot_), 1), 0);
  EXPECT_EQ(ExpressionString(SimplifiedGradient(loss)), kSoftmaxDelta);
}

TEST_F(OutputDeltaStructureTest, FusedSoftmaxCrossEntropyIsPMinusY) {
  Node grad = SimplifiedGradient(SoftmaxCrossEntropy(s_, one_hot_));
  EXPECT_EQ(ExpressionString(grad), kSoftmaxDelta);
}

// ---- Sigmoid cross-entropy ----

TEST_F(OutputDeltaStructureTest, SigmoidCrossEntropyFromPrimitivesIsPMinusY) {
  Node loss = SigmoidCrossEntropyFromPrimitives(s_, y_);
  Node grad = SimplifiedGradient(loss);
  EXPECT_EQ(ExpressionString(loss), "sigmoid_cross_entropy(s, y)");
  EXPECT_EQ(ExpressionString(grad), kSigmoidDelta);
}

TEST_F(OutputDeltaStructureTest,
       SigmoidCrossEntropyFromPrimitivesWithOneHotTargetsIsPMinusY) {
  Node grad =
      SimplifiedGradient(SigmoidCrossEntropyFromPrimitives(s_, one_hot_));
  EXPECT_EQ(ExpressionString(grad), kSigmoidOneHotDelta);
}

TEST_F(OutputDeltaStructureTest, FusedSigmoidCrossEntropyIsPMinusY) {
  Node grad = SimplifiedGradient(SigmoidCrossEntropy(s_, y_));
  EXPECT_EQ(ExpressionString(grad), kSigmoidDelta);
}

// ---- Identity with half mean squared error ----

TEST_F(OutputDeltaStructureTest, HalfMseFromPrimitivesIsSMinusY) {
  Node grad = SimplifiedGradient(HalfMseFromPrimitives(s_, y_));
  EXPECT_EQ(ExpressionString(grad), kIdentityDelta);
}

TEST_F(OutputDeltaStructureTest, FusedHalfMseIsSMinusY) {
  Node grad = SimplifiedGradient(HalfMse(s_, y_));
  EXPECT_EQ(ExpressionString(grad), kIdentityDelta);
}

// ---- Other row counts and dtypes ----

TEST(OutputDeltaOtherShapesTest, EightRowsScaleByOneEighth) {
  Graph g;
  Node s = g.Input("s", {8, 3}, kF64);
  Node labels = g.Input("labels", {8}, kF64);
  Node loss = ShiftedSoftmaxCrossEntropyFromPrimitives(s, OneHot(labels, 3));
  EXPECT_EQ(ExpressionString(SimplifiedGradient(loss, s)),
            "mul(sub(softmax(s), one_hot[num_classes=3](labels)), 0.125)");
}

// In f32 the folded 1/N is the f32 nearest 1/100, which prints as 0.01.
TEST(OutputDeltaOtherShapesTest, F32HalfMseFromPrimitivesIsSMinusY) {
  Graph g;
  Node s = g.Input("s", {kRows, kClasses}, kF32);
  Node y = g.Input("y", {kRows, kClasses}, kF32);
  Node grad = SimplifiedGradient(HalfMseFromPrimitives(s, y), s);
  EXPECT_EQ(ExpressionString(grad), kIdentityDelta);
  EXPECT_EQ(grad.input(1).attributes().scalar,
            static_cast<double>(static_cast<float>(0.01)));
}

TEST(OutputDeltaOtherShapesTest, F32SigmoidCrossEntropyIsPMinusY) {
  Graph g;
  Node s = g.Input("s", {kRows, kClasses}, kF32);
  Node y = g.Input("y", {kRows, kClasses}, kF32);
  Node grad = SimplifiedGradient(SigmoidCrossEntropyFromPrimitives(s, y), s);
  EXPECT_EQ(ExpressionString(grad), kSigmoidDelta);
}

// ---- The structure computes the textbook delta ----

// The hand-derived deltas, computed here without any graph.
Tensor SoftmaxMinusOneHotOverN(const Tensor& s, const Tensor& labels) {
  Tensor delta(kF64, s.shape());
  for (int64_t row = 0; row < kRows; ++row) {
    double max = -INFINITY, total = 0;
    for (int64_t c = 0; c < kClasses; ++c) {
      max = std::max(max, s.At(row * kClasses + c));
    }
    for (int64_t c = 0; c < kClasses; ++c) {
      total += std::exp(s.At(row * kClasses + c) - max);
    }
    for (int64_t c = 0; c < kClasses; ++c) {
      const double p = std::exp(s.At(row * kClasses + c) - max) / total;
      const double y = labels.At(row) == c ? 1.0 : 0.0;
      delta.Set(row * kClasses + c, (p - y) / kRows);
    }
  }
  return delta;
}

Tensor SigmoidMinusYOverN(const Tensor& s, const Tensor& y) {
  Tensor delta(kF64, s.shape());
  for (int64_t i = 0; i < s.num_elements(); ++i) {
    const double p = 1.0 / (1.0 + std::exp(-s.At(i)));
    delta.Set(i, (p - y.At(i)) / kRows);
  }
  return delta;
}

Tensor SMinusYOverN(const Tensor& s, const Tensor& y) {
  Tensor delta(kF64, s.shape());
  for (int64_t i = 0; i < s.num_elements(); ++i) {
    delta.Set(i, (s.At(i) - y.At(i)) / kRows);
  }
  return delta;
}

void ExpectNear(const Tensor& actual, const Tensor& expected,
                double tolerance) {
  ASSERT_EQ(actual.shape(), expected.shape());
  for (int64_t i = 0; i < actual.num_elements(); ++i) {
    ASSERT_NEAR(actual.At(i), expected.At(i), tolerance) << "element " << i;
  }
}

class OutputDeltaValueTest : public OutputDeltaStructureTest {
 protected:
  std::mt19937_64 rng_{20240601};
  Tensor s_value_ = RandomTensor(rng_, kF64, {kRows, kClasses}, -8.0, 8.0);
  Tensor labels_value_ = RandomLabels(rng_, kF64, kRows, kClasses);
  Tensor y_value_ = RandomTensor(rng_, kF64, {kRows, kClasses}, 0.0, 1.0);
  FeedMap feeds_ = {
      {"s", s_value_}, {"labels", labels_value_}, {"y", y_value_}};
};

TEST_F(OutputDeltaValueTest, SoftmaxDeltaMatchesHandDerivedFormula) {
  Node grad = SimplifiedGradient(
      ShiftedSoftmaxCrossEntropyFromPrimitives(s_, one_hot_));
  ExpectNear(RunOne(g_, grad, feeds_),
             SoftmaxMinusOneHotOverN(s_value_, labels_value_), 1e-12);
}

TEST_F(OutputDeltaValueTest, SigmoidDeltaMatchesHandDerivedFormula) {
  Node grad = SimplifiedGradient(SigmoidCrossEntropyFromPrimitives(s_, y_));
  ExpectNear(RunOne(g_, grad, feeds_), SigmoidMinusYOverN(s_value_, y_value_),
             1e-12);
}

TEST_F(OutputDeltaValueTest, IdentityDeltaMatchesHandDerivedFormula) {
  Node grad = SimplifiedGradient(HalfMseFromPrimitives(s_, y_));
  ExpectNear(RunOne(g_, grad, feeds_), SMinusYOverN(s_value_, y_value_), 1e-12);
}

// Without passes, autodiff through the primitives computes the same
// gradient the long way; the fused delta must agree with it.
TEST_F(OutputDeltaValueTest, SimplifiedSoftmaxDeltaAgreesWithUnsimplified) {
  Graph plain;
  Node s = plain.Input("s", {kRows, kClasses}, kF64);
  Node labels = plain.Input("labels", {kRows}, kF64);
  Node loss = SoftmaxCrossEntropyFromPrimitives(s, OneHot(labels, kClasses));
  Node unsimplified = Grad(loss, {s})[s];

  Node grad =
      SimplifiedGradient(SoftmaxCrossEntropyFromPrimitives(s_, one_hot_));
  FeedMap feeds = {{"s", s_value_}, {"labels", labels_value_}};
  ExpectNear(RunOne(g_, grad, feeds_), RunOne(plain, unsimplified, feeds),
             1e-12);
}

TEST_F(OutputDeltaValueTest, SimplifiedSigmoidDeltaAgreesWithUnsimplified) {
  Graph plain;
  Node s = plain.Input("s", {kRows, kClasses}, kF64);
  Node y = plain.Input("y", {kRows, kClasses}, kF64);
  Node unsimplified = Grad(SigmoidCrossEntropyFromPrimitives(s, y), {s})[s];

  Node grad = SimplifiedGradient(SigmoidCrossEntropyFromPrimitives(s_, y_));
  FeedMap feeds = {{"s", s_value_}, {"y", y_value_}};
  ExpectNear(RunOne(g_, grad, feeds_), RunOne(plain, unsimplified, feeds),
             1e-12);
}

}  // namespace
}  // namespace kiln
