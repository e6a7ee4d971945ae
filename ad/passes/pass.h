// Pass: the interface every graph-to-graph rewrite in this folder shares.
//
// A pass is a free function that rewrites a Graph in place and reports
// whether it changed anything. That one bit is all a pipeline needs to run a
// list of passes to a fixed point, and it lets tests check that a pass leaves
// a graph alone when it should. The name is what logs and graph dumps call
// the pass.
//
//   constexpr Pass kPasses[] = {
//       {"dead_code_elimination", &EliminateDeadCode},
//   };
//   for (const Pass& pass : kPasses) changed |= pass.run(graph);
//
// Contract shared by every pass: it keeps each output of the graph (see
// Graph::Outputs) computing the same value, up to the differences its own
// header documents, and it never kills an input or a parameter.

#ifndef KILN_AD_PASSES_PASS_H_
#define KILN_AD_PASSES_PASS_H_

#include "absl/strings/string_view.h"
#include "ad/graph.h"

namespace kiln {

struct Pass {
  absl::string_view name;
  // Rewrites the graph; returns true if anything changed.
  bool (*run)(Graph& graph);
};

}  // namespace kiln

#endif  // KILN_AD_PASSES_PASS_H_
