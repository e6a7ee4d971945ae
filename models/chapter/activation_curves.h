// Samples of an activation function and of its derivative, for plotting.
//
// The derivative is not a formula written here: the curve is built as a
// Kiln graph, y = act(x) on a vector of sample points, and Grad of sum(y)
// with respect to x gives act'(x) at every point (each y_i depends on x_i
// alone). What the plot shows is therefore what training differentiates,
// backward rule included.
//
//   Interpreter interpreter;
//   absl::StatusOr<ActivationCurve> curve = SampleActivation(
//       Activation::kLeakyRelu, 0.1, {-4, 4, 401}, interpreter);
//   // curve->x[i], curve->value[i], curve->derivative[i]

#ifndef KILN_MODELS_CHAPTER_ACTIVATION_CURVES_H_
#define KILN_MODELS_CHAPTER_ACTIVATION_CURVES_H_

#include <vector>

#include "absl/status/statusor.h"
#include "ad/executor.h"
#include "models/mlp.h"

namespace kiln {

// `points` evenly spaced samples from `low` to `high`, both included.
struct SampleRange {
  double low = -4;
  double high = 4;
  int points = 401;
};

struct ActivationCurve {
  std::vector<double> x;
  std::vector<double> value;
  std::vector<double> derivative;
};

// Evaluates the activation (with slope `leaky_gamma` below zero for leaky
// relu) and its gradient at the samples, in f64, on `executor`. Fails with
// InvalidArgument when points < 2 or low >= high.
absl::StatusOr<ActivationCurve> SampleActivation(Activation activation,
                                                 double leaky_gamma,
                                                 const SampleRange& range,
                                                 Executor& executor);

}  // namespace kiln

#endif  // KILN_MODELS_CHAPTER_ACTIVATION_CURVES_H_
