// The output layer's gradient equals the hand-derived delta.
//
// For a loss over N rows of logits s with targets y:
//   softmax + cross-entropy         ∂L/∂s = (softmax(s) − y)/N
//   sigmoid + binary cross-entropy  ∂L/∂s = (σ(s) − y)/N
//   identity + ½·mean squared error ∂L/∂s = (s − y)/N
// Each holds within 1e-12 in f64 on random data, both for the fused loss ops
// and for the same loss written from primitives, differentiated as written.

#include <cmath>
#include <functional>
#include <random>

#include "ad/autodiff.h"
#include "ad/builder.h"
#include "gtest/gtest.h"
#include "tests/ad/test_util.h"

namespace kiln {
namespace {

using testing::RandomOneHot;
using testing::RandomTensor;
using testing::Run;

constexpr int64_t kRows = 100;
constexpr int64_t kClasses = 10;
constexpr double kTolerance = 1e-12;

// Builds a loss from logits s and targets y.
using LossBuilder = std::function<Node(Node s, Node y)>;

// ∂L/∂s for a loss over logits and targets fed as `s` and `y`.
Tensor GradientWrtLogits(const LossBuilder& build, const Tensor& s_value,
                         const Tensor& y_value) {
  Graph graph;
  Node s = graph.Input("s", s_value.shape(), kF64);
  Node y = graph.Input("y", y_value.shape(), kF64);
  Node loss = build(s, y);
  Node ds = Grad(loss, {s})[s];
  EXPECT_TRUE(graph.status().ok()) << graph.status();
  return Run(graph, {ds}, {{"s", s_value}, {"y", y_value}})[0];
}

// Checks `gradient` against delta / N element by element.
void ExpectDelta(const Tensor& gradient, const Tensor& delta) {
  ASSERT_EQ(gradient.shape(), delta.shape());
  for (int64_t i = 0; i < delta.num_elements(); ++i) {
    EXPECT_NEAR(gradient.At(i), delta.At(i) / kRows, kTolerance)
        << "element " << i;
  }
}

// fn(s, y) for each pair of elements.
Tensor Elementwise(const Tensor& s, const Tensor& y,
                   const std::function<double(double, double)>& fn) {
  Tensor result(kF64, s.shape());
  for (int64_t i = 0; i < s.num_elements(); ++i) {
    result.Set(i, fn(s.At(i), y.At(i)));
  }
  return result;
}

// softmax(s) − y along each row, as the textbook computes it.
Tensor SoftmaxMinusTargets(const Tensor& s, const Tensor& y) {
  Tensor delta(kF64, s.shape());
  for (int64_t row = 0; row < kRows; ++row) {
    double largest = -INFINITY, total = 0;
    for (int64_t c = 0; c < kClasses; ++c) {
      largest = std::max(largest, s.At(row * kClasses + c));
    }
    for (int64_t c = 0; c < kClasses; ++c) {
      total += std::exp(s.At(row * kClasses + c) - largest);
    }
    for (int64_t c = 0; c < kClasses; ++c) {
      const int64_t i = row * kClasses + c;
      delta.Set(i, std::exp(s.At(i) - largest) / total - y.At(i));
    }
  }
  return delta;
}

class OutputDeltaTest : public ::testing::Test {
 protected:
  std::mt19937_64 rng_{7};
  Tensor logits_ = RandomTensor(rng_, kF64, {kRows, kClasses}, -5, 5);
  Tensor one_hot_ = RandomOneHot(rng_, kF64, {kRows, kClasses});
  Tensor probabilities_ = RandomTensor(rng_, kF64, {kRows, kClasses}, 0, 1);
  Tensor targets_ = RandomTensor(rng_, kF64, {kRows, kClasses}, -2, 2);
};

TEST_F(OutputDeltaTest, FusedSoftmaxCrossEntropyGivesPMinusY) {
  Tensor ds = GradientWrtLogits(
      [](Node s, Node y) { return SoftmaxCrossEntropy(s, y); }, logits_,
      one_hot_);
  ExpectDelta(ds, SoftmaxMinusTargets(logits_, one_hot_));
}

TEST_F(OutputDeltaTest, PrimitiveSoftmaxCrossEntropyGivesPMinusY) {
  Tensor ds = GradientWrtLogits(
      [](Node s, Node y) {
        Node e = Exp(s - Max(s, 1, /*keepdims=*/true));
        Node p = e / Sum(e, 1, /*keepdims=*/true);
        return -Mean(Sum(y * Log(p), 1), 0);
      },
      logits_, one_hot_);
  ExpectDelta(ds, SoftmaxMinusTargets(logits_, one_hot_));
}

double SigmoidMinusTarget(double s, double y) {
  return 1 / (1 + std::exp(-s)) - y;
}

TEST_F(OutputDeltaTest, FusedSigmoidCrossEntropyGivesPMinusY) {
  Tensor ds = GradientWrtLogits(
      [](Node s, Node y) { return SigmoidCrossEntropy(s, y); }, logits_,
      probabilities_);
  ExpectDelta(ds, Elementwise(logits_, probabilities_, SigmoidMinusTarget));
}

TEST_F(OutputDeltaTest, PrimitiveSigmoidCrossEntropyGivesPMinusY) {
  Tensor ds = GradientWrtLogits(
      [](Node s, Node y) {
        Node p = Sigmoid(s);
        Node per_element = y * Log(p) + (1.0 - y) * Log(1.0 - p);
        return -Mean(Sum(per_element, 1), 0);
      },
      logits_, probabilities_);
  ExpectDelta(ds, Elementwise(logits_, probabilities_, SigmoidMinusTarget));
}

double PredictionMinusTarget(double s, double y) { return s - y; }

TEST_F(OutputDeltaTest, FusedHalfMseGivesPredictionMinusTarget) {
  Tensor ds = GradientWrtLogits(
      [](Node s, Node y) { return HalfMse(s, y); }, logits_, targets_);
  ExpectDelta(ds, Elementwise(logits_, targets_, PredictionMinusTarget));
}

TEST_F(OutputDeltaTest, PrimitiveHalfMseGivesPredictionMinusTarget) {
  Tensor ds = GradientWrtLogits(
      [](Node s, Node y) { return 0.5 * Mean(Sum(Square(s - y), 1), 0); },
      logits_, targets_);
  ExpectDelta(ds, Elementwise(logits_, targets_, PredictionMinusTarget));
}

}  // namespace
}  // namespace kiln
