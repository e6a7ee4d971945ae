// Interpreter: runs any graph op by op with the reference kernels.
//
// It is the executor every other one is checked against, so it stays plain:
// one kernel call per node in topological order, each result in its own
// tensor, and every intermediate freed after its last use.
//
//   Interpreter interpreter;
//   absl::StatusOr<std::vector<Tensor>> values =
//       Evaluate(interpreter, graph, {loss}, feeds);
//
// Two safeguards come with it. Compile refuses, with kResourceExhausted, a
// program whose live tensors would at some point exceed the memory budget
// (ad/memory_budget.h). With check_numerics, every run checks each fed
// tensor and each node's result as soon as its kernel returns, and fails at
// the first NaN or infinity with kInvalidArgument naming the node's op, its
// source line, the element and its shape:
//
//   Interpreter checked({.check_numerics = true});
//   // "check_numerics: log (at model.cc:12) produced nan at element 3 [0,3]
//   //  of f64[2,5]; every input of it was finite"

#ifndef KILN_AD_INTERPRETER_H_
#define KILN_AD_INTERPRETER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ad/executor.h"

namespace kiln {

struct InterpreterOptions {
  // The most bytes a program's tensors may hold at once; 0 for the default
  // of DefaultMemoryBudget().
  int64_t memory_budget_bytes = 0;
  // Check every tensor for NaN and infinity after every kernel. It costs a
  // pass over each result, so it is off unless asked for.
  bool check_numerics = false;
};

class Interpreter : public Executor {
 public:
  Interpreter() = default;
  explicit Interpreter(InterpreterOptions options) : options_(options) {}

  absl::string_view name() const override { return "interp"; }

  absl::StatusOr<std::unique_ptr<Program>> Compile(
      Graph& graph, const std::vector<Node>& outputs,
      const std::vector<ParameterUpdate>& updates = {}) override;

 private:
  InterpreterOptions options_;
};

}  // namespace kiln

#endif  // KILN_AD_INTERPRETER_H_
