// Kernel membership for the fused-graph picture, derived from the fusion
// plan alone: a kernel owns its root and the inlined nodes beneath it.

#include "jit/fusion_dot.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace kiln::jit {
namespace {

// The root and the inlined nodes of its tree, walking inputs until a node
// with a buffer of its own.
std::vector<int> KernelMembers(Node root, const FusionPlan& plan) {
  std::vector<int> members;
  std::vector<Node> pending = {root};
  std::vector<bool> seen(plan.materialized.size(), false);
  while (!pending.empty()) {
    Node node = pending.back();
    pending.pop_back();
    const int id = node.id();
    if (seen[id]) continue;
    seen[id] = true;
    if (node.num_inputs() == 0 && plan.materialized[id]) continue;
    members.push_back(id);
    for (int i = 0; i < node.num_inputs(); ++i) {
      Node input = node.input(i);
      if (!plan.materialized[input.id()]) pending.push_back(input);
    }
  }
  return members;
}

std::string KernelLabel(size_t index, const KernelPlan& kernel) {
  std::string label = absl::StrCat("k", index, ": ");
  if (kernel.producer.ok() && !(kernel.producer == kernel.root)) {
    absl::StrAppend(&label, OpName(kernel.producer.op()), " \u2192 ");
  }
  absl::StrAppend(&label, OpName(kernel.root.op()));
  if (kernel.updates_in_place.ok()) {
    absl::StrAppend(&label, ", into ", kernel.updates_in_place.name());
  }
  return label;
}

}  // namespace

std::vector<DotCluster> KernelClusters(Graph& graph, const FusionPlan& plan) {
  std::vector<DotCluster> clusters;
  for (size_t k = 0; k < plan.kernels.size(); ++k) {
    const KernelPlan& kernel = plan.kernels[k];
    if (kernel.kind != KernelPlan::Kind::kCompute) continue;
    clusters.push_back(
        {KernelLabel(k, kernel), KernelMembers(kernel.root, plan)});
  }
  return clusters;
}

std::string FusedGraphToDot(Graph& graph, const FusionPlan& plan) {
  return GraphToDot(graph, KernelClusters(graph, plan));
}

}  // namespace kiln::jit
