#include "ad/executor.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ad/graph_walk.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

std::string Describe(const LeafSignature& leaf) {
  return absl::StrCat(OpName(leaf.op), " '", leaf.name, "' (",
                      DTypeName(leaf.dtype), ShapeToString(leaf.shape), ")");
}

absl::Status CheckNamesKnown(const FeedMap& feeds,
                             const std::vector<LeafSignature>& leaves) {
  for (const auto& [name, tensor] : feeds) {
    bool known = false;
    for (const LeafSignature& leaf : leaves) known = known || leaf.name == name;
    if (known) continue;
    std::vector<std::string> names;
    for (const LeafSignature& leaf : leaves) names.push_back(leaf.name);
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown feed '", name, "': the graph has no input or parameter of "
        "that name; it has: ", absl::StrJoin(names, ", ")));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<LeafSignature> LeafSignatures(Graph& graph,
                                          const std::vector<Node>& outputs) {
  absl::flat_hash_set<int> reachable;
  for (const Node& node : TopologicalOrder(outputs)) {
    reachable.insert(node.id());
  }
  std::vector<LeafSignature> leaves;
  for (const Node& leaf : graph.Leaves()) {
    leaves.push_back({leaf.name(), leaf.op(), leaf.shape(), leaf.dtype(),
                      reachable.contains(leaf.id())});
  }
  return leaves;
}

absl::Status ValidateFeeds(const FeedMap& feeds,
                           const std::vector<LeafSignature>& leaves) {
  KILN_RETURN_IF_ERROR(CheckNamesKnown(feeds, leaves));
  for (const LeafSignature& leaf : leaves) {
    auto fed = feeds.find(leaf.name);
    if (fed == feeds.end()) {
      if (!leaf.required) continue;
      return absl::InvalidArgumentError(
          absl::StrCat("missing feed for ", Describe(leaf)));
    }
    const Tensor& tensor = fed->second;
    if (tensor.dtype() != leaf.dtype || tensor.shape() != leaf.shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          "feed '", leaf.name, "' is ", DTypeName(tensor.dtype()),
          ShapeToString(tensor.shape()), " but ", OpName(leaf.op), " '",
          leaf.name, "' is ", DTypeName(leaf.dtype),
          ShapeToString(leaf.shape)));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateOutputs(Graph& graph, const std::vector<Node>& outputs,
                             const std::vector<ParameterUpdate>& updates) {
  KILN_RETURN_IF_ERROR(ValidateOutputs(graph, outputs));
  std::vector<Node> values;
  for (const ParameterUpdate& update : updates) values.push_back(update.value);
  KILN_RETURN_IF_ERROR(ValidateOutputs(graph, values));
  absl::flat_hash_set<int> updated;
  for (const ParameterUpdate& update : updates) {
    const Node& parameter = update.parameter;
    if (!parameter.ok() || parameter.graph() != &graph ||
        parameter.op() != OpKind::kParameter) {
      return absl::InvalidArgumentError(
          "an update's target is not a parameter of this graph");
    }
    if (parameter.shape() != update.value.shape() ||
        parameter.dtype() != update.value.dtype()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the update of parameter '", parameter.name(), "' (",
          DTypeName(parameter.dtype()), ShapeToString(parameter.shape()),
          ") has a value of ", DTypeName(update.value.dtype()),
          ShapeToString(update.value.shape())));
    }
    if (!updated.insert(parameter.id()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parameter '", parameter.name(), "' is updated twice"));
    }
  }
  return absl::OkStatus();
}

std::vector<LeafSignature> LeafSignatures(
    Graph& graph, const std::vector<Node>& outputs,
    const std::vector<ParameterUpdate>& updates) {
  std::vector<Node> roots = outputs;
  for (const ParameterUpdate& update : updates) {
    roots.push_back(update.value);
    roots.push_back(update.parameter);
  }
  return LeafSignatures(graph, roots);
}

void Reshape(Tensor& tensor, DType dtype, const Shape& shape) {
  if (tensor.dtype() != dtype || tensor.shape() != shape) {
    tensor = Tensor(dtype, shape);
  }
}

absl::StatusOr<std::vector<Tensor>> Program::Run(const FeedMap& feeds) {
  if (num_updates() > 0) {
    return absl::FailedPreconditionError(
        "this program updates parameters in place; call "
        "Run(FeedMap&, std::vector<Tensor>&)");
  }
  std::vector<Tensor> outputs;
  // Without updates, DoRun leaves the feeds untouched.
  KILN_RETURN_IF_ERROR(DoRun(const_cast<FeedMap&>(feeds), outputs));
  return outputs;
}

absl::Status ValidateOutputs(Graph& graph, const std::vector<Node>& outputs) {
  if (!graph.status().ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the graph failed to build: ", graph.status().message()));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Node& node = outputs[i];
    if (!node.ok() || node.graph() != &graph) {
      return absl::InvalidArgumentError(absl::StrCat(
          "output ", i, " is not a valid node of this graph"));
    }
    if (!graph.IsLive(node.id())) {
      return absl::InvalidArgumentError(
          absl::StrCat("output ", i, " (", OpName(node.op()),
                       ") was removed by dead-code elimination; mark it "
                       "with Graph::AddOutput before running passes"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Tensor>> Evaluate(Executor& executor, Graph& graph,
                                             const std::vector<Node>& outputs,
                                             const FeedMap& feeds) {
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Program> program,
                        executor.Compile(graph, outputs));
  return program->Run(feeds);
}

}  // namespace kiln
