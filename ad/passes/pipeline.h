// The pass pipeline: runs the graph passes to a fixed point.
//
// RunPasses applies a list of passes in order, and repeats the list until a
// whole round changes nothing, because each pass opens work for others:
// common-subexpression elimination merges the two Exp(s) that softmax
// recognition needs to be one node, algebraic simplification moves a
// negation where cross-entropy recognition looks for it, constant folding
// turns the 1/N chains of a gradient into single Fills for the
// simplification rules, and dead-code elimination clears what the others
// replaced. A cap on the rounds bounds the time if passes ever disagree.
//
// Logging (ops/base/logging.h) goes to stderr: with KILN_VERBOSE=1 each pass
// logs its name, whether it changed the graph and its time; with
// KILN_VERBOSE=2 the graph text (printer.h) follows each pass.
//
//   g.AddOutput(loss);
//   RunPasses(g);                    // The loss is now a fused op.
//   Gradients grads = Grad(loss, {s});
//   g.AddOutput(grads[s]);
//   RunPasses(g);                    // (softmax(s) − y)·(1/N)
//
// Passes keep what the outputs depend on (Graph::AddOutput) and delete the
// rest, so add every node you will run before calling RunPasses. A graph
// whose status is an error is left alone.

#ifndef KILN_AD_PASSES_PIPELINE_H_
#define KILN_AD_PASSES_PIPELINE_H_

#include <functional>
#include <span>

#include "absl/strings/string_view.h"
#include "ad/graph.h"
#include "ad/passes/pass.h"

namespace kiln {

// The most rounds RunPasses makes before stopping short of a fixed point.
inline constexpr int kMaxPipelineRounds = 32;

// The default passes, in the order RunPasses applies them: algebraic
// simplification, constant folding, common-subexpression elimination, the
// output-head rewrites, and dead-code elimination.
std::span<const Pass> DefaultPasses();

// Runs `passes` in order, round after round, until a round changes nothing
// or kMaxPipelineRounds rounds have run. Returns whether anything changed.
bool RunPasses(Graph& graph, std::span<const Pass> passes);

// RunPasses with DefaultPasses().
bool RunPasses(Graph& graph);

// Called after every pass that changed the graph, with the pass's name and
// the round; compilers use it to dump the graph as each pass leaves it.
using PassObserver =
    std::function<void(absl::string_view pass, int round, Graph& graph)>;

// RunPasses with DefaultPasses(), calling `observer` after each change.
bool RunPasses(Graph& graph, const PassObserver& observer);

}  // namespace kiln

#endif  // KILN_AD_PASSES_PIPELINE_H_
