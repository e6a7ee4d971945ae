#include "ad/autodiff.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ad/backward_rules.h"
#include "ad/builder.h"
#include "ad/graph_walk.h"

namespace kiln {
namespace {

// Ids of the nodes in `order` through which some node of `wrt` influences
// the output: only these need gradients.
absl::flat_hash_set<int> NodesNeedingGradients(const std::vector<Node>& order,
                                               const std::vector<Node>& wrt) {
  absl::flat_hash_set<int> needed;
  for (const Node& node : wrt) needed.insert(node.id());
  for (const Node& node : order) {
    if (!IsDifferentiable(node.op())) continue;
    for (int i = 0; i < node.num_inputs(); ++i) {
      if (needed.contains(node.input(i).id())) needed.insert(node.id());
    }
  }
  return needed;
}

// Every contribution to a node's gradient passes through here, so fan-out
// is summed in one place.
void Accumulate(absl::flat_hash_map<int, Node>& grads, Node node,
                Node contribution) {
  auto [entry, inserted] = grads.try_emplace(node.id(), contribution);
  if (!inserted) entry->second = entry->second + contribution;
}

absl::Status CheckGradArguments(Node output, const std::vector<Node>& wrt,
                                Node cotangent) {
  auto error = [](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("grad: ", parts...));
  };
  for (const Node& node : wrt) {
    if (node.graph() != output.graph()) {
      return error("a node to differentiate with respect to belongs to "
                   "another graph");
    }
  }
  if (cotangent.graph() != output.graph()) {
    return error("the cotangent belongs to another graph");
  }
  if (cotangent.shape() != output.shape() ||
      cotangent.dtype() != output.dtype()) {
    return error("the output is ", DTypeName(output.dtype()),
                 ShapeToString(output.shape()), " but the cotangent is ",
                 DTypeName(cotangent.dtype()),
                 ShapeToString(cotangent.shape()),
                 output.shape().empty() ? "" : "; differentiate a scalar loss");
  }
  return absl::OkStatus();
}

}  // namespace

Node Gradients::operator[](Node wrt) const {
  for (const auto& [node, grad] : pairs_) {
    if (node == wrt) return grad;
  }
  return Node();
}

Gradients Grad(Node loss, const std::vector<Node>& wrt,
               std::source_location where) {
  if (!loss.ok()) return Grad(loss, wrt, loss, where);
  Node seed = loss.graph()->Fill(1.0, {}, loss.dtype(), where);
  return Grad(loss, wrt, seed, where);
}

Gradients Grad(Node output, const std::vector<Node>& wrt, Node cotangent,
               std::source_location where) {
  Gradients result;
  Graph* graph = output.graph();
  bool usable = output.ok() && cotangent.ok();
  for (const Node& node : wrt) usable = usable && node.ok();
  if (!usable) {
    for (const Node& node : wrt) result.pairs_.push_back({node, Node()});
    return result;
  }
  if (absl::Status checked = CheckGradArguments(output, wrt, cotangent);
      !checked.ok()) {
    graph->Fail(absl::InvalidArgumentError(absl::StrCat(
        checked.message(), " (at ", LocationString(where), ")")));
    for (const Node& node : wrt) result.pairs_.push_back({node, Node()});
    return result;
  }

  // Walk the nodes from the output back, handing each node's accumulated
  // gradient to its backward rule.
  const std::vector<Node> order = TopologicalOrder({output});
  const absl::flat_hash_set<int> needed = NodesNeedingGradients(order, wrt);
  absl::flat_hash_map<int, Node> grads;
  grads.emplace(output.id(), cotangent);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Node node = *it;
    auto grad = grads.find(node.id());
    if (grad == grads.end() || !needed.contains(node.id())) continue;
    VjpArgs args{node, grad->second, {}};
    for (int i = 0; i < node.num_inputs(); ++i) {
      args.wanted.push_back(needed.contains(node.input(i).id()));
    }
    std::vector<Node> input_grads = GetBackwardRule(node.op())(args);
    for (int i = 0; i < node.num_inputs(); ++i) {
      if (args.wants(i) && input_grads[i].ok()) {
        Accumulate(grads, node.input(i), input_grads[i]);
      }
    }
  }

  for (const Node& node : wrt) {
    auto grad = grads.find(node.id());
    Node value = grad != grads.end() ? grad->second
                                     : FillLike(node, 0.0, where);
    result.pairs_.push_back({node, value});
  }
  return result;
}

}  // namespace kiln
