#include "ad/builder.h"

#include <numeric>

#include "absl/strings/str_cat.h"

namespace kiln {
namespace {

Graph* GraphOf(std::initializer_list<Node> nodes) {
  for (const Node& node : nodes) {
    if (node.graph() != nullptr) return node.graph();
  }
  return nullptr;
}

Node Unary(OpKind op, Node x, Location where, Attributes attributes = {}) {
  if (x.graph() == nullptr) return Node();
  return x.graph()->AddNode(op, {&x, 1}, std::move(attributes), where);
}

// Makes `x` the given shape by an explicit Broadcast node, or returns it as
// it is when it already has that shape.
Node BroadcastOperand(Node x, const Shape& shape, Location where) {
  if (x.shape() == shape) return x;
  if (x.op() == OpKind::kFill) {
    return x.graph()->Fill(x.attributes().scalar, shape, x.dtype(), where);
  }
  Attributes attributes;
  attributes.shape = shape;
  return Unary(OpKind::kBroadcast, x, where, std::move(attributes));
}

// Applies an elementwise op after broadcasting its operands to a common
// shape. Errors about the operands themselves are left to Graph::AddNode.
Node Elementwise(OpKind op, std::vector<Node> operands, Location where) {
  Graph* graph = nullptr;
  for (const Node& node : operands) {
    if (graph == nullptr) graph = node.graph();
  }
  if (graph == nullptr) return Node();

  bool usable = true;
  for (const Node& node : operands) {
    usable = usable && node.ok() && node.graph() == graph;
  }
  if (usable) {
    Shape shape = operands[0].shape();
    for (const Node& node : operands) {
      absl::StatusOr<Shape> joined = BroadcastShapes(shape, node.shape());
      if (!joined.ok()) {
        return graph->Fail(absl::InvalidArgumentError(
            absl::StrCat(OpName(op), ": ", joined.status().message(),
                         " (at ", LocationString(where), ")")));
      }
      shape = *joined;
    }
    for (Node& node : operands) node = BroadcastOperand(node, shape, where);
  }
  return graph->AddNode(op, operands, {}, where);
}

Node Reduction(OpKind op, Node x, int axis, bool keepdims, Location where) {
  Attributes attributes;
  attributes.axis = axis;
  attributes.keepdims = keepdims;
  // Store the axis non-negative so that equal reductions compare equal; an
  // axis out of range is left for the shape rule to report.
  if (x.ok()) {
    absl::StatusOr<int> resolved = NormalizeAxis(axis, x.rank());
    if (resolved.ok()) attributes.axis = *resolved;
  }
  return Unary(op, x, where, std::move(attributes));
}

// Applies a non-broadcasting binary op. Graph::AddNode reports invalid or
// mismatched operands.
Node Binary(OpKind op, Node a, Node b, Location where) {
  Graph* graph = GraphOf({a, b});
  if (graph == nullptr) return Node();
  Node inputs[] = {a, b};
  return graph->AddNode(op, inputs, {}, where);
}

}  // namespace

Node Add(Node a, Node b, Location where) {
  return Elementwise(OpKind::kAdd, {a, b}, where);
}
Node Sub(Node a, Node b, Location where) {
  return Elementwise(OpKind::kSub, {a, b}, where);
}
Node Mul(Node a, Node b, Location where) {
  return Elementwise(OpKind::kMul, {a, b}, where);
}
Node Div(Node a, Node b, Location where) {
  return Elementwise(OpKind::kDiv, {a, b}, where);
}
Node Neg(Node x, Location where) { return Unary(OpKind::kNeg, x, where); }
Node Exp(Node x, Location where) { return Unary(OpKind::kExp, x, where); }
Node Log(Node x, Location where) { return Unary(OpKind::kLog, x, where); }
Node Square(Node x, Location where) {
  return Unary(OpKind::kSquare, x, where);
}

Node Sigmoid(Node x, Location where) {
  return Unary(OpKind::kSigmoid, x, where);
}
Node Tanh(Node x, Location where) { return Unary(OpKind::kTanh, x, where); }
Node Relu(Node x, Location where) { return Unary(OpKind::kRelu, x, where); }
Node LeakyRelu(Node x, double gamma, Location where) {
  Attributes attributes;
  attributes.scalar = gamma;
  return Unary(OpKind::kLeakyRelu, x, where, std::move(attributes));
}
Node Softmax(Node x, Location where) {
  return Unary(OpKind::kSoftmax, x, where);
}
Node LogSoftmax(Node x, Location where) {
  return Unary(OpKind::kLogSoftmax, x, where);
}

Node Less(Node a, Node b, Location where) {
  return Elementwise(OpKind::kLess, {a, b}, where);
}
Node LessEqual(Node a, Node b, Location where) {
  return Elementwise(OpKind::kLessEqual, {a, b}, where);
}
Node Greater(Node a, Node b, Location where) {
  return Elementwise(OpKind::kGreater, {a, b}, where);
}
Node GreaterEqual(Node a, Node b, Location where) {
  return Elementwise(OpKind::kGreaterEqual, {a, b}, where);
}
Node Equal(Node a, Node b, Location where) {
  return Elementwise(OpKind::kEqual, {a, b}, where);
}
Node NotEqual(Node a, Node b, Location where) {
  return Elementwise(OpKind::kNotEqual, {a, b}, where);
}
Node Select(Node condition, Node a, Node b, Location where) {
  return Elementwise(OpKind::kSelect, {condition, a, b}, where);
}

Node MatMul(Node a, Node b, Location where) {
  return Binary(OpKind::kMatMul, a, b, where);
}

Node Transpose(Node x, Location where) {
  if (!x.ok()) return Unary(OpKind::kTranspose, x, where);
  std::vector<int> reversed(x.rank());
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  return Transpose(x, std::move(reversed), where);
}

Node Transpose(Node x, std::vector<int> permutation, Location where) {
  Attributes attributes;
  attributes.permutation = std::move(permutation);
  return Unary(OpKind::kTranspose, x, where, std::move(attributes));
}

Node Reshape(Node x, Shape shape, Location where) {
  Attributes attributes;
  attributes.shape = std::move(shape);
  return Unary(OpKind::kReshape, x, where, std::move(attributes));
}

Node BroadcastTo(Node x, Shape shape, Location where) {
  Attributes attributes;
  attributes.shape = std::move(shape);
  return Unary(OpKind::kBroadcast, x, where, std::move(attributes));
}

Node Sum(Node x, int axis, bool keepdims, Location where) {
  return Reduction(OpKind::kSum, x, axis, keepdims, where);
}
Node Mean(Node x, int axis, bool keepdims, Location where) {
  return Reduction(OpKind::kMean, x, axis, keepdims, where);
}
Node Max(Node x, int axis, bool keepdims, Location where) {
  return Reduction(OpKind::kMax, x, axis, keepdims, where);
}
Node Argmax(Node x, int axis, bool keepdims, Location where) {
  return Reduction(OpKind::kArgmax, x, axis, keepdims, where);
}

Node SumAll(Node x, Location where) {
  if (!x.ok()) return Unary(OpKind::kSum, x, where);
  return Sum(Reshape(x, {NumElements(x.shape())}, where), 0, false, where);
}

Node HalfMse(Node prediction, Node target, Location where) {
  return Binary(OpKind::kHalfMse, prediction, target, where);
}
Node SigmoidCrossEntropy(Node logits, Node targets, Location where) {
  return Binary(OpKind::kSigmoidCrossEntropy, logits, targets, where);
}
Node SoftmaxCrossEntropy(Node logits, Node targets, Location where) {
  return Binary(OpKind::kSoftmaxCrossEntropy, logits, targets, where);
}

Node OneHot(Node labels, int64_t num_classes, Location where) {
  Attributes attributes;
  attributes.num_classes = num_classes;
  return Unary(OpKind::kOneHot, labels, where, std::move(attributes));
}

Node Accuracy(Node scores, Node one_hot_labels, Location where) {
  return Binary(OpKind::kAccuracy, scores, one_hot_labels, where);
}

Node FillLike(Node x, double value, Location where) {
  if (!x.ok()) return x;
  return x.graph()->Fill(value, x.shape(), x.dtype(), where);
}

// ---- Operators ----

Node operator+(LocatedNode a, Node b) { return Add(a.node, b, a.where); }
Node operator-(LocatedNode a, Node b) { return Sub(a.node, b, a.where); }
Node operator*(LocatedNode a, Node b) { return Mul(a.node, b, a.where); }
Node operator/(LocatedNode a, Node b) { return Div(a.node, b, a.where); }
Node operator-(LocatedNode x) { return Neg(x.node, x.where); }

Node operator+(LocatedNode a, double b) {
  return Add(a.node, FillLike(a.node, b, a.where), a.where);
}
Node operator-(LocatedNode a, double b) {
  return Sub(a.node, FillLike(a.node, b, a.where), a.where);
}
Node operator*(LocatedNode a, double b) {
  return Mul(a.node, FillLike(a.node, b, a.where), a.where);
}
Node operator/(LocatedNode a, double b) {
  return Div(a.node, FillLike(a.node, b, a.where), a.where);
}

Node operator+(LocatedScalar a, Node b) {
  return Add(FillLike(b, a.value, a.where), b, a.where);
}
Node operator-(LocatedScalar a, Node b) {
  return Sub(FillLike(b, a.value, a.where), b, a.where);
}
Node operator*(LocatedScalar a, Node b) {
  return Mul(FillLike(b, a.value, a.where), b, a.where);
}
Node operator/(LocatedScalar a, Node b) {
  return Div(FillLike(b, a.value, a.where), b, a.where);
}

}  // namespace kiln
