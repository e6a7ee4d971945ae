// Interpreter: runs any graph op by op with the reference kernels.
//
// It is the executor every other one is checked against, so it stays plain:
// one kernel call per node in topological order, each result in its own
// tensor, and every intermediate freed after its last use.
//
//   Interpreter interpreter;
//   absl::StatusOr<std::vector<Tensor>> values =
//       Evaluate(interpreter, graph, {loss}, feeds);

#ifndef KILN_AD_INTERPRETER_H_
#define KILN_AD_INTERPRETER_H_

#include <memory>
#include <vector>

#include "ad/executor.h"

namespace kiln {

class Interpreter : public Executor {
 public:
  absl::string_view name() const override { return "interp"; }

  absl::StatusOr<std::unique_ptr<Program>> Compile(
      Graph& graph, const std::vector<Node>& outputs,
      const std::vector<ParameterUpdate>& updates = {}) override;
};

}  // namespace kiln

#endif  // KILN_AD_INTERPRETER_H_
