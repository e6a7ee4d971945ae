// The plotted derivatives come from autodiff and agree with calculus:
// σ' = σ(1 − σ), tanh' = 1 − tanh², relu' = [x > 0], leaky' = γ below 0.

#include "models/chapter/activation_curves.h"

#include <cmath>

#include "ad/interpreter.h"
#include "gtest/gtest.h"
#include "jit/jit_executor.h"

namespace kiln {
namespace {

ActivationCurve Sample(Activation activation, double gamma,
                       Executor& executor) {
  absl::StatusOr<ActivationCurve> curve =
      SampleActivation(activation, gamma, {-3, 3, 13}, executor);
  EXPECT_TRUE(curve.ok()) << curve.status();
  return curve.ok() ? *curve : ActivationCurve{};
}

TEST(ActivationCurvesTest, SamplesAreEvenlySpacedAndInclusive) {
  Interpreter interpreter;
  ActivationCurve curve = Sample(Activation::kTanh, 0, interpreter);
  ASSERT_EQ(curve.x.size(), 13u);
  EXPECT_EQ(curve.x.front(), -3);
  EXPECT_EQ(curve.x[6], 0);
  EXPECT_EQ(curve.x.back(), 3);
}

TEST(ActivationCurvesTest, DerivativesMatchTheCalculus) {
  Interpreter interpreter;
  ActivationCurve sigmoid = Sample(Activation::kSigmoid, 0, interpreter);
  ActivationCurve tanh = Sample(Activation::kTanh, 0, interpreter);
  ActivationCurve relu = Sample(Activation::kRelu, 0, interpreter);
  ActivationCurve leaky = Sample(Activation::kLeakyRelu, 0.1, interpreter);
  for (size_t i = 0; i < sigmoid.x.size(); ++i) {
    const double x = sigmoid.x[i];
    const double s = 1 / (1 + std::exp(-x));
    EXPECT_NEAR(sigmoid.value[i], s, 1e-15);
    EXPECT_NEAR(sigmoid.derivative[i], s * (1 - s), 1e-15) << x;
    EXPECT_NEAR(tanh.derivative[i], 1 - std::tanh(x) * std::tanh(x), 1e-15);
    if (x != 0) {
      EXPECT_EQ(relu.derivative[i], x > 0 ? 1 : 0) << x;
      EXPECT_EQ(leaky.derivative[i], x > 0 ? 1 : 0.1) << x;
      EXPECT_DOUBLE_EQ(leaky.value[i], x > 0 ? x : 0.1 * x);
    }
  }
}

TEST(ActivationCurvesTest, TheJitDrawsTheSameCurve) {
  Interpreter interpreter;
  jit::JitExecutor jit;
  ActivationCurve reference = Sample(Activation::kTanh, 0, interpreter);
  ActivationCurve compiled = Sample(Activation::kTanh, 0, jit);
  ASSERT_EQ(compiled.derivative.size(), reference.derivative.size());
  for (size_t i = 0; i < reference.x.size(); ++i) {
    EXPECT_NEAR(compiled.derivative[i], reference.derivative[i], 1e-14);
  }
}

TEST(ActivationCurvesTest, RefusesAnEmptyRange) {
  Interpreter interpreter;
  EXPECT_FALSE(
      SampleActivation(Activation::kRelu, 0, {1, 1, 10}, interpreter).ok());
  EXPECT_FALSE(
      SampleActivation(Activation::kRelu, 0, {0, 1, 1}, interpreter).ok());
}

}  // namespace
}  // namespace kiln
