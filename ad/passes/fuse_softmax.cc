#include "ad/passes/fuse_softmax.h"

#include <optional>

#include "ad/builder.h"
#include "ad/passes/head_patterns.h"
#include "ad/passes/rewrite.h"

namespace kiln {
namespace {

// s if x is s − max_row(s); x otherwise. Softmax ignores the shift.
Node Unshifted(Node x) {
  if (!Is(x, OpKind::kSub)) return x;
  Node s = x.input(0);
  std::optional<Node> maximised =
      MatchBroadcastRowReduction(x.input(1), OpKind::kMax);
  return maximised.has_value() && *maximised == s ? s : x;
}

// Div(Exp(x), Broadcast(Σ_row Exp(x))) → Softmax(x).
Node SoftmaxOfDivision(Node node) {
  if (!Is(node, OpKind::kDiv)) return Node();
  Node exponential = node.input(0);
  if (!Is(exponential, OpKind::kExp)) return Node();
  std::optional<Node> summed =
      MatchBroadcastRowReduction(node.input(1), OpKind::kSum);
  if (!summed.has_value() || !(*summed == exponential)) return Node();
  return Softmax(Unshifted(exponential.input(0)), WhereOf(node));
}

}  // namespace

bool FuseSoftmax(Graph& graph) {
  return RewriteEachNode(graph, &SoftmaxOfDivision);
}

}  // namespace kiln
