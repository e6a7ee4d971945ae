// Graph and Node: the computation graph that every part of Kiln works on.
//
// A Graph is a list of nodes in static single assignment form: each node is
// one op applied to earlier nodes, and it is never changed after it is built
// except by passes. A Node is a cheap handle (graph pointer and index) that
// users hold and combine with the builder functions of ad/builder.h:
//
//   Graph g;
//   Node x = g.Input("x", {100, 784}, kF32);
//   Node w = g.Parameter("w", {784, 10}, kF32);
//   Node y = Sigmoid(MatMul(x, w));
//   if (!g.status().ok()) return g.status();
//
// Errors. Every node is checked when it is built: arity, dtypes and the op's
// shape rule. A failure does not throw and does not abort. The graph records
// the first error, with the op, the shapes and the caller's file:line, and
// returns an invalid Node; ops applied to invalid nodes give invalid nodes
// without further messages. Check Graph::status() once after building, as
// with a stream. Executors refuse a graph whose status is not OK.
//
// Passes rewrite graphs in place. A node that a pass replaces forwards to its
// replacement, so handles the user holds stay meaningful: Node::id() and the
// accessors always describe the current replacement. Nodes are never erased,
// only marked dead, so indices stay stable.
//
// A Graph is not thread-safe, and it must outlive its Nodes. It cannot be
// copied or moved, since Nodes point at it.

#ifndef KILN_AD_GRAPH_H_
#define KILN_AD_GRAPH_H_

#include <optional>
#include <source_location>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ops/attributes.h"
#include "ops/dtype.h"
#include "ops/op.h"
#include "ops/shape.h"
#include "ops/tensor.h"

namespace kiln {

class Graph;

// What a graph stores for each node.
struct NodeData {
  OpKind op = OpKind::kFill;
  std::vector<int> inputs;
  Attributes attributes;
  Shape shape;
  DType dtype = DType::kF32;
  // Inputs and parameters are fed by this name; other nodes may leave it
  // empty.
  std::string name;
  // Where the user's code built the node, for error messages.
  std::source_location where;
  // Set by passes: the node that replaced this one, or -1.
  int replaced_by = -1;
  // Set by dead-code elimination: nothing computes from this node any more.
  bool dead = false;
};

class Node {
 public:
  // An invalid node belonging to no graph. Failed builds return invalid nodes
  // that still know their graph, so that errors keep propagating.
  Node() = default;

  // True if this handle refers to a node of a graph.
  bool ok() const { return graph_ != nullptr && id_ >= 0; }

  Graph* graph() const { return graph_; }

  // The index of the node in its graph, after following replacements.
  int id() const;

  // Accessors; the node must be ok().
  OpKind op() const { return data().op; }
  const Shape& shape() const { return data().shape; }
  DType dtype() const { return data().dtype; }
  int rank() const { return static_cast<int>(shape().size()); }
  const std::string& name() const { return data().name; }
  const Attributes& attributes() const { return data().attributes; }
  int num_inputs() const { return static_cast<int>(data().inputs.size()); }
  Node input(int index) const;

  // Two handles are equal when they refer to the same current node.
  bool operator==(const Node& other) const {
    return graph_ == other.graph_ && (!ok() || id() == other.id());
  }

 private:
  friend class Graph;
  Node(Graph* graph, int id) : graph_(graph), id_(id) {}
  const NodeData& data() const;

  Graph* graph_ = nullptr;
  int id_ = -1;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // ---- Leaves ----

  // A value fed at every run under `name`, such as a batch of images. Names
  // of inputs and parameters are unique within a graph.
  Node Input(std::string name, Shape shape, DType dtype,
             std::source_location where = std::source_location::current());

  // A trainable value fed by name. It differs from an input only in intent:
  // trainers update parameters, and printers show them apart.
  Node Parameter(
      std::string name, Shape shape, DType dtype,
      std::source_location where = std::source_location::current());

  // A fixed tensor baked into the graph.
  Node Constant(Tensor value, std::source_location where =
                                  std::source_location::current());

  // A tensor of `shape` whose every element is `value`.
  Node Fill(double value, Shape shape, DType dtype,
            std::source_location where = std::source_location::current());

  // ---- Building ----

  // Adds `op` applied to `inputs`, after checking arity, dtypes and the op's
  // shape rule. This is the one place nodes are validated; the builder
  // functions of ad/builder.h all end here.
  Node AddNode(OpKind op, std::span<const Node> inputs, Attributes attributes,
               std::source_location where);

  // The first error met while building, or OK.
  const absl::Status& status() const { return status_; }

  // Records `error` unless an earlier error is recorded; returns an invalid
  // Node of this graph for the caller to hand back.
  Node Fail(absl::Status error);

  // ---- Inspection ----

  // Number of node slots, including dead and replaced nodes.
  int num_slots() const { return static_cast<int>(nodes_.size()); }

  // The handle of slot `id`, after following replacements.
  Node node(int id) { return Node(this, Resolve(id)); }
  const NodeData& data(int id) const { return nodes_[Resolve(id)]; }

  // Follows replacements from slot `id` to the current node.
  int Resolve(int id) const;

  // Inputs and parameters, in the order they were declared.
  std::vector<Node> Leaves();

  // The input or parameter called `name`, if any.
  std::optional<Node> FindLeaf(absl::string_view name);

  // Nodes the user wants computed. Passes keep everything they depend on.
  void AddOutput(Node node);
  std::vector<Node> Outputs();

  // ---- Rewriting, for passes ----

  // Makes every use of `old_node`, including outputs and user handles,
  // refer to `replacement` instead. Both must have one shape and dtype.
  void ReplaceAllUses(Node old_node, Node replacement);

  // Marks slot `id` dead.
  void MarkDead(int id) { nodes_[id].dead = true; }

  // True if slot `id` is neither replaced nor dead.
  bool IsLive(int id) const {
    return nodes_[id].replaced_by < 0 && !nodes_[id].dead;
  }

 private:
  Node AddLeaf(OpKind op, std::string name, Shape shape, DType dtype,
               Attributes attributes, std::source_location where);
  absl::Status CheckInputs(OpKind op, std::span<const Node> inputs,
                           std::source_location where);

  std::vector<NodeData> nodes_;
  absl::flat_hash_map<std::string, int> leaves_by_name_;
  std::vector<int> leaf_order_;
  std::vector<int> outputs_;
  absl::Status status_;
};

// "file.cc:12", the form error messages use for source locations.
std::string LocationString(const std::source_location& where);

}  // namespace kiln

#endif  // KILN_AD_GRAPH_H_
