#include "ad/passes/printer.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ad/passes/rewrite.h"

namespace kiln {
namespace {

// The shortest "%g" form of `value` that reads back as the same value of
// `dtype`: 9 significant digits always suffice for f32 and 17 for f64.
std::string FormatScalar(double value, DType dtype) {
  const int max_digits = dtype == DType::kF32 ? 9 : 17;
  char buffer[32];
  for (int digits = 1; digits <= max_digits; ++digits) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", digits, value);
    const bool same =
        dtype == DType::kF32
            ? std::strtof(buffer, nullptr) == static_cast<float>(value)
            : std::strtod(buffer, nullptr) == value;
    if (same) break;
  }
  return buffer;
}

// "f32[100,784]".
std::string TypeString(Node node) {
  return absl::StrCat(DTypeName(node.dtype()), ShapeToString(node.shape()));
}

// The attributes of an op node that differ from their defaults, as
// "axis=1, keepdims=true". Leaves describe themselves instead (LeafText).
std::string AttributeList(Node node) {
  const Attributes& a = node.attributes();
  std::vector<std::string> parts;
  if (a.axis != 0) parts.push_back(absl::StrCat("axis=", a.axis));
  if (a.keepdims) parts.push_back("keepdims=true");
  if (a.scalar != 0.0) {
    parts.push_back("scalar=" + FormatScalar(a.scalar, node.dtype()));
  }
  if (!a.shape.empty()) parts.push_back("shape=" + ShapeToString(a.shape));
  if (!a.permutation.empty()) {
    parts.push_back(
        absl::StrCat("permutation=[", absl::StrJoin(a.permutation, ","), "]"));
  }
  if (a.num_classes != 0) {
    parts.push_back(absl::StrCat("num_classes=", a.num_classes));
  }
  return absl::StrJoin(parts, ", ");
}

// "sum[axis=1]", or just "add" when every attribute is at its default.
std::string OpLabel(Node node) {
  std::string attributes = AttributeList(node);
  if (attributes.empty()) return std::string(OpName(node.op()));
  return absl::StrCat(OpName(node.op()), "[", attributes, "]");
}

// The first few values of a constant, as "{1, 2, 3, ...}".
std::string ConstantValues(Node node) {
  constexpr int64_t kShown = 4;
  const Tensor& value = *node.attributes().value;
  std::vector<std::string> shown;
  for (int64_t i = 0; i < std::min(kShown, value.num_elements()); ++i) {
    shown.push_back(FormatScalar(value.At(i), value.dtype()));
  }
  if (value.num_elements() > kShown) shown.push_back("...");
  return absl::StrCat("{", absl::StrJoin(shown, ", "), "}");
}

// What a leaf holds or is fed by: `input "x"`, `fill 0.5`, `constant {..}`.
std::string LeafText(Node node) {
  if (IsFedLeaf(node)) {
    return absl::StrCat(OpName(node.op()), " \"", node.name(), "\"");
  }
  if (Is(node, OpKind::kFill)) {
    return "fill " + FormatScalar(node.attributes().scalar, node.dtype());
  }
  return "constant " + ConstantValues(node);
}

std::string NodeLine(Node node) {
  std::string body;
  if (node.num_inputs() == 0) {
    body = LeafText(node);
  } else {
    std::vector<std::string> inputs;
    for (int i = 0; i < node.num_inputs(); ++i) {
      inputs.push_back(absl::StrCat("%", node.input(i).id()));
    }
    body = absl::StrCat(OpLabel(node), "(", absl::StrJoin(inputs, ", "), ")");
  }
  return absl::StrCat("%", node.id(), " = ", body, " : ", TypeString(node));
}

// Double quotes and backslashes escaped for a Graphviz string.
std::string DotEscape(absl::string_view text) {
  std::string escaped;
  for (char c : text) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return escaped;
}

// Graphviz attributes that tell leaves and ops apart at a glance.
absl::string_view DotStyle(Node node) {
  if (Is(node, OpKind::kInput)) {
    return "shape=box, style=filled, fillcolor=lightblue";
  }
  if (Is(node, OpKind::kParameter)) {
    return "shape=box, style=filled, fillcolor=palegreen";
  }
  if (IsConstantLeaf(node)) {
    return "shape=box, style=filled, fillcolor=lightgrey";
  }
  return "shape=ellipse";
}

std::string DotNode(Node node, bool is_output) {
  std::string label = node.num_inputs() == 0 ? LeafText(node) : OpLabel(node);
  return absl::StrCat("  n", node.id(), " [label=\"", DotEscape(label), "\\n",
                      TypeString(node), "\", ", DotStyle(node),
                      is_output ? ", peripheries=2" : "", "];\n");
}

// Graphviz puts a node in the cluster subgraph that names it, so each
// cluster only lists its members; the nodes were declared above.
std::string DotClusters(const std::vector<int>& order,
                        const std::vector<DotCluster>& clusters) {
  absl::flat_hash_set<int> live(order.begin(), order.end());
  absl::flat_hash_set<int> placed;
  std::string dot;
  for (size_t c = 0; c < clusters.size(); ++c) {
    std::string members;
    for (int id : clusters[c].node_ids) {
      if (!live.contains(id) || !placed.insert(id).second) continue;
      absl::StrAppend(&members, " n", id, ";");
    }
    if (members.empty()) continue;
    absl::StrAppend(&dot, "  subgraph cluster_", c, " {\n    label=\"",
                    DotEscape(clusters[c].label),
                    "\"; style=\"rounded,dashed\"; color=\"#888888\";\n   ",
                    members, "\n  }\n");
  }
  return dot;
}

}  // namespace

std::string GraphToText(Graph& graph) {
  std::string text;
  for (int id : LiveNodesInTopologicalOrder(graph)) {
    absl::StrAppend(&text, NodeLine(graph.node(id)), "\n");
  }
  std::vector<std::string> outputs;
  for (const Node& output : graph.Outputs()) {
    outputs.push_back(absl::StrCat("%", output.id()));
  }
  if (!outputs.empty()) {
    absl::StrAppend(&text, "outputs ", absl::StrJoin(outputs, ", "), "\n");
  }
  return text;
}

std::string ExpressionString(Node node) {
  if (IsFedLeaf(node)) return node.name();
  if (Is(node, OpKind::kFill)) {
    return FormatScalar(node.attributes().scalar, node.dtype());
  }
  if (Is(node, OpKind::kConstant)) {
    return absl::StrCat("constant<", TypeString(node), ">");
  }
  std::vector<std::string> inputs;
  for (int i = 0; i < node.num_inputs(); ++i) {
    inputs.push_back(ExpressionString(node.input(i)));
  }
  return absl::StrCat(OpLabel(node), "(", absl::StrJoin(inputs, ", "), ")");
}

std::string GraphToDot(Graph& graph) { return GraphToDot(graph, {}); }

std::string GraphToDot(Graph& graph, const std::vector<DotCluster>& clusters) {
  absl::flat_hash_set<int> outputs;
  for (const Node& output : graph.Outputs()) outputs.insert(output.id());

  std::string dot = "digraph kiln {\n  node [fontname=\"monospace\"];\n";
  const std::vector<int> order = LiveNodesInTopologicalOrder(graph);
  for (int id : order) {
    absl::StrAppend(&dot, DotNode(graph.node(id), outputs.contains(id)));
  }
  absl::StrAppend(&dot, DotClusters(order, clusters));
  for (int id : order) {
    Node node = graph.node(id);
    for (int i = 0; i < node.num_inputs(); ++i) {
      absl::StrAppend(&dot, "  n", node.input(i).id(), " -> n", id, ";\n");
    }
  }
  dot += "}\n";
  return dot;
}

}  // namespace kiln
