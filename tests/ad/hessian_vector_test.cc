// Second derivatives through the gradient graph: the Hessian-vector product
// of a two-layer MLP's loss, built as the gradient of <∇L, v>, matches
// central differences of the gradient, (∇L(θ + h·v) − ∇L(θ − h·v)) / 2h.

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "ad/autodiff.h"
#include "ad/builder.h"
#include "gtest/gtest.h"
#include "tests/ad/test_util.h"

namespace kiln {
namespace {

using testing::RandomOneHot;
using testing::RandomTensor;

TEST(HessianVectorTest, TwoLayerMlpMatchesDifferencesOfGradient) {
  Graph graph;
  Node x = graph.Input("x", {8, 6}, kF64);
  Node y = graph.Input("y", {8, 3}, kF64);
  Node w1 = graph.Parameter("w1", {6, 5}, kF64);
  Node b1 = graph.Parameter("b1", {5}, kF64);
  Node w2 = graph.Parameter("w2", {5, 3}, kF64);
  Node b2 = graph.Parameter("b2", {3}, kF64);
  Node hidden = Tanh(MatMul(x, w1) + b1);
  Node loss = SoftmaxCrossEntropy(MatMul(Sigmoid(hidden), w2) + b2, y);

  const std::vector<Node> params = {w1, b1, w2, b2};
  Gradients grads = Grad(loss, params);
  Node inner = graph.Fill(0.0, {}, kF64);
  for (const Node& param : params) {
    Node direction = graph.Input("v_" + param.name(), param.shape(), kF64);
    inner = inner + SumAll(grads[param] * direction);
  }
  Gradients second = Grad(inner, params);
  ASSERT_TRUE(graph.status().ok()) << graph.status();

  std::vector<Node> gradient_nodes, hessian_vector_nodes;
  for (const Node& param : params) {
    gradient_nodes.push_back(grads[param]);
    hessian_vector_nodes.push_back(second[param]);
  }
  Interpreter interpreter;
  auto gradient = interpreter.Compile(graph, gradient_nodes);
  auto hessian_vector = interpreter.Compile(graph, hessian_vector_nodes);
  ASSERT_TRUE(gradient.ok() && hessian_vector.ok());

  std::mt19937_64 rng(11);
  FeedMap feeds = {{"x", RandomTensor(rng, kF64, {8, 6}, -1, 1)},
                   {"y", RandomOneHot(rng, kF64, {8, 3})}};
  for (const Node& param : params) {
    feeds[param.name()] = RandomTensor(rng, kF64, param.shape(), -1, 1);
    feeds["v_" + param.name()] = RandomTensor(rng, kF64, param.shape(), -1, 1);
  }
  absl::StatusOr<std::vector<Tensor>> analytic = (*hessian_vector)->Run(feeds);
  ASSERT_TRUE(analytic.ok()) << analytic.status();

  // Step every parameter along its direction at once.
  const double h = 1e-5;
  auto gradient_at = [&](double step) {
    FeedMap shifted = feeds;
    for (const Node& param : params) {
      Tensor& value = shifted[param.name()];
      const Tensor& direction = feeds["v_" + param.name()];
      for (int64_t i = 0; i < value.num_elements(); ++i) {
        value.Set(i, value.At(i) + step * direction.At(i));
      }
    }
    return *(*gradient)->Run(shifted);
  };
  const std::vector<Tensor> above = gradient_at(h), below = gradient_at(-h);

  for (size_t p = 0; p < params.size(); ++p) {
    for (int64_t i = 0; i < above[p].num_elements(); ++i) {
      const double numeric = (above[p].At(i) - below[p].At(i)) / (2 * h);
      EXPECT_NEAR((*analytic)[p].At(i), numeric, 1e-7 * (1 + std::abs(numeric)))
          << params[p].name() << " element " << i;
    }
  }
}

}  // namespace
}  // namespace kiln
