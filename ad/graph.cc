#include "ad/graph.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/base/check.h"

namespace kiln {
namespace {

std::string ShapeList(std::span<const Node> inputs) {
  std::vector<std::string> shapes;
  for (const Node& node : inputs) shapes.push_back(ShapeToString(node.shape()));
  return absl::StrJoin(shapes, " and ");
}

}  // namespace

std::string LocationString(const std::source_location& where) {
  return absl::StrCat(where.file_name(), ":", where.line());
}

// ---- Node ----

int Node::id() const {
  KILN_CHECK(ok()) << "id() of an invalid node";
  return graph_->Resolve(id_);
}

const NodeData& Node::data() const {
  KILN_CHECK(ok()) << "accessor called on an invalid node";
  return graph_->data(id_);
}

Node Node::input(int index) const {
  KILN_CHECK(index >= 0 && index < num_inputs())
      << "input " << index << " of a node with " << num_inputs();
  return graph_->node(data().inputs[index]);
}

// ---- Graph: leaves ----

Node Graph::Input(std::string name, Shape shape, DType dtype,
                  std::source_location where) {
  return AddLeaf(OpKind::kInput, std::move(name), std::move(shape), dtype, {},
                 where);
}

Node Graph::Parameter(std::string name, Shape shape, DType dtype,
                      std::source_location where) {
  return AddLeaf(OpKind::kParameter, std::move(name), std::move(shape), dtype,
                 {}, where);
}

Node Graph::Constant(Tensor value, std::source_location where) {
  Attributes attributes;
  const Shape shape = value.shape();
  const DType dtype = value.dtype();
  attributes.value = std::make_shared<const Tensor>(std::move(value));
  return AddLeaf(OpKind::kConstant, "", shape, dtype, std::move(attributes),
                 where);
}

Node Graph::Fill(double value, Shape shape, DType dtype,
                 std::source_location where) {
  Attributes attributes;
  attributes.scalar = value;
  return AddLeaf(OpKind::kFill, "", std::move(shape), dtype,
                 std::move(attributes), where);
}

Node Graph::AddLeaf(OpKind op, std::string name, Shape shape, DType dtype,
                    Attributes attributes, std::source_location where) {
  const bool named = op == OpKind::kInput || op == OpKind::kParameter;
  if (named && name.empty()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        OpName(op), ": a name is required (at ", LocationString(where), ")")));
  }
  if (named && leaves_by_name_.contains(name)) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(OpName(op), ": the name '", name,
                     "' is already used in this graph (at ",
                     LocationString(where), ")")));
  }
  absl::Status valid = ValidateShape(shape);
  if (!valid.ok()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(OpName(op), " '", name, "': ", valid.message(), " (at ",
                     LocationString(where), ")")));
  }

  NodeData data;
  data.op = op;
  data.attributes = std::move(attributes);
  data.attributes.shape = shape;
  data.shape = std::move(shape);
  data.dtype = dtype;
  data.name = std::move(name);
  data.where = where;
  const int id = num_slots();
  if (named) {
    leaves_by_name_[data.name] = id;
    leaf_order_.push_back(id);
  }
  nodes_.push_back(std::move(data));
  return Node(this, id);
}

// ---- Graph: building ----

Node Graph::Fail(absl::Status error) {
  if (status_.ok()) status_ = std::move(error);
  return Node(this, -1);
}

absl::Status Graph::CheckInputs(OpKind op, std::span<const Node> inputs,
                                std::source_location where) {
  const OpInfo& info = GetOpInfo(op);
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat(
        info.name, ": ", parts..., " (at ", LocationString(where), ")"));
  };
  if (static_cast<int>(inputs.size()) != info.arity) {
    return error("takes ", info.arity, " inputs, got ", inputs.size());
  }
  for (const Node& input : inputs) {
    if (input.graph() != this) {
      return error("an input belongs to another graph");
    }
  }
  for (const Node& input : inputs) {
    if (input.dtype() != inputs[0].dtype()) {
      return error("dtype mismatch: ", DTypeName(inputs[0].dtype()), " and ",
                   DTypeName(input.dtype()), " (shapes ", ShapeList(inputs),
                   ")");
    }
  }
  return absl::OkStatus();
}

Node Graph::AddNode(OpKind op, std::span<const Node> inputs,
                    Attributes attributes, std::source_location where) {
  // An invalid input means an error is already recorded: pass it on quietly.
  for (const Node& input : inputs) {
    if (input.graph() == this && !input.ok()) return Node(this, -1);
  }
  for (const Node& input : inputs) {
    if (!input.ok()) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(OpName(op), ": an input is an invalid Node (at ",
                       LocationString(where), ")")));
    }
  }
  if (absl::Status checked = CheckInputs(op, inputs, where); !checked.ok()) {
    return Fail(std::move(checked));
  }

  std::vector<Shape> input_shapes;
  for (const Node& input : inputs) input_shapes.push_back(input.shape());
  absl::StatusOr<Shape> shape =
      GetOpInfo(op).shape_rule(input_shapes, attributes);
  if (!shape.ok()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(OpName(op), ": ", shape.status().message(), " (at ",
                     LocationString(where), ")")));
  }
  // Shape rules multiply input dimensions together (a matrix product of
  // [n,1] and [1,n]), so a result can be too large even when every input
  // is valid; its element count must not wrap around.
  if (absl::Status valid = ValidateShape(*shape); !valid.ok()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(OpName(op), ": the result of inputs ", ShapeList(inputs),
                     " is too "
                     "large: ",
                     valid.message(), " (at ", LocationString(where), ")")));
  }

  NodeData data;
  data.op = op;
  for (const Node& input : inputs) data.inputs.push_back(input.id());
  data.attributes = std::move(attributes);
  data.shape = *std::move(shape);
  data.dtype = inputs.empty() ? DType::kF32 : inputs[0].dtype();
  data.where = where;
  nodes_.push_back(std::move(data));
  return Node(this, num_slots() - 1);
}

// ---- Graph: inspection ----

int Graph::Resolve(int id) const {
  KILN_CHECK(id >= 0 && id < num_slots()) << "node " << id;
  while (nodes_[id].replaced_by >= 0) id = nodes_[id].replaced_by;
  return id;
}

std::vector<Node> Graph::Leaves() {
  std::vector<Node> leaves;
  for (int id : leaf_order_) leaves.push_back(Node(this, id));
  return leaves;
}

std::optional<Node> Graph::FindLeaf(absl::string_view name) {
  auto found = leaves_by_name_.find(name);
  if (found == leaves_by_name_.end()) return std::nullopt;
  return Node(this, found->second);
}

void Graph::AddOutput(Node node) {
  KILN_CHECK(node.graph() == this) << "output from another graph";
  if (node.ok()) outputs_.push_back(node.id());
}

std::vector<Node> Graph::Outputs() {
  std::vector<Node> outputs;
  for (int id : outputs_) outputs.push_back(node(id));
  return outputs;
}

// ---- Graph: rewriting ----

void Graph::ReplaceAllUses(Node old_node, Node replacement) {
  const int old_id = old_node.id();
  const int new_id = replacement.id();
  if (old_id == new_id) return;
  KILN_CHECK(old_node.shape() == replacement.shape() &&
             old_node.dtype() == replacement.dtype())
      << "replacing " << OpName(old_node.op()) << " "
      << ShapeToString(old_node.shape()) << " by "
      << OpName(replacement.op()) << " "
      << ShapeToString(replacement.shape());
  nodes_[old_id].replaced_by = new_id;
  // Rewrite stored inputs eagerly so that passes see direct edges; handles
  // and outputs resolve through replaced_by when read.
  for (NodeData& data : nodes_) {
    for (int& input : data.inputs) {
      if (input == old_id) input = new_id;
    }
  }
}

}  // namespace kiln
