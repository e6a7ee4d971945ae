#include "ad/passes/fuse_sigmoid_cross_entropy.h"

#include <optional>

#include "ad/builder.h"
#include "ad/passes/head_patterns.h"
#include "ad/passes/rewrite.h"

namespace kiln {
namespace {

// x if `node` is 1 − x, written Sub(Fill 1, x).
std::optional<Node> OneMinus(Node node) {
  if (!Is(node, OpKind::kSub) || !IsFillOf(node.input(0), 1.0)) {
    return std::nullopt;
  }
  return node.input(1);
}

// True if `node` is Mul(a, b) or Mul(b, a) with match(a, b).
template <typename Match>
bool IsProductMatching(Node node, Match match) {
  if (!Is(node, OpKind::kMul)) return false;
  return match(node.input(0), node.input(1)) ||
         match(node.input(1), node.input(0));
}

// True if `term` is (1 − y)·log(1 − p), in either order.
bool IsComplementTerm(Node term, Node y, Node p) {
  return IsProductMatching(term, [&](Node one_minus_y, Node log) {
    std::optional<Node> target = OneMinus(one_minus_y);
    if (!target.has_value() || !(*target == y) || !Is(log, OpKind::kLog)) {
      return false;
    }
    std::optional<Node> probability = OneMinus(log.input(0));
    return probability.has_value() && *probability == p;
  });
}

// The operands of the fused op.
struct CrossEntropyOperands {
  Node logits;
  Node targets;
};

// The logits s and targets y if `term` is y·log σ(s) and `other` is the
// matching (1 − y)·log(1 − σ(s)).
std::optional<CrossEntropyOperands> MatchTerms(Node term, Node other) {
  std::optional<CrossEntropyOperands> operands;
  IsProductMatching(term, [&](Node y, Node log) {
    if (!Is(log, OpKind::kLog) || !Is(log.input(0), OpKind::kSigmoid) ||
        !IsComplementTerm(other, y, log.input(0))) {
      return false;
    }
    operands = CrossEntropyOperands{log.input(0).input(0), y};
    return true;
  });
  return operands;
}

// −Mean(Sum(y log σ(s) + (1 − y) log(1 − σ(s)), 1), 0) →
// SigmoidCrossEntropy(s, y).
Node BinaryCrossEntropyOfSigmoid(Node root) {
  std::optional<Node> body = MatchNegatedRowSumMean(root);
  if (!body.has_value() || !Is(*body, OpKind::kAdd)) return Node();
  for (int i = 0; i < 2; ++i) {
    std::optional<CrossEntropyOperands> operands =
        MatchTerms(body->input(i), body->input(1 - i));
    if (operands.has_value()) {
      return SigmoidCrossEntropy(operands->logits, operands->targets,
                                 WhereOf(root));
    }
  }
  return Node();
}

}  // namespace

bool FuseSigmoidCrossEntropy(Graph& graph) {
  return RewriteEachNode(graph, &BinaryCrossEntropyOfSigmoid);
}

}  // namespace kiln
