// Dead-code elimination: drops the nodes no output depends on.
//
// Builders, backward rules and the other passes leave nodes behind that
// nothing uses any more: the half of a backward rule whose gradient was not
// wanted, the pieces a fused pattern replaced, constants that were folded.
// This pass marks every such node dead, so that printers, executors and later
// passes skip it.
//
// A node survives if some output of the graph (Graph::Outputs) depends on it.
// Inputs and parameters always survive: they are the graph's interface, fed
// by name, and a trainer may feed them whether or not the current outputs
// read them. Fill and Constant leaves die like any other node. A graph with
// no outputs therefore keeps only its inputs and parameters: add the nodes
// you want with Graph::AddOutput before running passes.
//
//   g.AddOutput(loss);
//   bool changed = EliminateDeadCode(g);

#ifndef KILN_AD_PASSES_DEAD_CODE_ELIMINATION_H_
#define KILN_AD_PASSES_DEAD_CODE_ELIMINATION_H_

#include "ad/graph.h"

namespace kiln {

// Marks dead every live node that no output depends on, except inputs and
// parameters. Returns whether it marked any.
bool EliminateDeadCode(Graph& graph);

}  // namespace kiln

#endif  // KILN_AD_PASSES_DEAD_CODE_ELIMINATION_H_
