// Sigmoid cross-entropy recognition: binary cross-entropy written from
// primitives becomes the SigmoidCrossEntropy op.
//
// With p = σ(s) for scores s of shape [N, C] and targets y of that shape,
//
//   Node p = Sigmoid(s);
//   Node loss =
//       -Mean(Sum(y * Log(p) + (1.0 - y) * Log(1.0 - p), 1), 0);
//
// is replaced by SigmoidCrossEntropy(s, y). The identity is exact for every
// y, so, unlike softmax cross-entropy, y may be any node: the per-element
// term −y log σ(s) − (1 − y) log(1 − σ(s)) equals
// max(s, 0) − s·y + log(1 + e^−|s|), which is what the kernel computes. That
// form never takes the log of a probability rounded to 0 or 1, so the fused
// loss is finite where the primitive one gave inf, and its backward rule is
// the hand-derived (σ(s) − y)/N instead of a chain through 1/p and 1/(1 − p).
//
// Accepted forms: the operands of the Add and of both Mul in either order;
// 1 − y and 1 − p as Sub(Fill 1, ·), which is what `1.0 - y` builds; the
// same y and p nodes in both terms; the negation placed as in
// head_patterns.h. The replacement takes the place of the matched root, so
// the user's handle on the loss now names the fused node.

#ifndef KILN_AD_PASSES_FUSE_SIGMOID_CROSS_ENTROPY_H_
#define KILN_AD_PASSES_FUSE_SIGMOID_CROSS_ENTROPY_H_

#include "ad/graph.h"

namespace kiln {

// Replaces each binary cross-entropy of a sigmoid written from primitives by
// a SigmoidCrossEntropy node. Returns whether it replaced any.
bool FuseSigmoidCrossEntropy(Graph& graph);

}  // namespace kiln

#endif  // KILN_AD_PASSES_FUSE_SIGMOID_CROSS_ENTROPY_H_
