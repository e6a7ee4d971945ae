// Row-wise normalisations, the cross-entropies and sigmoid stay finite, with
// finite gradients, at logits of ±1e4 in both f32 and f64.

#include <cmath>
#include <functional>
#include <string>

#include "ad/autodiff.h"
#include "ad/builder.h"
#include "gtest/gtest.h"
#include "tests/ad/test_util.h"

namespace kiln {
namespace {

struct StabilityCase {
  std::string name;
  std::function<Node(Node logits, Node targets)> build;
};

void PrintTo(const StabilityCase& test_case, std::ostream* out) {
  *out << test_case.name;
}

class StabilityTest
    : public ::testing::TestWithParam<std::tuple<StabilityCase, DType>> {};

// Logits mixing ±1e4 with ordinary values, so that exp overflows or
// underflows for any implementation that does not shift by the row maximum.
Tensor ExtremeLogits(DType dtype) {
  return Tensor::FromDoubles(dtype, {2, 4},
                             {1e4, -1e4, 0.5, 1e4, -1e4, -1e4, 3.0, -2.0});
}

Tensor OneHotTargets(DType dtype) {
  return Tensor::FromDoubles(dtype, {2, 4}, {0, 1, 0, 0, 0, 0, 0, 1});
}

TEST_P(StabilityTest, ValueAndGradientAreFinite) {
  const auto& [test_case, dtype] = GetParam();
  Graph graph;
  Node logits = graph.Input("logits", {2, 4}, dtype);
  Node targets = graph.Input("targets", {2, 4}, dtype);
  Node output = test_case.build(logits, targets);
  Node loss = SumAll(output);
  Node gradient = Grad(loss, {logits})[logits];
  ASSERT_TRUE(graph.status().ok()) << graph.status();

  std::vector<Tensor> values = testing::Run(
      graph, {output, gradient},
      {{"logits", ExtremeLogits(dtype)}, {"targets", OneHotTargets(dtype)}});
  for (const Tensor& value : values) {
    for (int64_t i = 0; i < value.num_elements(); ++i) {
      EXPECT_TRUE(std::isfinite(value.At(i)))
          << value.DebugString(16) << " element " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    ExtremeLogits, StabilityTest,
    ::testing::Combine(
        ::testing::Values(
            StabilityCase{"softmax", [](Node s, Node) { return Softmax(s); }},
            StabilityCase{"log_softmax",
                          [](Node s, Node) { return LogSoftmax(s); }},
            StabilityCase{"sigmoid", [](Node s, Node) { return Sigmoid(s); }},
            StabilityCase{"softmax_cross_entropy",
                          [](Node s, Node y) {
                            return SoftmaxCrossEntropy(s, y);
                          }},
            StabilityCase{"sigmoid_cross_entropy",
                          [](Node s, Node y) {
                            return SigmoidCrossEntropy(s, y);
                          }}),
        ::testing::Values(kF32, kF64)),
    [](const auto& info) {
      return std::get<0>(info.param).name + "_" +
             std::string(DTypeName(std::get<1>(info.param)));
    });

}  // namespace
}  // namespace kiln
