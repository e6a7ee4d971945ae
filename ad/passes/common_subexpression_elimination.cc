#include "ad/passes/common_subexpression_elimination.h"

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "ad/passes/rewrite.h"

namespace kiln {
namespace {

// Everything that determines the value a node computes.
struct NodeKey {
  OpKind op;
  std::vector<int> inputs;  // Resolved slot ids.
  Attributes attributes;
  Shape shape;
  DType dtype;

  bool operator==(const NodeKey& other) const {
    return op == other.op && inputs == other.inputs &&
           attributes == other.attributes && shape == other.shape &&
           dtype == other.dtype;
  }

  template <typename H>
  friend H AbslHashValue(H state, const NodeKey& key) {
    return H::combine(std::move(state), key.op, key.inputs,
                      key.attributes.Hash(), key.shape, key.dtype);
  }
};

NodeKey KeyOf(Node node) {
  NodeKey key{node.op(), {}, node.attributes(), node.shape(), node.dtype()};
  for (int i = 0; i < node.num_inputs(); ++i) {
    key.inputs.push_back(node.input(i).id());
  }
  return key;
}

}  // namespace

bool EliminateCommonSubexpressions(Graph& graph) {
  absl::flat_hash_map<NodeKey, int> first_of_kind;
  bool changed = false;
  for (int id : LiveNodesInTopologicalOrder(graph)) {
    Node node = graph.node(id);
    if (IsFedLeaf(node)) continue;
    auto [entry, inserted] = first_of_kind.try_emplace(KeyOf(node), id);
    if (inserted) continue;
    // The order lists the older of two duplicates first, so it is kept.
    graph.ReplaceAllUses(node, graph.node(entry->second));
    changed = true;
  }
  return changed;
}

}  // namespace kiln
