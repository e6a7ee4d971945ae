// Constant folding: computes at compile time what depends only on constants.
//
// A node whose inputs are all Fill or Constant leaves computes the same value
// at every run, so this pass computes it once and replaces the node by a new
// leaf holding the value (Graph::ReplaceAllUses moves every use there):
//
//   * an elementwise op of Fills gives a Fill. Its value comes from running
//     the op's reference kernel on one-element tensors in the node's dtype,
//     so it is exactly what the kernel computes at every element;
//   * Broadcast, Reshape and Transpose of a Fill give a Fill of the new
//     shape, whatever its size, since no element changes;
//   * any other node with constant inputs runs its reference kernel, if its
//     result has at most kMaxFoldedElements elements and each input at most
//     kMaxFoldedInputElements. A result whose elements are all equal becomes
//     a Fill, so that later rules see it as a scalar; others become a
//     Constant. Larger results stay computed at run time, where they cost no
//     memory in the graph.
//
// Folding never changes a value: it runs the kernels the executor would.
//
//   Node c = Sum(FillLike(x, 1.0), 1);   // Folds to a Fill of x's row length.
//   bool changed = FoldConstants(g);

#ifndef KILN_AD_PASSES_CONSTANT_FOLDING_H_
#define KILN_AD_PASSES_CONSTANT_FOLDING_H_

#include <cstdint>

#include "ad/graph.h"

namespace kiln {

// Results larger than this are left to run time.
inline constexpr int64_t kMaxFoldedElements = 4096;

// Inputs larger than this are not materialised to fold a node.
inline constexpr int64_t kMaxFoldedInputElements = int64_t{1} << 20;

// Replaces every live node whose inputs are all constant leaves by a leaf
// holding its value, within the limits above. Returns whether it replaced
// any.
bool FoldConstants(Graph& graph);

}  // namespace kiln

#endif  // KILN_AD_PASSES_CONSTANT_FOLDING_H_
