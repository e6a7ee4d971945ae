#include "ad/graph_walk.h"

#include <utility>

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

}  // namespace kiln
