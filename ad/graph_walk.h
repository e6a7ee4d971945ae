// Traversals of a graph shared by autodiff, passes and executors.
//
//   for (Node node : TopologicalOrder({loss})) Visit(node);  // inputs first
//
//   Graph copy;
//   std::vector<Node> roots = CopySubgraph({loss, grads[w]}, copy);
//   RunPasses(copy);  // the caller's graph is untouched

#ifndef KILN_AD_GRAPH_WALK_H_
#define KILN_AD_GRAPH_WALK_H_

#include <vector>

#include "ad/graph.h"

namespace kiln {

// The nodes that `roots` depend on, including the roots, each listed once and
// after all of its inputs. The roots must be valid nodes of one graph.
std::vector<Node> TopologicalOrder(const std::vector<Node>& roots);

// Rebuilds in `target` the nodes that `roots` depend on, in topological
// order, and returns the copies of the roots in the same order. Inputs and
// parameters keep their names. Compilers copy a user's graph so that their
// passes never change what the user holds.
std::vector<Node> CopySubgraph(const std::vector<Node>& roots, Graph& target);

}  // namespace kiln

#endif  // KILN_AD_GRAPH_WALK_H_
