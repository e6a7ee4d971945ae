// The fused graph as a picture: a Graphviz digraph of a graph after the
// passes, with the nodes each kernel computes boxed and labelled.
//
// A kernel computes its root and every node of the root's expression tree
// that the fusion plan inlines (gives no buffer of its own); those nodes
// share the kernel's box. Leaves and buffers fed from outside stay outside
// the boxes, so the edges that cross a box are exactly the kernel's reads.
//
//   FusionPlan plan = PlanFusion(graph, outputs, updates);
//   std::string dot = FusedGraphToDot(graph, plan);  // for `dot -Tsvg`

#ifndef KILN_JIT_FUSION_DOT_H_
#define KILN_JIT_FUSION_DOT_H_

#include <string>
#include <vector>

#include "ad/graph.h"
#include "ad/passes/printer.h"
#include "jit/fusion.h"

namespace kiln::jit {

// One cluster per kernel that computes something, in run order, labelled
// "k3: matmul → sub, into hidden1.weight".
std::vector<DotCluster> KernelClusters(Graph& graph, const FusionPlan& plan);

// GraphToDot with KernelClusters.
std::string FusedGraphToDot(Graph& graph, const FusionPlan& plan);

}  // namespace kiln::jit

#endif  // KILN_JIT_FUSION_DOT_H_
