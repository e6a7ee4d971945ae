// Common-subexpression elimination: computes each distinct value once.
//
// Two live nodes are interchangeable when they apply the same op, with equal
// attributes, to the same inputs, and give the same shape and dtype. This
// pass keeps the one built first (the lower slot id) and moves every use of
// the other to it with Graph::ReplaceAllUses, so handles the user holds on
// either node stay valid and now name the same node.
//
// Duplicates arise all the time: user code that writes Exp(s) twice, backward
// rules that rebuild a node the forward pass has, Fill constants that the
// builder makes for each use of a literal. Nodes are visited inputs first and
// merging rewrites the users' inputs at once, so a chain of duplicates, such
// as two copies of Sum(Exp(s)), collapses in a single run.
//
// Inputs and parameters are never merged: two of them with equal shapes are
// still fed separately. Fill and Constant leaves merge when their values are
// bitwise equal (see Attributes::operator==), so 0.0 and -0.0 stay apart.
//
//   bool changed = EliminateCommonSubexpressions(g);

#ifndef KILN_AD_PASSES_COMMON_SUBEXPRESSION_ELIMINATION_H_
#define KILN_AD_PASSES_COMMON_SUBEXPRESSION_ELIMINATION_H_

#include "ad/graph.h"

namespace kiln {

// Merges every set of interchangeable live nodes into its oldest member.
// Returns whether it merged any.
bool EliminateCommonSubexpressions(Graph& graph);

}  // namespace kiln

#endif  // KILN_AD_PASSES_COMMON_SUBEXPRESSION_ELIMINATION_H_
