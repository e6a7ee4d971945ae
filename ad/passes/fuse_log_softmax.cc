#include "ad/passes/fuse_log_softmax.h"

#include "ad/builder.h"
#include "ad/passes/rewrite.h"

namespace kiln {
namespace {

// Log(Softmax(x)) → LogSoftmax(x).
Node LogSoftmaxOfLog(Node node) {
  if (!Is(node, OpKind::kLog)) return Node();
  Node softmax = node.input(0);
  if (!Is(softmax, OpKind::kSoftmax)) return Node();
  return LogSoftmax(softmax.input(0), WhereOf(node));
}

}  // namespace

bool FuseLogSoftmax(Graph& graph) {
  return RewriteEachNode(graph, &LogSoftmaxOfLog);
}

}  // namespace kiln
