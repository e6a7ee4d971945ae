// Matchers for the forms that softmax and losses take in user code.
//
// The output-head rewrites (fuse_*.h) recognise a loss written from
// primitives and replace it by the fused op. They share the pieces matched
// here: a per-row reduction brought back to the row's shape, and the
// "negative mean over rows of a per-row sum" that wraps every
// cross-entropy.
//
// The builder makes broadcasting explicit, so the natural
//
//   Exp(s) / Sum(Exp(s), 1, /*keepdims=*/true)
//
// is Div(Exp(s), Broadcast(Sum[axis=1, keepdims](Exp(s)))). Code that sums
// without keepdims must reshape to [N, 1] before dividing, so
// Broadcast(Reshape(Sum[axis=1](e), [N,1])) is accepted as the same thing.

#ifndef KILN_AD_PASSES_HEAD_PATTERNS_H_
#define KILN_AD_PASSES_HEAD_PATTERNS_H_

#include <optional>

#include "ad/graph.h"
#include "ops/op.h"

namespace kiln {

// If `node` is the reduction `op` of some x along x's last axis, shaped with
// that axis kept as 1 (by keepdims, or by a Reshape of the reduction without
// it), and then broadcast back to x's shape, returns x.
std::optional<Node> MatchBroadcastRowReduction(Node node, OpKind op);

// If `root` is a scalar computing −(1/N) Σ_rows Σ_columns body for a rank-2
// body of shape [N, C], returns body. The one negation may sit where user
// code or algebraic simplification leaves it: −Mean(Sum(body)),
// Mean(−Sum(body)) or Mean(Sum(−body)), with the Sum over axis 1 and the
// Mean over axis 0, neither keeping dimensions.
std::optional<Node> MatchNegatedRowSumMean(Node root);

}  // namespace kiln

#endif  // KILN_AD_PASSES_HEAD_PATTERNS_H_
