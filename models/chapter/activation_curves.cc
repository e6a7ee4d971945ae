// An activation and its autodiff gradient evaluated on a grid of points.

#include "models/chapter/activation_curves.h"

#include "absl/strings/str_cat.h"
#include "ad/autodiff.h"
#include "ad/builder.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

Node Activate(Node x, Activation activation, double leaky_gamma) {
  switch (activation) {
    case Activation::kNone:
      return x * 1.0;
    case Activation::kSigmoid:
      return Sigmoid(x);
    case Activation::kTanh:
      return Tanh(x);
    case Activation::kRelu:
      return Relu(x);
    case Activation::kLeakyRelu:
      return LeakyRelu(x, leaky_gamma);
  }
  KILN_UNREACHABLE("invalid activation");
}

}  // namespace

absl::StatusOr<ActivationCurve> SampleActivation(Activation activation,
                                                 double leaky_gamma,
                                                 const SampleRange& range,
                                                 Executor& executor) {
  if (range.points < 2 || !(range.low < range.high)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot sample ", range.points, " points from ", range.low,
                     " to ", range.high));
  }
  ActivationCurve curve;
  for (int i = 0; i < range.points; ++i) {
    curve.x.push_back(range.low +
                      (range.high - range.low) * i / (range.points - 1));
  }

  // d/dx_i sum_j act(x_j) = act'(x_i), since y_j depends on x_j alone.
  Graph graph;
  Node x = graph.Input("x", {range.points}, kF64);
  Node y = Activate(x, activation, leaky_gamma);
  Node dy_dx = Grad(SumAll(y), {x})[x];
  KILN_RETURN_IF_ERROR(graph.status());

  FeedMap feeds = {{"x", Tensor::FromValues<double>({range.points}, curve.x)}};
  KILN_ASSIGN_OR_RETURN(std::vector<Tensor> values,
                        Evaluate(executor, graph, {y, dy_dx}, feeds));
  curve.value = values[0].ToDoubles();
  curve.derivative = values[1].ToDoubles();
  return curve;
}

}  // namespace kiln
