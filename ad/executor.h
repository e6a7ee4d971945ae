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

class Program {
 public:
  virtual ~Program() = default;

  // Computes the program's outputs, in the order given to Compile.
  virtual absl::StatusOr<std::vector<Tensor>> Run(const FeedMap& feeds) = 0;
};

class Executor {
 public:
  virtual ~Executor() = default;

  // A short name such as "interp" or "jit".
  virtual absl::string_view name() const = 0;

  // Prepares `outputs` of `graph` to be computed. The program keeps its own
  // copy of what it needs, so the graph may change or die afterwards.
  virtual absl::StatusOr<std::unique_ptr<Program>> Compile(
      Graph& graph, const std::vector<Node>& outputs) = 0;
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

}  // namespace kiln

#endif  // KILN_AD_EXECUTOR_H_
