// Log-softmax recognition: Log(Softmax(x)) becomes LogSoftmax(x).
//
// The logarithm of a softmax loses everything a probability rounded to zero
// held: log(softmax(x)) is −inf for a class whose score is far below the
// row's maximum, while log_softmax(x) = x − max − log Σ exp(x − max) stays
// finite. Cross-entropy written from primitives takes exactly this log, so
// recognising it both fixes the forward value and lets
// fuse_softmax_cross_entropy.h see the loss. Results may differ from the
// unfused form in rounding, and are finite where it gave −inf.
//
//   Node log_p = Log(Softmax(s));   // Becomes LogSoftmax(s).

#ifndef KILN_AD_PASSES_FUSE_LOG_SOFTMAX_H_
#define KILN_AD_PASSES_FUSE_LOG_SOFTMAX_H_

#include "ad/graph.h"

namespace kiln {

// Replaces each Log(Softmax(x)) by LogSoftmax(x). Returns whether it
// replaced any.
bool FuseLogSoftmax(Graph& graph);

}  // namespace kiln

#endif  // KILN_AD_PASSES_FUSE_LOG_SOFTMAX_H_
