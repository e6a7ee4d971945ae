// Helpers shared by the rewriting passes.
//
// Every pass in this folder does the same few things: it recognises leaves
// by what they hold, visits the live nodes with each after its inputs, and
// replaces a node by another one it built. Replacements are built at the
// source location of the node they replace, so that error messages and
// graph dumps keep pointing at the user's line rather than at a pass.
//
//   // Replaces every x·1 by x.
//   Node DropTimesOne(Node node) {
//     if (Is(node, OpKind::kMul) && IsFillOf(node.input(1), 1.0)) {
//       return node.input(0);
//     }
//     return Node();  // No change.
//   }
//   bool changed = RewriteEachNode(graph, &DropTimesOne);

#ifndef KILN_AD_PASSES_REWRITE_H_
#define KILN_AD_PASSES_REWRITE_H_

#include <optional>
#include <source_location>
#include <span>
#include <vector>

#include "ad/graph.h"
#include "ops/attributes.h"
#include "ops/dtype.h"
#include "ops/op.h"

namespace kiln {

// True if `node` is valid and computes `op`.
bool Is(Node node, OpKind op);

// True for Fill and Constant: leaves whose value is fixed in the graph.
bool IsConstantLeaf(Node node);

// True for Input and Parameter: the graph's interface, which passes neither
// remove nor merge.
bool IsFedLeaf(Node node);

// The value of every element of a Fill node; nullopt for other nodes.
std::optional<double> FillValue(Node node);

// True if `node` is a Fill whose elements compare equal to `value`. Both
// zeros compare equal to 0.0.
bool IsFillOf(Node node, double value);

// Slot ids of every live node of `graph`, each after all of its inputs.
// Where the order is free the lower slot id comes first, so of two nodes
// with the same inputs the older is listed first.
std::vector<int> LiveNodesInTopologicalOrder(Graph& graph);

// Where the user's code built `node`.
std::source_location WhereOf(Node node);

// The single element that the elementwise `op` computes from operands whose
// elements equal `operands`, in `dtype`. It runs the op's reference kernel
// on one-element tensors, so the result is bit for bit what the kernel would
// give for a whole tensor.
double EvaluateElementwise(OpKind op, const Attributes& attributes, DType dtype,
                           std::span<const double> operands);

// A local rewrite: returns the node that should replace `node`, or an
// invalid Node to leave it alone. The replacement must have node's shape and
// dtype and must not depend on `node`.
using NodeRewrite = Node (*)(Node node);

// Applies `rewrite` to every live node, inputs before users. When it gives a
// replacement, every use of the node moves there (Graph::ReplaceAllUses) and
// `rewrite` is tried again on the replacement, so that a chain of local
// rewrites on one node finishes in one call. Nodes the rewrites create are
// visited only by the next call. Returns whether any node was replaced.
bool RewriteEachNode(Graph& graph, NodeRewrite rewrite);

}  // namespace kiln

#endif  // KILN_AD_PASSES_REWRITE_H_
