// Reverse-mode automatic differentiation as a graph-to-graph transform.
//
// Grad appends the gradient computation to the same graph, built from the
// backward rule of every op on the way (ad/backward_rules.h). The gradients
// are ordinary nodes: run them, simplify them, compile them, or differentiate
// them again for higher derivatives.
//
//   Gradients grads = Grad(loss, {w1, b1, w2, b2});
//   Node dw1 = grads[w1];
//
//   // A Hessian-vector product: the gradient of <∇L, v>.
//   Node gv = SumAll(grads[w1] * v);
//   Node hv = Grad(gv, {w1})[w1];
//
// Errors follow the graph's contract (ad/graph.h): a non-scalar loss or a
// wrt node from another graph is recorded in Graph::status(), and the
// gradients come back invalid.

#ifndef KILN_AD_AUTODIFF_H_
#define KILN_AD_AUTODIFF_H_

#include <source_location>
#include <utility>
#include <vector>

#include "ad/graph.h"

namespace kiln {

// The gradients Grad computed, looked up by the node they are taken with
// respect to.
class Gradients {
 public:
  Gradients() = default;

  // The gradient with respect to `wrt`, which has wrt's shape and dtype. It
  // is zero when `wrt` does not influence the result. Invalid when `wrt` was
  // not one of the nodes asked for, or when differentiation failed.
  Node operator[](Node wrt) const;

  // The nodes asked for and their gradients, in the order asked.
  const std::vector<std::pair<Node, Node>>& pairs() const { return pairs_; }

 private:
  friend Gradients Grad(Node, const std::vector<Node>&, Node,
                        std::source_location);
  std::vector<std::pair<Node, Node>> pairs_;
};

// The gradient of the scalar `loss` with respect to each node of `wrt`.
Gradients Grad(Node loss, const std::vector<Node>& wrt,
               std::source_location where = std::source_location::current());

// The vector-Jacobian product: the gradient of <output, cotangent> with
// respect to each node of `wrt`. `cotangent` has output's shape and dtype.
Gradients Grad(Node output, const std::vector<Node>& wrt, Node cotangent,
               std::source_location where = std::source_location::current());

}  // namespace kiln

#endif  // KILN_AD_AUTODIFF_H_
