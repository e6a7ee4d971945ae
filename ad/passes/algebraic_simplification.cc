#include "ad/passes/algebraic_simplification.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ad/builder.h"
#include "ad/passes/rewrite.h"
#include "ops/base/logging.h"

namespace kiln {
namespace {

// ---- Building replacements ----

// `node`'s op and attributes applied to other inputs.
Node Rebuild(Node node, std::vector<Node> inputs) {
  return node.graph()->AddNode(node.op(), inputs, node.attributes(),
                               WhereOf(node));
}

// A Fill of `like`'s shape and dtype, built where `like` was.
Node FillAs(Node like, double value) {
  return like.graph()->Fill(value, like.shape(), like.dtype(), WhereOf(like));
}

bool IsIdentity(const std::vector<int>& permutation) {
  for (size_t i = 0; i < permutation.size(); ++i) {
    if (permutation[i] != static_cast<int>(i)) return false;
  }
  return true;
}

// ---- Canonical order ----

// c ∘ x = x ∘ c for commutative ∘ and a constant c: constants go right, so
// the rules below only look for them there.
Node ConstantToRight(Node node) {
  Node a = node.input(0), b = node.input(1);
  if (!IsConstantLeaf(a) || IsConstantLeaf(b)) return Node();
  return Rebuild(node, {b, a});
}

// ---- Identities ----

// x + 0 = x and x − 0 = x, up to the sign of a zero x.
Node RightOperandIsZero(Node node) {
  return IsFillOf(node.input(1), 0.0) ? node.input(0) : Node();
}

// 0 − x = −x, up to the sign of a zero x.
Node ZeroMinus(Node node) {
  if (!IsFillOf(node.input(0), 0.0)) return Node();
  return Neg(node.input(1), WhereOf(node));
}

// x·1 = x and x/1 = x.
Node RightOperandIsOne(Node node) {
  return IsFillOf(node.input(1), 1.0) ? node.input(0) : Node();
}

// x·(−1) = −x.
Node TimesMinusOne(Node node) {
  if (!IsFillOf(node.input(1), -1.0)) return Node();
  return Neg(node.input(0), WhereOf(node));
}

// −(−x) = x.
Node DoubleNegation(Node node) {
  Node x = node.input(0);
  return Is(x, OpKind::kNeg) ? x.input(0) : Node();
}

// −c is the Fill of −c: negation is exact.
Node NegatedFill(Node node) {
  std::optional<double> c = FillValue(node.input(0));
  return c.has_value() ? FillAs(node, -*c) : Node();
}

// select(c, a, b) with a constant condition c is the branch c picks; the
// kernel takes a where c is non-zero, NaN included.
Node ConstantCondition(Node node) {
  std::optional<double> condition = FillValue(node.input(0));
  if (!condition.has_value()) return Node();
  return *condition != 0.0 ? node.input(1) : node.input(2);
}

// select(c, a, a) = a.
Node EqualBranches(Node node) {
  return node.input(1) == node.input(2) ? node.input(1) : Node();
}

// ---- Negation ----

// x + (−y) = x − y, and (−x) + y = y − x.
Node AddOfNegation(Node node) {
  Node a = node.input(0), b = node.input(1);
  if (Is(b, OpKind::kNeg)) return Sub(a, b.input(0), WhereOf(node));
  if (Is(a, OpKind::kNeg)) return Sub(b, a.input(0), WhereOf(node));
  return Node();
}

// x − (−y) = x + y.
Node SubOfNegation(Node node) {
  Node b = node.input(1);
  if (!Is(b, OpKind::kNeg)) return Node();
  return Add(node.input(0), b.input(0), WhereOf(node));
}

// (−x)·c = x·(−c) for a Fill c: the constant absorbs the sign.
Node NegationIntoConstant(Node node) {
  Node a = node.input(0);
  std::optional<double> c = FillValue(node.input(1));
  if (!Is(a, OpKind::kNeg) || !c.has_value()) return Node();
  return Mul(a.input(0), FillAs(node, -*c), WhereOf(node));
}

// (−x)·y = −(x·y) = x·(−y), for y not a Fill (see NegationIntoConstant).
Node NegationOutOfMul(Node node) {
  Node a = node.input(0), b = node.input(1);
  const std::source_location where = WhereOf(node);
  if (Is(a, OpKind::kNeg) && !Is(b, OpKind::kFill)) {
    return Neg(Mul(a.input(0), b, where), where);
  }
  if (Is(b, OpKind::kNeg) && !Is(a, OpKind::kFill)) {
    return Neg(Mul(a, b.input(0), where), where);
  }
  return Node();
}

// Σ(−x) = −Σx, and the same for the mean: the sums add the same magnitudes
// in the same order.
Node NegationOutOfReduction(Node node) {
  Node x = node.input(0);
  if (!Is(x, OpKind::kNeg)) return Node();
  return Neg(Rebuild(node, {x.input(0)}), WhereOf(node));
}

// (x·c₁)·c₂ = x·(c₁·c₂) for Fills c₁, c₂. This reassociates: see the header.
Node FoldConstantFactors(Node node) {
  Node inner = node.input(0);
  std::optional<double> c2 = FillValue(node.input(1));
  if (!Is(inner, OpKind::kMul) || !c2.has_value()) return Node();
  std::optional<double> c1 = FillValue(inner.input(1));
  if (!c1.has_value()) return Node();
  const double factors[] = {*c1, *c2};
  const double product =
      EvaluateElementwise(OpKind::kMul, {}, node.dtype(), factors);
  return Mul(inner.input(0), FillAs(node, product), WhereOf(node));
}

// ---- Layout ----

// A Broadcast or Reshape to the shape the input already has moves nothing.
Node ToSameShape(Node node) {
  Node x = node.input(0);
  return x.shape() == node.shape() ? x : Node();
}

// Reshape(Reshape(x)) = Reshape(x), and Broadcast(Broadcast(x)) =
// Broadcast(x): if x broadcasts to s₁ and s₁ to s₂, x broadcasts to s₂.
Node CollapseChain(Node node) {
  Node inner = node.input(0);
  if (!Is(inner, node.op())) return Node();
  return Rebuild(node, {inner.input(0)});
}

// Transposing by p, then by q, is transposing by p∘q: result axis i is
// axis q[i] of the middle, which is axis p[q[i]] of x.
Node ComposeTransposes(Node node) {
  Node inner = node.input(0);
  if (!Is(inner, OpKind::kTranspose)) return Node();
  const std::vector<int>& p = inner.attributes().permutation;
  const std::vector<int>& q = node.attributes().permutation;
  std::vector<int> composed(q.size());
  for (size_t i = 0; i < q.size(); ++i) composed[i] = p[q[i]];
  if (IsIdentity(composed)) return inner.input(0);
  return Transpose(inner.input(0), std::move(composed), WhereOf(node));
}

// Transposing by the identity permutation moves nothing.
Node IdentityTranspose(Node node) {
  return IsIdentity(node.attributes().permutation) ? node.input(0) : Node();
}

// ---- The table ----

struct Rule {
  OpKind op;
  absl::string_view name;
  Node (*apply)(Node node);
};

// Rules for one op are tried in order; the first that applies wins. The
// canonical-order rule comes first so that later rules for Add and Mul need
// only look for constants on the right.
// clang-format off
constexpr Rule kRules[] = {
    {OpKind::kAdd,       "constant_to_right",        &ConstantToRight},
    {OpKind::kAdd,       "add_zero",                 &RightOperandIsZero},
    {OpKind::kAdd,       "add_of_negation",          &AddOfNegation},
    {OpKind::kSub,       "sub_zero",                 &RightOperandIsZero},
    {OpKind::kSub,       "zero_minus",               &ZeroMinus},
    {OpKind::kSub,       "sub_of_negation",          &SubOfNegation},
    {OpKind::kMul,       "constant_to_right",        &ConstantToRight},
    {OpKind::kMul,       "mul_one",                  &RightOperandIsOne},
    {OpKind::kMul,       "mul_minus_one",            &TimesMinusOne},
    {OpKind::kMul,       "fold_constant_factors",    &FoldConstantFactors},
    {OpKind::kMul,       "negation_into_constant",   &NegationIntoConstant},
    {OpKind::kMul,       "negation_out_of_mul",      &NegationOutOfMul},
    {OpKind::kDiv,       "div_one",                  &RightOperandIsOne},
    {OpKind::kSelect,    "select_of_constant",       &ConstantCondition},
    {OpKind::kSelect,    "select_of_equal_branches", &EqualBranches},
    {OpKind::kNeg,       "double_negation",          &DoubleNegation},
    {OpKind::kNeg,       "negated_fill",             &NegatedFill},
    {OpKind::kSum,       "negation_out_of_sum",      &NegationOutOfReduction},
    {OpKind::kMean,      "negation_out_of_mean",     &NegationOutOfReduction},
    {OpKind::kBroadcast, "broadcast_to_same_shape",  &ToSameShape},
    {OpKind::kBroadcast, "broadcast_of_broadcast",   &CollapseChain},
    {OpKind::kReshape,   "reshape_to_same_shape",    &ToSameShape},
    {OpKind::kReshape,   "reshape_of_reshape",       &CollapseChain},
    {OpKind::kTranspose, "identity_transpose",       &IdentityTranspose},
    {OpKind::kTranspose, "transpose_of_transpose",   &ComposeTransposes},
};
// clang-format on

Node SimplifyNode(Node node) {
  for (const Rule& rule : kRules) {
    if (rule.op != node.op()) continue;
    Node replacement = rule.apply(node);
    if (!replacement.ok()) continue;
    if (VerbosityAtLeast(2)) {
      LogLine(absl::StrCat("algebraic_simplification: ", rule.name, " on %",
                           node.id(), " gives %", replacement.id()));
    }
    return replacement;
  }
  return Node();
}

}  // namespace

bool SimplifyAlgebra(Graph& graph) {
  return RewriteEachNode(graph, &SimplifyNode);
}

}  // namespace kiln
