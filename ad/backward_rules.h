// Backward rules: the vector-Jacobian product of every op.
//
// The op table (ops/op_table.def) names one rule per op. A rule receives the
// forward node and the gradient flowing into its output, and returns the
// gradient for each input, built from ordinary graph ops. Because the result
// is an ordinary graph, it can be printed, simplified, run, compiled, and
// differentiated again.
//
// Zero gradients stay zero. Elementwise rules multiply the incoming gradient
// by the local derivative so that a zero incoming gradient gives exactly zero
// even where the derivative is inf or NaN. The gradient of select sends exact
// zeros into the branch it did not take, so an inf or NaN computed there
// (log of 0, 1/0) never reaches the result.
//
// Rules only build what is asked for: `wants(i)` says whether input i needs a
// gradient. An invalid Node in the result means "no gradient", which the
// caller treats as zero.
//
// A rule, with its calculus above it, reads like this:
//
//   // tanh'(x) = 1 − tanh(x)²
//   std::vector<Node> TanhVjp(const VjpArgs& args) {
//     return {ScaleGradient(args.grad, 1.0 - Square(args.node))};
//   }
//
// and Grad (ad/autodiff.h) finds it with GetBackwardRule(node.op()).

#ifndef KILN_AD_BACKWARD_RULES_H_
#define KILN_AD_BACKWARD_RULES_H_

#include <vector>

#include "ad/graph.h"
#include "ops/op.h"

namespace kiln {

struct VjpArgs {
  // The forward node whose inputs need gradients.
  Node node;
  // The gradient of the final result with respect to `node`; same shape.
  Node grad;
  // Whether input i needs a gradient.
  std::vector<bool> wanted;

  Node input(int index) const { return node.input(index); }
  bool wants(int index) const { return wanted[index]; }
};

using BackwardRule = std::vector<Node> (*)(const VjpArgs& args);

// The rule the op table gives `op`.
BackwardRule GetBackwardRule(OpKind op);

// Whether `op` propagates any gradient at all. Comparisons, argmax, one-hot
// and accuracy are piecewise constant: their gradient is zero wherever it is
// defined, so they propagate none.
bool IsDifferentiable(OpKind op);

// Sums `grad` over the axes that broadcasting `shape` to grad's shape added
// or stretched, giving a gradient of `shape`. This is the adjoint of
// broadcasting. `shape` is taken by value: callers pass a node's shape,
// which lives in the graph's node list, and the sums this adds to the graph
// may move that list.
Node SumToShape(Node grad, Shape shape);

#define KILN_OP(id, name, arity, op_class, shape_rule, kernel, backward) \
  std::vector<Node> backward(const VjpArgs& args);
#include "ops/op_table.def"
#undef KILN_OP

}  // namespace kiln

#endif  // KILN_AD_BACKWARD_RULES_H_
