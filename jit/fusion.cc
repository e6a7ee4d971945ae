#include "jit/fusion.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ad/graph_walk.h"
#include "ops/base/check.h"

namespace kiln::jit {
namespace {

bool IsBufferLeaf(OpKind op) {
  return op == OpKind::kInput || op == OpKind::kParameter ||
         op == OpKind::kConstant;
}

// The planner's working state for one graph.
class Planner {
 public:
  Planner(Graph& graph, const std::vector<Node>& outputs,
          const std::vector<ParameterUpdate>& updates)
      : graph_(graph), outputs_(outputs), updates_(updates) {
    std::vector<Node> roots = outputs;
    for (const ParameterUpdate& update : updates) {
      roots.push_back(update.value);
      roots.push_back(update.parameter);
    }
    order_ = TopologicalOrder(roots);
    const int slots = graph.num_slots();
    materialized_.assign(slots, false);
    required_.assign(slots, false);
    uses_.assign(slots, 0);
    producer_of_root_.assign(slots, -1);
    for (const Node& node : order_) {
      for (int i = 0; i < node.num_inputs(); ++i) ++uses_[node.input(i).id()];
    }
    for (const Node& node : outputs) required_[node.id()] = true;
    for (const ParameterUpdate& update : updates) {
      required_[update.value.id()] = true;
    }
  }

  FusionPlan Plan() {
    for (const Node& node : order_) {
      if (IsBufferLeaf(node.op()) || IsProducerOp(node.op()) ||
          required_[node.id()]) {
        materialized_[node.id()] = true;
      }
    }
    // Operand rules and ownership feed each other; both only ever add
    // buffers, so alternating them reaches a fixed point.
    bool changed = true;
    while (changed) {
      changed = ApplyOperandRules();
      changed |= SplitSharedNodes();
    }
    AbsorbProducers();
    return BuildKernels();
  }

 private:
  bool Materialize(Node node) {
    if (materialized_[node.id()]) return false;
    materialized_[node.id()] = true;
    return true;
  }

  // A value that can be read at any index without computing anything: a
  // buffer, or a transpose or reshape of one.
  bool IsView(Node node) const {
    if (materialized_[node.id()]) return true;
    if (node.op() == OpKind::kTranspose || node.op() == OpKind::kReshape) {
      return materialized_[node.input(0).id()];
    }
    return false;
  }

  // Adds the buffers that loops need in order to read their operands
  // cheaply. Returns whether any was added.
  bool ApplyOperandRules() {
    bool changed = false;
    for (const Node& node : order_) {
      switch (GetOpInfo(node.op()).op_class) {
        case OpClass::kContraction: {
          // The left operand is read one scalar at a time and may be
          // strided; the right one is read as vectors along its rows, which
          // a transposed view would turn into gathers.
          Node a = node.input(0);
          Node b = node.input(1);
          if (!IsView(a)) changed |= Materialize(a);
          if (b.op() == OpKind::kTranspose || !IsView(b)) {
            changed |= Materialize(b);
          }
          break;
        }
        case OpClass::kRowwise:
        case OpClass::kLoss:
          // These read each row several times; recomputing an inlined
          // operand on every pass would multiply its cost.
          for (int i = 0; i < node.num_inputs(); ++i) {
            if (!IsView(node.input(i))) changed |= Materialize(node.input(i));
          }
          break;
        case OpClass::kLayout:
          if (node.op() == OpKind::kReshape) {
            // Reshapes are read through their input's flat index, which
            // only a buffer has.
            Node input = node.input(0);
            if (input.op() != OpKind::kFill) changed |= Materialize(input);
          } else if (node.op() == OpKind::kBroadcast) {
            // An inlined operand would be recomputed for every copy.
            Node input = node.input(0);
            if (input.op() != OpKind::kFill &&
                NumElements(node.shape()) > NumElements(input.shape())) {
              changed |= Materialize(input);
            }
          }
          break;
        default:
          break;
      }
    }
    return changed;
  }

  // Gives a buffer to every inlined node that two kernels would otherwise
  // both recompute. Returns whether any was added.
  bool SplitSharedNodes() {
    std::vector<int> owner(graph_.num_slots(), -1);
    bool changed = false;
    for (const Node& root : order_) {
      if (!materialized_[root.id()] || IsBufferLeaf(root.op())) continue;
      std::vector<Node> stack = {root};
      while (!stack.empty()) {
        Node node = stack.back();
        stack.pop_back();
        for (int i = 0; i < node.num_inputs(); ++i) {
          Node input = node.input(i);
          if (materialized_[input.id()] || input.op() == OpKind::kFill) {
            continue;
          }
          int& input_owner = owner[input.id()];
          if (input_owner == -1) {
            input_owner = root.id();
            stack.push_back(input);
          } else if (input_owner != root.id()) {
            changed |= Materialize(input);
          }
        }
      }
    }
    return changed;
  }

  // Fuses each producer whose every use lies in one elementwise root's
  // tree, on elementwise ops of its own shape, into that root's kernel:
  // every use then reads the same accumulator.
  void AbsorbProducers() {
    for (const Node& root : order_) {
      if (!materialized_[root.id()] || IsBufferLeaf(root.op()) ||
          IsProducerOp(root.op()) || !IsElementwise(root.op())) {
        continue;
      }
      // Uses of each candidate producer from elementwise nodes of the
      // root's tree; a node reached twice counts its uses twice, which
      // only makes the test below stricter.
      absl::flat_hash_map<int, int> uses_in_tree;
      absl::flat_hash_set<int> visited;
      std::vector<Node> stack = {root};
      while (!stack.empty()) {
        Node node = stack.back();
        stack.pop_back();
        if (!visited.insert(node.id()).second) continue;
        if (!IsElementwise(node.op())) continue;
        for (int i = 0; i < node.num_inputs(); ++i) {
          Node input = node.input(i);
          if (IsProducerOp(input.op()) && materialized_[input.id()] &&
              !required_[input.id()] && input.shape() == root.shape()) {
            ++uses_in_tree[input.id()];
          } else if (!materialized_[input.id()]) {
            stack.push_back(input);
          }
        }
      }
      for (const Node& candidate : order_) {
        auto found = uses_in_tree.find(candidate.id());
        if (found != uses_in_tree.end() &&
            found->second == uses_[candidate.id()]) {
          producer_of_root_[root.id()] = candidate.id();
          materialized_[candidate.id()] = false;
          break;
        }
      }
    }
  }

  // Every parameter that the kernel of `root` reads, and whether it reads
  // `parameter` only at the index it stores, so that overwriting it element
  // by element is safe.
  struct ParameterReads {
    absl::flat_hash_set<int> parameters;
    bool aligned = true;
  };

  ParameterReads ReadsOfKernel(Node root, Node parameter) const {
    ParameterReads reads;
    const int producer = producer_of_root_[root.id()];
    // `epilogue` is true while the walk stays among elementwise nodes of the
    // root's shape, which read their operands at the stored index.
    std::vector<std::pair<Node, bool>> stack = {{root, true}};
    while (!stack.empty()) {
      auto [node, epilogue] = stack.back();
      stack.pop_back();
      const bool same_index = epilogue && IsElementwise(node.op()) &&
                              node.id() != producer &&
                              node.shape() == root.shape();
      for (int i = 0; i < node.num_inputs(); ++i) {
        Node input = node.input(i);
        if (input.op() == OpKind::kParameter) {
          reads.parameters.insert(input.id());
          if (input == parameter && !same_index) reads.aligned = false;
        }
        if (!materialized_[input.id()] && input.op() != OpKind::kFill) {
          stack.push_back({input, same_index});
        }
      }
    }
    return reads;
  }

  FusionPlan BuildKernels() {
    FusionPlan plan;
    plan.materialized = materialized_;

    // Which updates can store in place.
    std::vector<bool> in_place(updates_.size(), false);
    absl::flat_hash_set<int> in_place_parameters;
    for (size_t u = 0; u < updates_.size(); ++u) {
      Node value = updates_[u].value;
      const bool own_value =
          !IsBufferLeaf(value.op()) && value.op() != OpKind::kFill &&
          uses_[value.id()] == 0 &&
          std::count(outputs_.begin(), outputs_.end(), value) == 0 &&
          std::count_if(updates_.begin(), updates_.end(),
                        [&](const ParameterUpdate& other) {
                          return other.value == value;
                        }) == 1;
      if (!own_value) continue;
      in_place[u] = ReadsOfKernel(value, updates_[u].parameter).aligned;
      if (in_place[u]) in_place_parameters.insert(updates_[u].parameter.id());
    }
    // An in-place kernel must not read another parameter that some other
    // in-place kernel overwrites; such pairs fall back to copying. Dropping
    // one only removes constraints, so one sweep settles it.
    for (size_t u = 0; u < updates_.size(); ++u) {
      if (!in_place[u]) continue;
      const ParameterReads reads =
          ReadsOfKernel(updates_[u].value, updates_[u].parameter);
      for (int parameter : reads.parameters) {
        if (parameter != updates_[u].parameter.id() &&
            in_place_parameters.contains(parameter)) {
          in_place[u] = false;
          in_place_parameters.erase(updates_[u].parameter.id());
          break;
        }
      }
    }

    absl::flat_hash_set<int> deferred;
    for (size_t u = 0; u < updates_.size(); ++u) {
      if (in_place[u]) deferred.insert(updates_[u].value.id());
    }
    auto make_kernel = [&](Node root) {
      KernelPlan kernel;
      kernel.root = root;
      if (producer_of_root_[root.id()] >= 0) {
        kernel.producer = graph_.node(producer_of_root_[root.id()]);
      } else if (IsProducerOp(root.op())) {
        kernel.producer = root;
      }
      return kernel;
    };
    for (const Node& node : order_) {
      if (!materialized_[node.id()] || IsBufferLeaf(node.op()) ||
          deferred.contains(node.id())) {
        continue;
      }
      plan.kernels.push_back(make_kernel(node));
    }
    for (size_t u = 0; u < updates_.size(); ++u) {
      if (!in_place[u]) continue;
      KernelPlan kernel = make_kernel(updates_[u].value);
      kernel.updates_in_place = updates_[u].parameter;
      plan.kernels.push_back(kernel);
    }
    for (size_t u = 0; u < updates_.size(); ++u) {
      if (in_place[u]) continue;
      Node value = updates_[u].value;
      if (IsBufferLeaf(value.op())) {
        KernelPlan snapshot;
        snapshot.kind = KernelPlan::Kind::kSnapshot;
        snapshot.root = value;
        plan.kernels.insert(plan.kernels.begin(), snapshot);
      }
      KernelPlan copy;
      copy.kind = KernelPlan::Kind::kUpdateCopy;
      copy.root = value;
      copy.updates_in_place = updates_[u].parameter;
      plan.kernels.push_back(copy);
    }
    return plan;
  }

  Graph& graph_;
  const std::vector<Node>& outputs_;
  const std::vector<ParameterUpdate>& updates_;
  std::vector<Node> order_;
  std::vector<bool> materialized_;
  // Outputs and update values: they must be stored where the executor can
  // find them.
  std::vector<bool> required_;
  std::vector<int> uses_;
  // For a root that absorbed a producer, the producer's id; else -1.
  std::vector<int> producer_of_root_;
};

}  // namespace

bool IsProducerOp(OpKind op) {
  switch (GetOpInfo(op).op_class) {
    case OpClass::kContraction:
    case OpClass::kReduction:
    case OpClass::kRowwise:
    case OpClass::kLoss:
      return true;
    default:
      return false;
  }
}

FusionPlan PlanFusion(Graph& graph, const std::vector<Node>& outputs,
                      const std::vector<ParameterUpdate>& updates) {
  return Planner(graph, outputs, updates).Plan();
}

std::string FusionPlanToString(Graph& graph, const FusionPlan& plan) {
  std::string text;
  for (const KernelPlan& kernel : plan.kernels) {
    std::string line;
    if (kernel.kind == KernelPlan::Kind::kSnapshot) {
      line = "snapshot";
    } else if (kernel.kind == KernelPlan::Kind::kUpdateCopy) {
      line = "copy";
    } else if (kernel.producer.ok() && !(kernel.producer == kernel.root)) {
      line = absl::StrCat(OpName(kernel.producer.op()), " -> ",
                          OpName(kernel.root.op()));
    } else {
      line = std::string(OpName(kernel.root.op()));
    }
    absl::StrAppend(&line, "  stores %", kernel.root.id());
    if (kernel.updates_in_place.ok()) {
      absl::StrAppend(&line, " into ", kernel.updates_in_place.name());
    }
    absl::StrAppend(&text, line, "\n");
  }
  return text;
}

}  // namespace kiln::jit
