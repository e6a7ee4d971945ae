#include "ad/passes/head_patterns.h"

#include "ad/passes/rewrite.h"

namespace kiln {
namespace {

// If `node` is `op` over the last axis of its input, with `keepdims` as
// given, returns the input.
std::optional<Node> MatchLastAxisReduction(Node node, OpKind op,
                                           bool keepdims) {
  if (!Is(node, op)) return std::nullopt;
  Node x = node.input(0);
  const Attributes& attributes = node.attributes();
  if (attributes.axis != x.rank() - 1 || attributes.keepdims != keepdims) {
    return std::nullopt;
  }
  return x;
}

// The shape of x with its last dimension replaced by 1.
Shape KeptRowShape(Node x) {
  Shape shape = x.shape();
  shape.back() = 1;
  return shape;
}

// `op` over x's last axis in the [..., 1] shape, by either spelling.
std::optional<Node> MatchKeptRowReduction(Node node, OpKind op) {
  if (std::optional<Node> x = MatchLastAxisReduction(node, op, true)) return x;
  if (!Is(node, OpKind::kReshape)) return std::nullopt;
  std::optional<Node> x = MatchLastAxisReduction(node.input(0), op, false);
  if (!x.has_value() || node.shape() != KeptRowShape(*x)) return std::nullopt;
  return x;
}

bool IsReduction(Node node, OpKind op, int axis) {
  return Is(node, op) && node.attributes().axis == axis &&
         !node.attributes().keepdims;
}

}  // namespace

std::optional<Node> MatchBroadcastRowReduction(Node node, OpKind op) {
  if (!Is(node, OpKind::kBroadcast)) return std::nullopt;
  std::optional<Node> x = MatchKeptRowReduction(node.input(0), op);
  if (!x.has_value() || x->shape() != node.shape()) return std::nullopt;
  return x;
}

std::optional<Node> MatchNegatedRowSumMean(Node root) {
  if (!root.ok() || root.rank() != 0) return std::nullopt;

  // Peel Neg, Mean over rows, Neg, Sum over columns, Neg, counting the
  // negations met on the way.
  int negations = 0;
  Node node = root;
  auto peel_negation = [&] {
    if (Is(node, OpKind::kNeg)) {
      node = node.input(0);
      ++negations;
    }
  };
  peel_negation();
  if (!IsReduction(node, OpKind::kMean, 0)) return std::nullopt;
  node = node.input(0);
  peel_negation();
  if (!IsReduction(node, OpKind::kSum, 1)) return std::nullopt;
  node = node.input(0);
  peel_negation();

  if (negations != 1 || node.rank() != 2) return std::nullopt;
  return node;
}

}  // namespace kiln
