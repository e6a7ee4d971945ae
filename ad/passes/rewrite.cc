#include "ad/passes/rewrite.h"

#include <functional>
#include <queue>

#include "ops/base/check.h"
#include "ops/tensor.h"

namespace kiln {
namespace {

// Enough for any chain the rule tables produce on one node; the bound only
// guards against a rewrite that keeps producing new equivalent nodes.
constexpr int kMaxRewritesPerNode = 16;

}  // namespace

bool Is(Node node, OpKind op) { return node.ok() && node.op() == op; }

bool IsConstantLeaf(Node node) {
  return Is(node, OpKind::kFill) || Is(node, OpKind::kConstant);
}

bool IsFedLeaf(Node node) {
  return Is(node, OpKind::kInput) || Is(node, OpKind::kParameter);
}

std::optional<double> FillValue(Node node) {
  if (!Is(node, OpKind::kFill)) return std::nullopt;
  return node.attributes().scalar;
}

bool IsFillOf(Node node, double value) {
  std::optional<double> fill = FillValue(node);
  return fill.has_value() && *fill == value;
}

std::vector<int> LiveNodesInTopologicalOrder(Graph& graph) {
  // Kahn's algorithm, taking the lowest ready slot id first. Nodes with the
  // same inputs become ready together, so the older one always comes first.
  const int slots = graph.num_slots();
  std::vector<int> pending_inputs(slots, 0);
  std::vector<std::vector<int>> users(slots);
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int id = 0; id < slots; ++id) {
    if (!graph.IsLive(id)) continue;
    for (int input : graph.data(id).inputs) {
      input = graph.Resolve(input);
      if (!graph.IsLive(input)) continue;
      users[input].push_back(id);
      ++pending_inputs[id];
    }
    if (pending_inputs[id] == 0) ready.push(id);
  }

  std::vector<int> order;
  while (!ready.empty()) {
    const int id = ready.top();
    ready.pop();
    order.push_back(id);
    for (int user : users[id]) {
      if (--pending_inputs[user] == 0) ready.push(user);
    }
  }
  return order;
}

std::source_location WhereOf(Node node) {
  return node.graph()->data(node.id()).where;
}

double EvaluateElementwise(OpKind op, const Attributes& attributes, DType dtype,
                           std::span<const double> operands) {
  KILN_CHECK(IsElementwise(op)) << OpName(op) << " is not elementwise";
  std::vector<Tensor> values;
  for (double operand : operands) {
    values.push_back(Tensor::Full(dtype, {}, operand));
  }
  std::vector<const Tensor*> inputs;
  for (const Tensor& value : values) inputs.push_back(&value);
  Tensor output(dtype, {});
  GetOpInfo(op).kernel(inputs, attributes, output);
  return output.At(0);
}

bool RewriteEachNode(Graph& graph, NodeRewrite rewrite) {
  bool changed = false;
  for (int id : LiveNodesInTopologicalOrder(graph)) {
    // An earlier rewrite in this call may have replaced the node already.
    if (!graph.IsLive(id)) continue;
    Node node = graph.node(id);
    for (int step = 0; step < kMaxRewritesPerNode; ++step) {
      Node replacement = rewrite(node);
      if (!replacement.ok() || replacement == node) break;
      graph.ReplaceAllUses(node, replacement);
      node = replacement;
      changed = true;
    }
  }
  return changed;
}

}  // namespace kiln
