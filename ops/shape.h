// Shapes of dense row-major tensors, and NumPy's broadcasting rule.
//
// A Shape is a list of dimension sizes, outermost first. The empty list is a
// scalar. Every dimension is at least 1 in a valid shape; Kiln has no
// zero-sized tensors, so that every reduction has an identity-free answer.
//
//   Shape s = {100, 784};
//   int64_t n = NumElements(s);              // 78400
//   auto b = BroadcastShapes({100, 1}, {10});  // {100, 10}

#ifndef KILN_OPS_SHAPE_H_
#define KILN_OPS_SHAPE_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiln {

using Shape = std::vector<int64_t>;

// Product of the dimensions; 1 for a scalar. The shape must be valid.
int64_t NumElements(const Shape& shape);

// "[100,784]", or "[]" for a scalar.
std::string ShapeToString(const Shape& shape);

// Checks that every dimension is positive and that the element count and the
// byte size at the widest dtype fit in int64_t. The message names the shape.
absl::Status ValidateShape(const Shape& shape);

// Row-major strides, in elements.
std::vector<int64_t> RowMajorStrides(const Shape& shape);

// The shape NumPy broadcasting gives `a` and `b`: shapes are aligned at their
// last dimension, and each pair of dimensions must be equal or contain a 1.
absl::StatusOr<Shape> BroadcastShapes(const Shape& a, const Shape& b);

// True when `from` broadcasts to exactly `to`.
bool BroadcastsTo(const Shape& from, const Shape& to);

// Resolves a possibly negative axis (-1 is the last) against `rank`, or fails
// naming the axis and the rank.
absl::StatusOr<int> NormalizeAxis(int axis, int rank);

}  // namespace kiln

#endif  // KILN_OPS_SHAPE_H_
