// Printers: graphs as text for logs and tests, and as Graphviz for people.
//
// GraphToText lists the live nodes, one per line, each after its inputs. Node
// numbers are slot ids, which stay stable while passes rewrite the graph, so
// dumps taken after successive passes can be compared line by line:
//
//   %0 = input "x" : f32[100,784]
//   %1 = parameter "w" : f32[784,10]
//   %2 = matmul(%0, %1) : f32[100,10]
//   %3 = fill 0.5 : f32[100,10]
//   %4 = mul(%2, %3) : f32[100,10]
//   %5 = sum[axis=1](%4) : f32[100]
//   outputs %5
//
// ExpressionString writes the expression a node computes as one nested term,
// the form tests compare against:
//
//   mul(sub(softmax(s), one_hot[num_classes=10](labels)), 0.01)
//
// Inputs and parameters print their names, a Fill its value, a Constant its
// type as constant<f64[3]>, and every other node its op name followed by the
// attributes that differ from their defaults. Values print in the shortest
// decimal form that reads back to the same value in the node's dtype, so
// 0.01 prints as "0.01" in both f32 and f64. The term repeats a shared
// subexpression at each use, so it is meant for the small expressions tests
// look at, not for whole training graphs.
//
// GraphToDot writes a Graphviz digraph of the live nodes: boxes for leaves
// (inputs blue, parameters green, constants grey), ellipses for ops, and a
// double border on the graph's outputs. Clusters draw groups of nodes inside
// labelled boxes, such as the nodes that one fused kernel computes:
//
//   std::string dot = GraphToDot(graph, {{"kernel 0: matmul", {3, 4, 5}}});

#ifndef KILN_AD_PASSES_PRINTER_H_
#define KILN_AD_PASSES_PRINTER_H_

#include <string>
#include <vector>

#include "ad/graph.h"

namespace kiln {

// One line per live node, then a line naming the outputs, if any.
std::string GraphToText(Graph& graph);

// The expression `node` computes, as one nested term. `node` must be valid.
std::string ExpressionString(Node node);

// A labelled group of nodes, by id, for GraphToDot.
struct DotCluster {
  std::string label;
  std::vector<int> node_ids;
};

// The live nodes and their edges as a Graphviz digraph.
std::string GraphToDot(Graph& graph);

// The same, with each cluster's live nodes drawn inside a box labelled with
// the cluster's label. A node listed in several clusters is drawn in the
// first; ids that are not live nodes are ignored.
std::string GraphToDot(Graph& graph, const std::vector<DotCluster>& clusters);

}  // namespace kiln

#endif  // KILN_AD_PASSES_PRINTER_H_
