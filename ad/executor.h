// Executor and Program: the interface every way of running a graph shares.
//
// An Executor turns a graph and the nodes wanted from it into a Program; the
// Program then runs any number of times on fresh feeds. The interpreter
// (ad/interpreter.h) and the JIT both implement it, so trainers, tests and
// benchmarks switch between them freely.
//
//   Interpreter interpreter;
//   absl::StatusOr<std::unique_ptr<Program>> program =
//       interpreter.Compile(graph, {loss, grads[w]});
//   FeedMap feeds = {{"x", x_batch}, {"w", w_value}};
//   absl::StatusOr<std::vector<Tensor>> values = (*program)->Run(feeds);
//
// A training step also updates parameters. Compiled with updates, a program
// overwrites each updated parameter's fed tensor with its new value, which
// is computed from the values before the run; and it writes its outputs into
// tensors the caller keeps, so that a loop of steps allocates nothing:
//
//   auto step = interpreter.Compile(graph, {loss}, {{w, w - grads[w] * lr}});
//   std::vector<Tensor> outputs;
//   for (...) KILN_RETURN_IF_ERROR((*step)->Run(feeds, outputs));
//
// Feeds are matched to the graph's inputs and parameters by name. Errors are
// statuses: a graph that failed to build, an unknown feed name, a missing
// feed, or a feed of the wrong shape or dtype.

#ifndef KILN_AD_EXECUTOR_H_
#define KILN_AD_EXECUTOR_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ad/graph.h"
#include "ops/op.h"
#include "ops/tensor.h"

namespace kiln {

// Values for a graph's inputs and parameters, by name.
using FeedMap = std::map<std::string, Tensor, std::less<>>;

// After each run, `parameter` holds what `value` computed.
struct ParameterUpdate {
  Node parameter;
  Node value;
};

class Program {
 public:
  virtual ~Program() = default;

  // Computes the program's outputs, in the order given to Compile, into
  // fresh tensors. Fails for a program with updates, which need the feeds
  // to be writable.
  absl::StatusOr<std::vector<Tensor>> Run(const FeedMap& feeds);

  // Computes the outputs into `outputs`, reusing each tensor whose shape and
  // dtype already fit, and writes every update into its parameter's tensor
  // in `feeds`.
  absl::Status Run(FeedMap& feeds, std::vector<Tensor>& outputs) {
    return DoRun(feeds, outputs);
  }

  // The number of parameters each run updates.
  virtual int num_updates() const = 0;

 protected:
  virtual absl::Status DoRun(FeedMap& feeds, std::vector<Tensor>& outputs) = 0;
};

class Executor {
 public:
  virtual ~Executor() = default;

  // A short name such as "interp" or "jit".
  virtual absl::string_view name() const = 0;

  // Prepares `outputs` of `graph` to be computed, and `updates` to be
  // applied, by every run. The program keeps its own copy of what it needs,
  // so the graph may change or die afterwards.
  virtual absl::StatusOr<std::unique_ptr<Program>> Compile(
      Graph& graph, const std::vector<Node>& outputs,
      const std::vector<ParameterUpdate>& updates = {}) = 0;
};

// Compiles `outputs` and runs them once.
absl::StatusOr<std::vector<Tensor>> Evaluate(Executor& executor, Graph& graph,
                                             const std::vector<Node>& outputs,
                                             const FeedMap& feeds);

// What a compiled program knows of one input or parameter of its graph.
struct LeafSignature {
  std::string name;
  OpKind op;  // kInput or kParameter.
  Shape shape;
  DType dtype;
  // Whether the program's outputs depend on it, so that it must be fed.
  bool required;
};

// The signatures of every input and parameter of `graph`, marking those
// that `outputs` depend on as required.
std::vector<LeafSignature> LeafSignatures(Graph& graph,
                                          const std::vector<Node>& outputs);

// Checks `feeds` against a program's leaves: every name must belong to the
// graph, every required leaf must be fed, and each tensor must have its
// leaf's shape and dtype. Executors share it so that they reject bad feeds
// with the same messages.
absl::Status ValidateFeeds(const FeedMap& feeds,
                           const std::vector<LeafSignature>& leaves);

// Checks that `graph` built without error and that every output is a live
// node of it.
absl::Status ValidateOutputs(Graph& graph, const std::vector<Node>& outputs);

// Checks that `graph` built without error, that every output is a live
// node of it, and that each update pairs a parameter with a value of its
// shape and dtype, at most once per parameter.
absl::Status ValidateOutputs(Graph& graph, const std::vector<Node>& outputs,
                             const std::vector<ParameterUpdate>& updates);

// The signatures of every input and parameter that `outputs` or the updates'
// values depend on.
std::vector<LeafSignature> LeafSignatures(
    Graph& graph, const std::vector<Node>& outputs,
    const std::vector<ParameterUpdate>& updates);

// Makes `tensor` a tensor of `dtype` and `shape`, keeping its storage when
// it already has them.
void Reshape(Tensor& tensor, DType dtype, const Shape& shape);

}  // namespace kiln

#endif  // KILN_AD_EXECUTOR_H_
