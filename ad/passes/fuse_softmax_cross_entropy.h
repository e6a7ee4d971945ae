// Softmax cross-entropy recognition: the classification loss written from
// primitives becomes the SoftmaxCrossEntropy op.
//
// The textbook loss over N rows of C class scores s and one-hot labels y,
//
//   Node y = OneHot(labels, C);
//   Node loss = -Mean(Sum(y * LogSoftmax(s), 1), 0);
//
// (with LogSoftmax itself recognised from Log(Exp(s) / Σ Exp(s)) by
// fuse_softmax.h and fuse_log_softmax.h) is replaced by
// SoftmaxCrossEntropy(s, y). Both compute the same value. The point is the
// gradient: through the primitives it is a long chain of broadcasts and row
// sums, while the fused op's backward rule is the hand-derived
// (softmax(s) − y)/N.
//
// That gradient holds only when every row of y sums to one: the derivative
// of −Σ_c y_c log softmax(s)_c with respect to s_k is
// softmax(s)_k·Σ_c y_c − y_k, which is softmax(s)_k − y_k only when
// Σ_c y_c = 1. A OneHot node of valid class indices guarantees that by
// construction, and nothing else in a graph does (an Input of targets might
// hold anything), so the pass fuses only when y is a OneHot node. A label
// that is not an integer in [0, C) gives OneHot an all-zero row; for such
// rows the fused gradient differs from the primitive one, but they are
// invalid labels, which the loss value already exposes.
//
// Accepted forms: s of rank 2, the loss a scalar, Mul operands in either
// order, and the negation outside the mean, between mean and sum, or inside
// the sum (algebraic simplification moves it outwards anyway; see
// head_patterns.h).
//
// The replacement takes the place of the matched root (ReplaceAllUses), so
// the user's handle on the loss now names the fused node.

#ifndef KILN_AD_PASSES_FUSE_SOFTMAX_CROSS_ENTROPY_H_
#define KILN_AD_PASSES_FUSE_SOFTMAX_CROSS_ENTROPY_H_

#include "ad/graph.h"

namespace kiln {

// Replaces each softmax cross-entropy against one-hot labels written from
// primitives by a SoftmaxCrossEntropy node. Returns whether it replaced any.
bool FuseSoftmaxCrossEntropy(Graph& graph);

}  // namespace kiln

#endif  // KILN_AD_PASSES_FUSE_SOFTMAX_CROSS_ENTROPY_H_
