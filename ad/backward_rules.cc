#include "ad/backward_rules.h"

#include "ad/builder.h"
#include "ops/base/check.h"

namespace kiln {
namespace {

constexpr BackwardRule kBackwardRules[] = {
#define KILN_OP(id, name, arity, op_class, shape_rule, kernel, backward) \
  &backward,
#include "ops/op_table.def"
#undef KILN_OP
};

static_assert(std::size(kBackwardRules) == kNumOpKinds);

// The gradient of a reduction's output spread back over its input: reshaped
// to keep the reduced axis, then broadcast along it.
Node ExpandReduced(Node grad, const VjpArgs& args) {
  Node x = args.input(0);
  Shape kept = x.shape();
  kept[args.node.attributes().axis] = 1;
  return BroadcastTo(Reshape(grad, kept), x.shape());
}

// Along the last axis, summed and broadcast back: the row totals of `x`.
Node RowTotals(Node x) {
  return BroadcastTo(Sum(x, -1, /*keepdims=*/true), x.shape());
}

// Losses average over rows. The scalar upstream gradient divided by the row
// count N, as a tensor of the input's shape.
Node PerElementLossScale(const VjpArgs& args) {
  Node x = args.input(0);
  const int64_t rows = NumElements(x.shape()) / x.shape().back();
  return BroadcastTo(args.grad * (1.0 / rows), x.shape());
}

// g·d, except exactly zero wherever g is zero. The chain rule multiplies the
// incoming gradient by the local derivative; in the branch a select did not
// take, the incoming gradient is zero but the local derivative may be inf or
// NaN (1/x at 0, exp overflowing), and 0·inf would put a NaN into the result.
// A zero gradient therefore stays zero, as with TensorFlow's multiply_no_nan.
Node ScaleGradient(Node g, Node d) {
  Node zero = FillLike(g, 0.0);
  return Select(Equal(g, zero), zero, g * d);
}

// A result for every input of `args.node`, keeping only the wanted ones.
std::vector<Node> Wanted(const VjpArgs& args, std::vector<Node> grads) {
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!args.wants(i)) grads[i] = Node();
  }
  return grads;
}

}  // namespace

BackwardRule GetBackwardRule(OpKind op) {
  return kBackwardRules[static_cast<int>(op)];
}

bool IsDifferentiable(OpKind op) {
  return GetBackwardRule(op) != &ZeroVjp &&
         GetOpInfo(op).op_class != OpClass::kLeaf;
}

Node SumToShape(Node grad, Shape shape) {
  Node result = grad;
  // Axes that broadcasting added in front.
  while (result.rank() > static_cast<int>(shape.size())) {
    result = Sum(result, 0);
  }
  // Axes that broadcasting stretched from 1.
  for (int axis = 0; axis < result.rank(); ++axis) {
    if (shape[axis] == 1 && result.shape()[axis] != 1) {
      result = Sum(result, axis, /*keepdims=*/true);
    }
  }
  return result;
}

// ---- Leaves and piecewise-constant ops ----

// Leaves have no inputs.
std::vector<Node> LeafVjp(const VjpArgs& args) { return {}; }

// Comparisons, argmax, one-hot and accuracy are constant almost everywhere.
std::vector<Node> ZeroVjp(const VjpArgs& args) {
  return std::vector<Node>(args.node.num_inputs());
}

// ---- Arithmetic ----

// d(a + b) = da + db
std::vector<Node> AddVjp(const VjpArgs& args) {
  return {args.grad, args.grad};
}

// d(a − b) = da − db
std::vector<Node> SubVjp(const VjpArgs& args) {
  return Wanted(args, {args.grad, -args.grad});
}

// d(a·b) = b·da + a·db
std::vector<Node> MulVjp(const VjpArgs& args) {
  return Wanted(args, {ScaleGradient(args.grad, args.input(1)),
                       ScaleGradient(args.grad, args.input(0))});
}

// d(a/b) = da/b − a·db/b²
std::vector<Node> DivVjp(const VjpArgs& args) {
  Node a = args.input(0), b = args.input(1);
  return Wanted(args, {ScaleGradient(args.grad, 1.0 / b),
                       ScaleGradient(args.grad, -a / Square(b))});
}

// d(−x) = −dx
std::vector<Node> NegVjp(const VjpArgs& args) { return {-args.grad}; }

// d exp(x) = exp(x)·dx, and exp(x) is the node itself.
std::vector<Node> ExpVjp(const VjpArgs& args) {
  return {ScaleGradient(args.grad, args.node)};
}

// d log(x) = dx/x
std::vector<Node> LogVjp(const VjpArgs& args) {
  return {ScaleGradient(args.grad, 1.0 / args.input(0))};
}

// d x² = 2x·dx
std::vector<Node> SquareVjp(const VjpArgs& args) {
  return {ScaleGradient(args.grad, args.input(0) * 2.0)};
}

// ---- Activations ----

// σ'(x) = σ(x)·(1 − σ(x)), from the node's own output.
std::vector<Node> SigmoidVjp(const VjpArgs& args) {
  Node y = args.node;
  return {ScaleGradient(args.grad, y * (1.0 - y))};
}

// tanh'(x) = 1 − tanh(x)²
std::vector<Node> TanhVjp(const VjpArgs& args) {
  return {ScaleGradient(args.grad, 1.0 - Square(args.node))};
}

// relu'(x) = 1 for x > 0, and 0 for x ≤ 0, including at the kink.
std::vector<Node> ReluVjp(const VjpArgs& args) {
  Node x = args.input(0);
  Node positive = Greater(x, FillLike(x, 0.0));
  return {Select(positive, args.grad, FillLike(x, 0.0))};
}

// leaky_relu'(x) = 1 for x > 0, and γ for x ≤ 0, including at the kink.
std::vector<Node> LeakyReluVjp(const VjpArgs& args) {
  Node x = args.input(0);
  const double gamma = args.node.attributes().scalar;
  Node positive = Greater(x, FillLike(x, 0.0));
  return {Select(positive, args.grad, args.grad * gamma)};
}

// select(c, a, b): the gradient goes to the branch taken and exactly zero to
// the other. Choosing with select, not multiplying by a mask, keeps an inf
// or NaN computed in the untaken branch out of the result (0·inf is NaN).
std::vector<Node> SelectVjp(const VjpArgs& args) {
  Node condition = args.input(0);
  Node zero = FillLike(args.grad, 0.0);
  return Wanted(args, {Node(), Select(condition, args.grad, zero),
                       Select(condition, zero, args.grad)});
}

// ---- Layout ----

// The adjoint of a permutation is its inverse.
std::vector<Node> TransposeVjp(const VjpArgs& args) {
  const std::vector<int>& permutation = args.node.attributes().permutation;
  std::vector<int> inverse(permutation.size());
  for (size_t i = 0; i < permutation.size(); ++i) {
    inverse[permutation[i]] = static_cast<int>(i);
  }
  return {Transpose(args.grad, inverse)};
}

// Reshaping moves no values: reshape the gradient back.
std::vector<Node> ReshapeVjp(const VjpArgs& args) {
  return {Reshape(args.grad, args.input(0).shape())};
}

// A broadcast copies each input element to many outputs; their gradients
// add up.
std::vector<Node> BroadcastVjp(const VjpArgs& args) {
  return {SumToShape(args.grad, args.input(0).shape())};
}

// d(A·B) = dA·B + A·dB, so the gradients are G·Bᵀ and Aᵀ·G.
std::vector<Node> MatMulVjp(const VjpArgs& args) {
  Node a = args.input(0), b = args.input(1);
  return {args.wants(0) ? MatMul(args.grad, Transpose(b)) : Node(),
          args.wants(1) ? MatMul(Transpose(a), args.grad) : Node()};
}

// ---- Reductions ----

// ∂(Σ_i x_i)/∂x_j = 1
std::vector<Node> SumVjp(const VjpArgs& args) {
  return {ExpandReduced(args.grad, args)};
}

// ∂(Σ_i x_i / n)/∂x_j = 1/n
std::vector<Node> MeanVjp(const VjpArgs& args) {
  const int64_t n = args.input(0).shape()[args.node.attributes().axis];
  return {ExpandReduced(args.grad, args) * (1.0 / n)};
}

// The maximum's gradient goes to the elements equal to it, split evenly
// between ties.
std::vector<Node> MaxVjp(const VjpArgs& args) {
  Node x = args.input(0);
  Node is_max = Equal(x, ExpandReduced(args.node, args));
  Node ties = ExpandReduced(Sum(is_max, args.node.attributes().axis), args);
  return {ExpandReduced(args.grad, args) * is_max / ties};
}

// ---- Row-wise ----

// For y = softmax(x): dx = y ⊙ (dy − Σ_row dy ⊙ y)
std::vector<Node> SoftmaxVjp(const VjpArgs& args) {
  Node y = args.node;
  return {y * (args.grad - RowTotals(args.grad * y))};
}

// For y = log_softmax(x): dx = dy − softmax(x) ⊙ Σ_row dy
std::vector<Node> LogSoftmaxVjp(const VjpArgs& args) {
  return {args.grad - Softmax(args.input(0)) * RowTotals(args.grad)};
}

// ---- Losses, for N rows ----

// L = 1/(2N) Σ (p − y)²:
//   ∂L/∂p = (p − y)/N,  ∂L/∂y = −(p − y)/N
std::vector<Node> HalfMseVjp(const VjpArgs& args) {
  Node delta = (args.input(0) - args.input(1)) * PerElementLossScale(args);
  return Wanted(args, {delta, -delta});
}

// L = 1/N Σ −y log σ(s) − (1 − y) log(1 − σ(s)):
//   ∂L/∂s = (σ(s) − y)/N,  ∂L/∂y = −s/N
std::vector<Node> SigmoidCrossEntropyVjp(const VjpArgs& args) {
  Node s = args.input(0), y = args.input(1);
  Node scale = PerElementLossScale(args);
  return Wanted(args, {(Sigmoid(s) - y) * scale, -s * scale});
}

// L = 1/N Σ_rows −Σ_c y_c log softmax(s)_c, with rows of y summing to 1:
//   ∂L/∂s = (softmax(s) − y)/N,  ∂L/∂y = −log_softmax(s)/N
std::vector<Node> SoftmaxCrossEntropyVjp(const VjpArgs& args) {
  Node s = args.input(0), y = args.input(1);
  Node scale = PerElementLossScale(args);
  return Wanted(args, {(Softmax(s) - y) * scale, -LogSoftmax(s) * scale});
}

}  // namespace kiln
