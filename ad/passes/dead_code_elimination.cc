#include "ad/passes/dead_code_elimination.h"

#include <vector>

#include "ad/graph_walk.h"
#include "ad/passes/rewrite.h"

namespace kiln {

bool EliminateDeadCode(Graph& graph) {
  std::vector<bool> reachable(graph.num_slots(), false);
  const std::vector<Node> outputs = graph.Outputs();
  if (!outputs.empty()) {
    for (const Node& node : TopologicalOrder(outputs)) {
      reachable[node.id()] = true;
    }
  }

  bool changed = false;
  for (int id = 0; id < graph.num_slots(); ++id) {
    if (!graph.IsLive(id) || reachable[id]) continue;
    if (IsFedLeaf(graph.node(id))) continue;
    graph.MarkDead(id);
    changed = true;
  }
  return changed;
}

}  // namespace kiln
