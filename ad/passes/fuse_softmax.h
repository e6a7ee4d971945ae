// Softmax recognition: replaces softmax written from primitives by the op.
//
// Users write softmax the way textbooks do,
//
//   Node e = Exp(s);
//   Node p = e / Sum(e, 1, /*keepdims=*/true);
//
// or, to keep exp from overflowing, after subtracting each row's maximum:
//
//   Node shifted = s - Max(s, 1, /*keepdims=*/true);
//
// This pass turns either into Softmax(s): Div(Exp(x), Broadcast(Σ_row
// Exp(x))), with both Exp the same node (common-subexpression elimination
// merges two copies first), becomes Softmax(x); and when x is
// Sub(s, Broadcast(Max_row s)) the subtraction is dropped, since softmax is
// invariant under shifting a row (softmax(s − m) = softmax(s)) and the op
// subtracts the maximum itself. The kernel computes the same function more
// stably, so results may differ in rounding, and where the unshifted form
// overflowed to inf/inf = NaN the fused op gives the right answer.
//
// The sum and maximum must run over the last axis, kept as a dimension of 1
// by keepdims or by a Reshape to [..., 1] (see head_patterns.h), because
// that is the axis Softmax normalises.
//
// With softmax recognised, its backward rule gives the compact
// y ⊙ (dy − Σ_row dy ⊙ y), and fuse_log_softmax.h and
// fuse_softmax_cross_entropy.h can recognise the loss built on it.

#ifndef KILN_AD_PASSES_FUSE_SOFTMAX_H_
#define KILN_AD_PASSES_FUSE_SOFTMAX_H_

#include "ad/graph.h"

namespace kiln {

// Replaces each softmax written from primitives by a Softmax node. Returns
// whether it replaced any.
bool FuseSoftmax(Graph& graph);

}  // namespace kiln

#endif  // KILN_AD_PASSES_FUSE_SOFTMAX_H_
