#include "ad/passes/constant_folding.h"

#include <cstring>
#include <vector>

#include "ad/passes/rewrite.h"
#include "ops/tensor.h"

namespace kiln {
namespace {

bool AllInputsConstant(Node node) {
  if (node.num_inputs() == 0) return false;
  for (int i = 0; i < node.num_inputs(); ++i) {
    if (!IsConstantLeaf(node.input(i))) return false;
  }
  return true;
}

bool AllInputsFill(Node node) {
  for (int i = 0; i < node.num_inputs(); ++i) {
    if (!Is(node.input(i), OpKind::kFill)) return false;
  }
  return true;
}

// Ops that move or repeat elements without computing new ones.
bool IsRearrangement(OpKind op) {
  return op == OpKind::kBroadcast || op == OpKind::kReshape ||
         op == OpKind::kTranspose;
}

// An elementwise op of Fills, or a rearrangement of one, is a Fill.
Node FoldFills(Node node) {
  std::vector<double> operands;
  for (int i = 0; i < node.num_inputs(); ++i) {
    operands.push_back(*FillValue(node.input(i)));
  }
  const double value = IsElementwise(node.op())
                           ? EvaluateElementwise(node.op(), node.attributes(),
                                                 node.dtype(), operands)
                           : operands[0];
  return node.graph()->Fill(value, node.shape(), node.dtype(), WhereOf(node));
}

// The value of a constant leaf as a tensor.
Tensor LeafValue(Node leaf) {
  if (Is(leaf, OpKind::kConstant)) return *leaf.attributes().value;
  return Tensor::Full(leaf.dtype(), leaf.shape(), leaf.attributes().scalar);
}

bool AllElementsEqual(const Tensor& tensor) {
  const size_t size = DTypeSize(tensor.dtype());
  const char* bytes = static_cast<const char*>(tensor.raw_data());
  for (int64_t i = 1; i < tensor.num_elements(); ++i) {
    if (std::memcmp(bytes, bytes + i * size, size) != 0) return false;
  }
  return true;
}

bool SmallEnoughToRun(Node node) {
  if (NumElements(node.shape()) > kMaxFoldedElements) return false;
  for (int i = 0; i < node.num_inputs(); ++i) {
    if (NumElements(node.input(i).shape()) > kMaxFoldedInputElements) {
      return false;
    }
  }
  return true;
}

// Runs the node's reference kernel on its constant inputs.
Node FoldByKernel(Node node) {
  std::vector<Tensor> values;
  for (int i = 0; i < node.num_inputs(); ++i) {
    values.push_back(LeafValue(node.input(i)));
  }
  std::vector<const Tensor*> inputs;
  for (const Tensor& value : values) inputs.push_back(&value);
  Tensor result(node.dtype(), node.shape());
  GetOpInfo(node.op()).kernel(inputs, node.attributes(), result);

  Graph& graph = *node.graph();
  if (AllElementsEqual(result)) {
    return graph.Fill(result.At(0), node.shape(), node.dtype(), WhereOf(node));
  }
  return graph.Constant(std::move(result), WhereOf(node));
}

Node Fold(Node node) {
  if (!AllInputsConstant(node)) return Node();
  if (AllInputsFill(node) &&
      (IsElementwise(node.op()) || IsRearrangement(node.op()))) {
    return FoldFills(node);
  }
  if (!SmallEnoughToRun(node)) return Node();
  return FoldByKernel(node);
}

}  // namespace

bool FoldConstants(Graph& graph) { return RewriteEachNode(graph, &Fold); }

}  // namespace kiln
