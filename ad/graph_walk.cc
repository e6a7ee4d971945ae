#include "ad/graph_walk.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace kiln {

std::vector<Node> TopologicalOrder(const std::vector<Node>& roots) {
  std::vector<Node> order;
  if (roots.empty()) return order;
  Graph& graph = *roots[0].graph();
  absl::flat_hash_set<int> visited;
  // Iterative depth-first search: graphs can be deeper than the call stack.
  // Each frame is a node and the index of the next input to visit.
  std::vector<std::pair<int, int>> stack;
  for (const Node& root : roots) {
    if (!visited.insert(root.id()).second) continue;
    stack.push_back({root.id(), 0});
    while (!stack.empty()) {
      auto& [id, next_input] = stack.back();
      Node node = graph.node(id);
      if (next_input < node.num_inputs()) {
        const int input = node.input(next_input++).id();
        if (visited.insert(input).second) stack.push_back({input, 0});
      } else {
        order.push_back(node);
        stack.pop_back();
      }
    }
  }
  return order;
}

std::vector<Node> CopySubgraph(const std::vector<Node>& roots, Graph& target) {
  absl::flat_hash_map<int, Node> copies;
  for (const Node& node : TopologicalOrder(roots)) {
    const NodeData& data = node.graph()->data(node.id());
    Node copy;
    switch (node.op()) {
      case OpKind::kInput:
        copy = target.Input(data.name, data.shape, data.dtype, data.where);
        break;
      case OpKind::kParameter:
        copy = target.Parameter(data.name, data.shape, data.dtype, data.where);
        break;
      case OpKind::kConstant:
        copy = target.Constant(*data.attributes.value, data.where);
        break;
      case OpKind::kFill:
        copy = target.Fill(data.attributes.scalar, data.shape, data.dtype,
                           data.where);
        break;
      default: {
        std::vector<Node> inputs;
        for (int i = 0; i < node.num_inputs(); ++i) {
          inputs.push_back(copies.at(node.input(i).id()));
        }
        copy = target.AddNode(node.op(), inputs, data.attributes, data.where);
      }
    }
    copies[node.id()] = copy;
  }
  std::vector<Node> copied_roots;
  for (const Node& root : roots) copied_roots.push_back(copies.at(root.id()));
  return copied_roots;
}

}  // namespace kiln
