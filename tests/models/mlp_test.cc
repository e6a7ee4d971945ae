// The MLP's SGD step, built by autodiff, equals the textbook's hand-derived
// update: delta = (p − y)/N at the output, back through Wᵀ and σ'.

#include "models/mlp.h"

#include <cmath>
#include <random>

#include "ad/interpreter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

// Row-major matrices as nested loops, to keep the reference readable.
using Matrix = std::vector<std::vector<double>>;

Matrix ToMatrix(const Tensor& t) {
  Matrix m(t.shape()[0], std::vector<double>(t.shape()[1]));
  for (size_t i = 0; i < m.size(); ++i) {
    for (size_t j = 0; j < m[i].size(); ++j) m[i][j] = t.At(i * m[i].size() + j);
  }
  return m;
}

Tensor Random(std::mt19937_64& rng, Shape shape) {
  std::uniform_real_distribution<double> uniform(-1, 1);
  Tensor t(kF64, shape);
  for (int64_t i = 0; i < t.num_elements(); ++i) t.Set(i, uniform(rng));
  return t;
}

TEST(MlpTest, ParametersAreNamedAfterLayers) {
  MlpSpec spec{.inputs = 4, .hidden = {{3, Activation::kTanh}}, .outputs = 2};
  std::vector<ParameterInfo> parameters = MlpParameters(spec);
  ASSERT_EQ(parameters.size(), 4u);
  EXPECT_EQ(parameters[0].name, "hidden1.weight");
  EXPECT_EQ(parameters[0].shape, (Shape{4, 3}));
  EXPECT_EQ(parameters[1].name, "hidden1.bias");
  EXPECT_FALSE(parameters[1].is_weight);
  EXPECT_EQ(parameters[3].name, "output.bias");
  EXPECT_EQ(parameters[3].shape, (Shape{2}));
}

TEST(MlpTest, RejectsNonPositiveWidth) {
  MlpSpec spec{.hidden = {{0, Activation::kRelu}}};
  absl::StatusOr<std::unique_ptr<Mlp>> mlp = Mlp::Build(spec, 10, kF32);
  EXPECT_EQ(mlp.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(mlp.status().message(), HasSubstr("hidden layer 1's width"));
}

TEST(MlpTest, ParsesActivationNames) {
  EXPECT_EQ(*ParseActivation("leaky_relu"), Activation::kLeakyRelu);
  EXPECT_EQ(ActivationName(Activation::kNone), "none");
  EXPECT_THAT(ParseActivation("gelu").status().message(),
              HasSubstr("unknown activation 'gelu'"));
}

TEST(MlpTest, SgdStepMatchesHandDerivedBackpropagation) {
  constexpr int n = 5, d = 4, h = 3, c = 2;
  constexpr double lr = 0.05;
  MlpSpec spec{.inputs = d, .hidden = {{h, Activation::kSigmoid}},
               .outputs = c};
  absl::StatusOr<std::unique_ptr<Mlp>> mlp = Mlp::Build(spec, n, kF64);
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  std::vector<Node> updated = (*mlp)->AddSgdStep({.learning_rate = lr});

  std::mt19937_64 rng(3);
  FeedMap feeds = {{"x", Random(rng, {n, d})},
                   {"hidden1.weight", Random(rng, {d, h})},
                   {"hidden1.bias", Random(rng, {h})},
                   {"output.weight", Random(rng, {h, c})},
                   {"output.bias", Random(rng, {c})}};
  Tensor y(kF64, {n, c});
  for (int i = 0; i < n; ++i) y.Set(i * c + i % c, 1.0);
  feeds["y"] = y;
  Interpreter interpreter;
  absl::StatusOr<std::vector<Tensor>> got =
      Evaluate(interpreter, (*mlp)->graph(), updated, feeds);
  ASSERT_TRUE(got.ok()) << got.status();

  // The textbook's forward and backward pass.
  Matrix x = ToMatrix(feeds["x"]), w1 = ToMatrix(feeds["hidden1.weight"]),
         w2 = ToMatrix(feeds["output.weight"]), t = ToMatrix(y);
  Tensor b1 = feeds["hidden1.bias"], b2 = feeds["output.bias"];
  Matrix a(n, std::vector<double>(h)), delta(n, std::vector<double>(c));
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < h; ++j) {
      double z = b1.At(j);
      for (int k = 0; k < d; ++k) z += x[i][k] * w1[k][j];
      a[i][j] = 1 / (1 + std::exp(-z));
    }
    double s[c], total = 0;
    for (int j = 0; j < c; ++j) {
      s[j] = b2.At(j);
      for (int k = 0; k < h; ++k) s[j] += a[i][k] * w2[k][j];
    }
    for (int j = 0; j < c; ++j) total += std::exp(s[j]);
    for (int j = 0; j < c; ++j) delta[i][j] = (std::exp(s[j]) / total - t[i][j]) / n;
  }
  for (int k = 0; k < h; ++k) {
    for (int j = 0; j < c; ++j) {
      double grad = 0;
      for (int i = 0; i < n; ++i) grad += a[i][k] * delta[i][j];
      EXPECT_NEAR((*got)[2].At(k * c + j), w2[k][j] - lr * grad, 1e-14);
    }
  }
  for (int k = 0; k < d; ++k) {
    for (int j = 0; j < h; ++j) {
      double grad = 0;
      for (int i = 0; i < n; ++i) {
        double back = 0;
        for (int o = 0; o < c; ++o) back += delta[i][o] * w2[j][o];
        grad += x[i][k] * back * a[i][j] * (1 - a[i][j]);
      }
      EXPECT_NEAR((*got)[0].At(k * h + j), w1[k][j] - lr * grad, 1e-14);
    }
  }
}

TEST(MlpTest, ClipMinRaisesWeightsButNotBiases) {
  MlpSpec spec{.inputs = 2, .hidden = {}, .outputs = 2};
  absl::StatusOr<std::unique_ptr<Mlp>> mlp = Mlp::Build(spec, 1, kF64);
  ASSERT_TRUE(mlp.ok());
  std::vector<Node> updated =
      (*mlp)->AddSgdStep({.learning_rate = 1e-9, .clip_min = 0.0});
  FeedMap feeds = {
      {"x", Tensor::FromValues<double>({1, 2}, {1, 1})},
      {"y", Tensor::FromValues<double>({1, 2}, {1, 0})},
      {"output.weight", Tensor::FromValues<double>({2, 2}, {-1, 2, 3, -4})},
      {"output.bias", Tensor::FromValues<double>({2}, {-5, 6})}};
  Interpreter interpreter;
  absl::StatusOr<std::vector<Tensor>> got =
      Evaluate(interpreter, (*mlp)->graph(), updated, feeds);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)[0].At(0), 0.0);
  EXPECT_EQ((*got)[0].At(3), 0.0);
  EXPECT_NEAR((*got)[0].At(1), 2.0, 1e-6);
  EXPECT_NEAR((*got)[1].At(0), -5.0, 1e-6);
}

}  // namespace
}  // namespace kiln
