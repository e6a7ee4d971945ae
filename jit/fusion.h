// Fusion planning: decides which graph nodes get a buffer and which kernel
// computes each of them.
//
// The JIT runs a graph as a few loop nests rather than one loop per op. A
// node is *materialized* when its value is stored in a buffer; every other
// node is *inlined*, recomputed inside the loop of each materialized node
// that reads it. Every materialized node that is not a leaf is the *root* of
// one kernel, which evaluates the root's inlined expression tree at each
// element and stores the result.
//
// A root whose tree reaches a matrix product, a reduction or a row-wise
// normalisation (its *producer*) through elementwise ops alone becomes one
// kernel of the producer's kind whose *epilogue* is the rest of the tree:
// the product's accumulators, say, go through the bias add and the
// activation while they are still in registers. A producer fused this way is
// never stored.
//
// Parameter updates are written in place when that is safe: the kernel that
// computes W − lr·∂W stores straight into W's buffer, after every other
// kernel that reads W has run. When the update's producer is the matrix
// product ∂W = Xᵀ·Δ, the gradient therefore never exists in memory.
//
//   FusionPlan plan = PlanFusion(graph, outputs, updates);
//   for (const KernelPlan& kernel : plan.kernels) ...

#ifndef KILN_JIT_FUSION_H_
#define KILN_JIT_FUSION_H_

#include <string>
#include <vector>

#include "ad/executor.h"
#include "ad/graph.h"

namespace kiln::jit {

// One kernel to generate.
struct KernelPlan {
  enum class Kind {
    // Evaluates `root` into its buffer, or into `updates_in_place`'s.
    kCompute,
    // Copies the leaf `root` into a buffer of its own before anything
    // overwrites it, for an update whose new value is another leaf.
    kSnapshot,
    // Copies `root`, computed or snapshotted earlier, into
    // `updates_in_place`'s buffer: an update that cannot be written in
    // place.
    kUpdateCopy,
  };
  Kind kind = Kind::kCompute;
  // The node whose value the kernel stores.
  Node root;
  // The matrix product, reduction, row-wise op or loss whose loop the kernel
  // runs, with `root` as its epilogue; the root itself when it is one of
  // those; invalid for a kernel that only evaluates elementwise and layout
  // ops.
  Node producer;
  // The parameter whose buffer the kernel writes, if any.
  Node updates_in_place;
};

struct FusionPlan {
  // Indexed by node id: whether the node has a buffer of its own. Leaves
  // other than fills always do.
  std::vector<bool> materialized;
  // Kernels in an order that respects every data dependence, and in which
  // each in-place update runs after every reader of the old value.
  std::vector<KernelPlan> kernels;
};

// Plans `graph`, whose passes have run, for computing `outputs` and applying
// `updates`. The graph must be valid (see ValidateOutputs).
FusionPlan PlanFusion(Graph& graph, const std::vector<Node>& outputs,
                      const std::vector<ParameterUpdate>& updates);

// Whether `op` has a loop of its own that an elementwise epilogue can join:
// matrix products, reductions, row-wise normalisations and losses.
bool IsProducerOp(OpKind op);

// A short description of every kernel, one per line, such as
// "matmul → sigmoid  stores hidden1" for tests and dumps.
std::string FusionPlanToString(Graph& graph, const FusionPlan& plan);

}  // namespace kiln::jit

#endif  // KILN_JIT_FUSION_H_
