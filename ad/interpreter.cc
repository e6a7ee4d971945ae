#include "ad/interpreter.h"

#include <algorithm>
#include <cstring>
#include <source_location>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "ad/graph_walk.h"
#include "ad/memory_budget.h"
#include "ops/base/check.h"
#include "ops/base/status_macros.h"
#include "ops/kernels.h"
#include "ops/numerics.h"

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
  // Where the node was built, for messages.
  std::source_location where;
};

bool IsFed(const Step& step) {
  return step.op == OpKind::kInput || step.op == OpKind::kParameter;
}

// The bytes Tensor allocates for a step's result: whole 64-byte lines.
int64_t AllocatedBytes(const Step& step) {
  const int64_t bytes = SaturatingAdd(
      NumElements(step.shape) * static_cast<int64_t>(DTypeSize(step.dtype)),
      63);
  return std::max<int64_t>(bytes / 64, 1) * 64;
}

std::string Describe(const Step& step) {
  return absl::StrCat(OpName(step.op), " ", DTypeName(step.dtype),
                      ShapeToString(step.shape), " (at ",
                      LocationString(step.where), ")");
}

// The most bytes the steps' results hold at once during a run, outputs'
// copies included, found by replaying the order in which DoRun allocates
// and frees them.
int64_t PeakBytes(const std::vector<Step>& steps,
                  const std::vector<int>& outputs, LargestBuffer& largest) {
  int64_t live = 0;
  int64_t peak = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& step = steps[i];
    if (!IsFed(step)) {
      const int64_t bytes = AllocatedBytes(step);
      live = SaturatingAdd(live, bytes);
      if (bytes > largest.bytes) largest = {bytes, Describe(step)};
    }
    peak = std::max(peak, live);
    for (int input : step.inputs) {
      if (steps[input].last_use == static_cast<int>(i) &&
          !IsFed(steps[input])) {
        live -= AllocatedBytes(steps[input]);
      }
    }
  }
  for (int output : outputs) {
    live = SaturatingAdd(live, AllocatedBytes(steps[output]));
  }
  return std::max(peak, live);
}

absl::Status NonFiniteFeed(const Step& step, const Tensor& tensor,
                           const NonFiniteValue& bad) {
  return absl::InvalidArgumentError(absl::StrCat(
      "check_numerics: feed '", step.name, "' of ", OpName(step.op), " ",
      DTypeName(tensor.dtype()), ShapeToString(tensor.shape()), " holds ",
      DescribeNonFinite(bad, tensor.shape())));
}

absl::Status NonFiniteResult(const Step& step, const NonFiniteValue& bad) {
  return absl::InvalidArgumentError(absl::StrCat(
      "check_numerics: ", OpName(step.op), " (at ", LocationString(step.where),
      ") produced ", DescribeNonFinite(bad, step.shape), " of ",
      DTypeName(step.dtype), ShapeToString(step.shape),
      "; every input of it was finite"));
}

// A parameter to overwrite after a run, and the step computing its value.
struct StepUpdate {
  std::string parameter;
  int step;
};

// Copies `source` into `target`, reusing target's storage when it fits.
void CopyInto(const Tensor& source, Tensor& target) {
  if (&source == &target) return;
  Reshape(target, source.dtype(), source.shape());
  std::memcpy(target.raw_data(), source.raw_data(), source.num_bytes());
}

class InterpretedProgram : public Program {
 public:
  InterpretedProgram(std::vector<Step> steps, std::vector<int> outputs,
                     std::vector<StepUpdate> updates,
                     std::vector<LeafSignature> leaves, bool check_numerics)
      : steps_(std::move(steps)),
        outputs_(std::move(outputs)),
        updates_(std::move(updates)),
        leaves_(std::move(leaves)),
        check_numerics_(check_numerics) {}

  int num_updates() const override { return updates_.size(); }

 protected:
  absl::Status DoRun(FeedMap& feeds, std::vector<Tensor>& outputs) override;

 private:
  std::vector<Step> steps_;
  std::vector<int> outputs_;
  std::vector<StepUpdate> updates_;
  std::vector<LeafSignature> leaves_;
  bool check_numerics_;
};

absl::Status InterpretedProgram::DoRun(FeedMap& feeds,
                                       std::vector<Tensor>& outputs) {
  KILN_RETURN_IF_ERROR(ValidateFeeds(feeds, leaves_));

  // values[i] points at step i's result: a feed, or a tensor in `owned`.
  std::vector<Tensor> owned(steps_.size());
  std::vector<const Tensor*> values(steps_.size(), nullptr);
  std::vector<const Tensor*> inputs;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& step = steps_[i];
    if (IsFed(step)) {
      values[i] = &feeds.find(step.name)->second;
    } else {
      inputs.clear();
      for (int input : step.inputs) inputs.push_back(values[input]);
      owned[i] = Tensor(step.dtype, step.shape);
      GetOpInfo(step.op).kernel(inputs, step.attributes, owned[i]);
      values[i] = &owned[i];
    }
    // Nothing is written back before the checks pass, so a failed run
    // leaves the parameters as they were fed.
    if (check_numerics_) {
      if (std::optional<NonFiniteValue> bad = FindNonFinite(*values[i])) {
        return IsFed(step) ? NonFiniteFeed(step, *values[i], *bad)
                           : NonFiniteResult(step, *bad);
      }
    }
    // Release inputs whose last reader this was.
    for (int input : step.inputs) {
      if (steps_[input].last_use == static_cast<int>(i)) owned[input] = {};
    }
  }

  // Every value is computed before any parameter is overwritten, so updates
  // see the parameters as they were fed.
  outputs.resize(outputs_.size());
  for (size_t i = 0; i < outputs_.size(); ++i) {
    CopyInto(*values[outputs_[i]], outputs[i]);
  }
  // A value that is itself a fed tensor is copied first, in case another
  // update overwrites that tensor.
  for (const StepUpdate& update : updates_) {
    if (values[update.step] != &owned[update.step]) {
      owned[update.step] = *values[update.step];
      values[update.step] = &owned[update.step];
    }
  }
  for (const StepUpdate& update : updates_) {
    CopyInto(*values[update.step], feeds.find(update.parameter)->second);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Program>> Interpreter::Compile(
    Graph& graph, const std::vector<Node>& outputs,
    const std::vector<ParameterUpdate>& updates) {
  KILN_RETURN_IF_ERROR(ValidateOutputs(graph, outputs, updates));
  KILN_ASSIGN_OR_RETURN(const int64_t budget,
                        ResolveMemoryBudget(options_.memory_budget_bytes));

  std::vector<Node> roots = outputs;
  for (const ParameterUpdate& update : updates) roots.push_back(update.value);
  std::vector<Step> steps;
  absl::flat_hash_map<int, int> step_of_node;
  for (const Node& node : TopologicalOrder(roots)) {
    Step step{node.op(), {}, node.attributes(), node.shape(), node.dtype(),
              node.name()};
    step.where = graph.data(node.id()).where;
    for (int i = 0; i < node.num_inputs(); ++i) {
      const int input = step_of_node.at(node.input(i).id());
      step.inputs.push_back(input);
      steps[input].last_use = static_cast<int>(steps.size());
    }
    step_of_node[node.id()] = static_cast<int>(steps.size());
    steps.push_back(std::move(step));
  }

  // Outputs and updated values live to the end: no step may free them.
  auto keep = [&](const Node& node) {
    const int step = step_of_node.at(node.id());
    steps[step].last_use = static_cast<int>(steps.size());
    return step;
  };
  std::vector<int> output_steps;
  for (const Node& node : outputs) output_steps.push_back(keep(node));
  std::vector<StepUpdate> step_updates;
  for (const ParameterUpdate& update : updates) {
    step_updates.push_back({update.parameter.name(), keep(update.value)});
  }
  LargestBuffer largest;
  const int64_t needed = PeakBytes(steps, output_steps, largest);
  KILN_RETURN_IF_ERROR(
      CheckMemoryBudget("the interpreted program", needed, budget, largest));
  return std::make_unique<InterpretedProgram>(
      std::move(steps), std::move(output_steps), std::move(step_updates),
      LeafSignatures(graph, outputs, updates), options_.check_numerics);
}

}  // namespace kiln
