// Algebraic simplification: small local rewrites to a canonical form.
//
// The pass applies a table of rules, each a short function that looks at one
// node and its inputs. They serve two ends. They remove work that backward
// rules and user code leave behind (x·1, −(−x), a Reshape to the same
// shape), and they put equivalent expressions into one canonical form, so
// that common-subexpression elimination and the output-head rewrites see
// through incidental differences:
//
//   * constants (Fill and Constant leaves) are the right operand of the
//     commutative Add and Mul;
//   * negations move outwards: −x·y becomes −(x·y), Σ(−x) becomes −Σx, and
//     the mean likewise; a negation next to a constant factor goes into it;
//   * x + (−y) becomes x − y, and x − (−y) becomes x + y;
//   * a Select whose condition is a constant, or whose branches are one
//     node, becomes the branch it takes. Backward rules guard each product
//     with Select(g == 0, 0, g·d) so that a zero gradient stays zero next to
//     an infinite derivative; once g is a folded non-zero constant the guard
//     is decided and goes;
//   * chains of layout ops collapse: Reshape∘Reshape, Broadcast∘Broadcast and
//     Transpose∘Transpose become one op, or none when the shape or
//     permutation is the identity.
//
// Exactness. Every rule gives the same value for every input, NaN and
// infinities included, with two documented exceptions:
//   * the sign of a zero result may change: x + 0 → x, x − 0 → x and
//     0 − x → −x differ from IEEE only when x is a zero, and hoisting a
//     negation out of a sum can turn +0 into −0. Zeros of either sign compare
//     equal, and no Kiln op tells them apart except by dividing by them;
//   * constant factors are reassociated: (x·c₁)·c₂ becomes x·(c₁·c₂), with
//     c₁·c₂ computed once in the node's dtype. That rounds once where the
//     original rounded twice, so results may differ in the last bit, and a
//     product that overflows or underflows at compile time can turn a finite
//     result into inf or 0. Gradients are full of such chains (the 1/N of a
//     mean times the 2 of a square), and folding them is what makes the
//     gradient of a loss read as the textbook formula.
// x·0 is deliberately not rewritten to 0: inf·0 and NaN·0 are NaN.
//
// Replacements that are not existing nodes are built with the builder
// functions (ad/builder.h), at the location of the node they replace.
//
//   bool changed = SimplifyAlgebra(g);

#ifndef KILN_AD_PASSES_ALGEBRAIC_SIMPLIFICATION_H_
#define KILN_AD_PASSES_ALGEBRAIC_SIMPLIFICATION_H_

#include "ad/graph.h"

namespace kiln {

// Applies the rules to every live node until none applies to it. Returns
// whether any node was replaced.
bool SimplifyAlgebra(Graph& graph);

}  // namespace kiln

#endif  // KILN_AD_PASSES_ALGEBRAIC_SIMPLIFICATION_H_
