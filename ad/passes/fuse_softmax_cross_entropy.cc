#include "ad/passes/fuse_softmax_cross_entropy.h"

#include <optional>

#include "ad/builder.h"
#include "ad/passes/head_patterns.h"
#include "ad/passes/rewrite.h"

namespace kiln {
namespace {

// −Mean(Sum(OneHot y · LogSoftmax(s), 1), 0) → SoftmaxCrossEntropy(s, y).
Node CrossEntropyOfLogSoftmax(Node root) {
  std::optional<Node> body = MatchNegatedRowSumMean(root);
  if (!body.has_value() || !Is(*body, OpKind::kMul)) return Node();
  for (int i = 0; i < 2; ++i) {
    Node labels = body->input(i);
    Node log_softmax = body->input(1 - i);
    if (Is(labels, OpKind::kOneHot) && Is(log_softmax, OpKind::kLogSoftmax)) {
      return SoftmaxCrossEntropy(log_softmax.input(0), labels, WhereOf(root));
    }
  }
  return Node();
}

}  // namespace

bool FuseSoftmaxCrossEntropy(Graph& graph) {
  return RewriteEachNode(graph, &CrossEntropyOfLogSoftmax);
}

}  // namespace kiln
