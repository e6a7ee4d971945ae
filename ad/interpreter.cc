#include "ad/interpreter.h"

#include "absl/container/flat_hash_map.h"
#include "ad/graph_walk.h"
#include "ops/base/check.h"
#include "ops/base/status_macros.h"
#include "ops/kernels.h"

namespace kiln {
namespace {

// One node to compute, copied out of the graph so that the program does not
// depend on the graph staying alive or unchanged.
struct Step {
  OpKind op;
  std::vector<int> inputs;  // Indices of earlier steps.
  Attributes attributes;
  Shape shape;
  DType dtype;
  std::string name;  // For inputs and parameters: the feed's name.
  int last_use = -1;  // The last step reading this one's value.
};

class InterpretedProgram : public Program {
 public:
  InterpretedProgram(std::vector<Step> steps, std::vector<int> outputs,
                     std::vector<LeafSignature> leaves)
      : steps_(std::move(steps)),
        outputs_(std::move(outputs)),
        leaves_(std::move(leaves)) {}

  absl::StatusOr<std::vector<Tensor>> Run(const FeedMap& feeds) override;

 private:
  std::vector<Step> steps_;
  std::vector<int> outputs_;
  std::vector<LeafSignature> leaves_;
};

absl::StatusOr<std::vector<Tensor>> InterpretedProgram::Run(
    const FeedMap& feeds) {
  KILN_RETURN_IF_ERROR(ValidateFeeds(feeds, leaves_));

  // values[i] points at step i's result: a feed, or a tensor in `owned`.
  std::vector<Tensor> owned(steps_.size());
  std::vector<const Tensor*> values(steps_.size(), nullptr);
  std::vector<const Tensor*> inputs;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& step = steps_[i];
    if (step.op == OpKind::kInput || step.op == OpKind::kParameter) {
      values[i] = &feeds.find(step.name)->second;
    } else {
      inputs.clear();
      for (int input : step.inputs) inputs.push_back(values[input]);
      owned[i] = Tensor(step.dtype, step.shape);
      GetOpInfo(step.op).kernel(inputs, step.attributes, owned[i]);
      values[i] = &owned[i];
    }
    // Release inputs whose last reader this was.
    for (int input : step.inputs) {
      if (steps_[input].last_use == static_cast<int>(i)) owned[input] = {};
    }
  }

  std::vector<Tensor> results;
  for (int output : outputs_) results.push_back(*values[output]);
  return results;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Program>> Interpreter::Compile(
    Graph& graph, const std::vector<Node>& outputs) {
  KILN_RETURN_IF_ERROR(ValidateOutputs(graph, outputs));

  std::vector<Step> steps;
  absl::flat_hash_map<int, int> step_of_node;
  for (const Node& node : TopologicalOrder(outputs)) {
    Step step{node.op(), {}, node.attributes(), node.shape(), node.dtype(),
              node.name()};
    for (int i = 0; i < node.num_inputs(); ++i) {
      const int input = step_of_node.at(node.input(i).id());
      step.inputs.push_back(input);
      steps[input].last_use = static_cast<int>(steps.size());
    }
    step_of_node[node.id()] = static_cast<int>(steps.size());
    steps.push_back(std::move(step));
  }

  // Outputs live to the end: no step may free them.
  std::vector<int> output_steps;
  for (const Node& node : outputs) {
    const int step = step_of_node.at(node.id());
    steps[step].last_use = static_cast<int>(steps.size());
    output_steps.push_back(step);
  }
  return std::make_unique<InterpretedProgram>(
      std::move(steps), std::move(output_steps),
      LeafSignatures(graph, outputs));
}

}  // namespace kiln
