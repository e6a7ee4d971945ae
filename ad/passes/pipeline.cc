#include "ad/passes/pipeline.h"

#include <chrono>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ad/passes/algebraic_simplification.h"
#include "ad/passes/common_subexpression_elimination.h"
#include "ad/passes/constant_folding.h"
#include "ad/passes/dead_code_elimination.h"
#include "ad/passes/fuse_log_softmax.h"
#include "ad/passes/fuse_sigmoid_cross_entropy.h"
#include "ad/passes/fuse_softmax.h"
#include "ad/passes/fuse_softmax_cross_entropy.h"
#include "ad/passes/printer.h"
#include "ops/base/logging.h"

namespace kiln {
namespace {

// Simplification first, so that negations sit where the head rewrites look
// and duplicates are merged before matching; the head rewrites in the order
// each builds on the previous; dead-code elimination last, to clear what the
// round replaced.
// clang-format off
constexpr Pass kDefaultPasses[] = {
    {"algebraic_simplification",          &SimplifyAlgebra},
    {"constant_folding",                  &FoldConstants},
    {"common_subexpression_elimination",  &EliminateCommonSubexpressions},
    {"fuse_softmax",                      &FuseSoftmax},
    {"fuse_log_softmax",                  &FuseLogSoftmax},
    {"fuse_softmax_cross_entropy",        &FuseSoftmaxCrossEntropy},
    {"fuse_sigmoid_cross_entropy",        &FuseSigmoidCrossEntropy},
    {"dead_code_elimination",             &EliminateDeadCode},
};
// clang-format on

// Runs one pass, logging as the verbosity asks.
bool RunLogged(const Pass& pass, Graph& graph, int round,
               const PassObserver* observer) {
  const auto start = std::chrono::steady_clock::now();
  const bool changed = pass.run(graph);
  const std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - start;
  if (VerbosityAtLeast(1)) {
    LogLine(absl::StrFormat("round %d: %s %s (%.3f ms)", round, pass.name,
                            changed ? "changed the graph" : "no change",
                            elapsed.count()));
  }
  if (VerbosityAtLeast(2)) {
    std::string text = GraphToText(graph);
    absl::StripTrailingAsciiWhitespace(&text);
    LogLine(absl::StrCat("graph after ", pass.name, ":\n", text));
  }
  if (changed && observer != nullptr) (*observer)(pass.name, round, graph);
  return changed;
}

bool RunObserved(Graph& graph, std::span<const Pass> passes,
                 const PassObserver* observer) {
  if (!graph.status().ok()) return false;
  bool changed = false;
  for (int round = 1; round <= kMaxPipelineRounds; ++round) {
    bool round_changed = false;
    for (const Pass& pass : passes) {
      round_changed |= RunLogged(pass, graph, round, observer);
    }
    changed |= round_changed;
    if (!round_changed) return changed;
  }
  if (VerbosityAtLeast(1)) {
    LogLine(absl::StrCat("passes stopped after ", kMaxPipelineRounds,
                         " rounds without reaching a fixed point"));
  }
  return changed;
}

}  // namespace

std::span<const Pass> DefaultPasses() { return kDefaultPasses; }

bool RunPasses(Graph& graph, std::span<const Pass> passes) {
  return RunObserved(graph, passes, nullptr);
}

bool RunPasses(Graph& graph) { return RunPasses(graph, DefaultPasses()); }

bool RunPasses(Graph& graph, const PassObserver& observer) {
  return RunObserved(graph, DefaultPasses(), &observer);
}

}  // namespace kiln
