// Shape rules: the result shape of each op, from its inputs' shapes.
//
// The op table names one rule per op. A rule fails with InvalidArgument when
// the inputs are unacceptable; its message names the shapes involved but not
// the op, which the graph builder prepends together with the caller's source
// location.
//
//   std::vector<Shape> inputs = {{100, 784}, {784, 200}};
//   absl::StatusOr<Shape> product = MatMulShape(inputs, Attributes());
//   // [100,200]; with {200, 10} second it fails: "inner dimensions
//   // differ: [100,784] and [200,10]".

#ifndef KILN_OPS_SHAPE_RULES_H_
#define KILN_OPS_SHAPE_RULES_H_

#include <span>

#include "absl/status/statusor.h"
#include "ops/attributes.h"
#include "ops/shape.h"

namespace kiln {

// Leaves: the shape is an attribute.
absl::StatusOr<Shape> LeafShape(std::span<const Shape> inputs,
                                const Attributes& attributes);

// Elementwise ops: all inputs have one shape, which is the result's.
absl::StatusOr<Shape> SameShapes(std::span<const Shape> inputs,
                                 const Attributes& attributes);

// Dimension i of the result is dimension permutation[i] of the input.
absl::StatusOr<Shape> TransposeShape(std::span<const Shape> inputs,
                                     const Attributes& attributes);

// The target shape, which must hold the same number of elements.
absl::StatusOr<Shape> ReshapeShape(std::span<const Shape> inputs,
                                   const Attributes& attributes);

// The target shape, to which the input must broadcast under NumPy's rule.
absl::StatusOr<Shape> BroadcastShape(std::span<const Shape> inputs,
                                     const Attributes& attributes);

// The input's shape with num_classes appended.
absl::StatusOr<Shape> OneHotShape(std::span<const Shape> inputs,
                                  const Attributes& attributes);

// [m,k] times [k,n] gives [m,n].
absl::StatusOr<Shape> MatMulShape(std::span<const Shape> inputs,
                                  const Attributes& attributes);

// The input's shape with the reduced axis removed, or kept as 1.
absl::StatusOr<Shape> ReduceShape(std::span<const Shape> inputs,
                                  const Attributes& attributes);

// Row-wise ops keep the shape of an input of rank at least 1.
absl::StatusOr<Shape> RowwiseShape(std::span<const Shape> inputs,
                                   const Attributes& attributes);

// Losses take two inputs of one shape, rank at least 1, and give a scalar.
absl::StatusOr<Shape> LossShape(std::span<const Shape> inputs,
                                const Attributes& attributes);

}  // namespace kiln

#endif  // KILN_OPS_SHAPE_RULES_H_
