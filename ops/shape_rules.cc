#include "ops/shape_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

absl::Status Invalid(auto&&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(parts...));
}

absl::Status RequireRankAtLeast(const Shape& shape, int rank) {
  if (static_cast<int>(shape.size()) < rank) {
    return Invalid("needs rank at least ", rank, ", got shape ",
                   ShapeToString(shape));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Shape> LeafShape(std::span<const Shape> inputs,
                                const Attributes& attributes) {
  KILN_RETURN_IF_ERROR(ValidateShape(attributes.shape));
  return attributes.shape;
}

absl::StatusOr<Shape> SameShapes(std::span<const Shape> inputs,
                                 const Attributes& attributes) {
  for (const Shape& shape : inputs.subspan(1)) {
    if (shape != inputs[0]) {
      return Invalid("shapes ", ShapeToString(inputs[0]), " and ",
                     ShapeToString(shape), " differ");
    }
  }
  return inputs[0];
}

absl::StatusOr<Shape> TransposeShape(std::span<const Shape> inputs,
                                     const Attributes& attributes) {
  const Shape& in = inputs[0];
  const std::vector<int>& permutation = attributes.permutation;
  std::vector<int> sorted = permutation;
  std::sort(sorted.begin(), sorted.end());
  bool is_permutation = sorted.size() == in.size();
  for (size_t i = 0; is_permutation && i < sorted.size(); ++i) {
    is_permutation = sorted[i] == static_cast<int>(i);
  }
  if (!is_permutation) {
    return Invalid("[", absl::StrJoin(permutation, ","),
                   "] is not a permutation of the axes of shape ",
                   ShapeToString(in));
  }
  Shape out(in.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = in[permutation[i]];
  return out;
}

absl::StatusOr<Shape> ReshapeShape(std::span<const Shape> inputs,
                                   const Attributes& attributes) {
  KILN_RETURN_IF_ERROR(ValidateShape(attributes.shape));
  if (NumElements(attributes.shape) != NumElements(inputs[0])) {
    return Invalid("cannot reshape ", ShapeToString(inputs[0]), " (",
                   NumElements(inputs[0]), " elements) to ",
                   ShapeToString(attributes.shape), " (",
                   NumElements(attributes.shape), " elements)");
  }
  return attributes.shape;
}

absl::StatusOr<Shape> BroadcastShape(std::span<const Shape> inputs,
                                     const Attributes& attributes) {
  KILN_RETURN_IF_ERROR(ValidateShape(attributes.shape));
  if (!BroadcastsTo(inputs[0], attributes.shape)) {
    return Invalid("shape ", ShapeToString(inputs[0]),
                   " does not broadcast to ", ShapeToString(attributes.shape));
  }
  return attributes.shape;
}

absl::StatusOr<Shape> OneHotShape(std::span<const Shape> inputs,
                                  const Attributes& attributes) {
  if (attributes.num_classes < 1) {
    return Invalid("needs at least one class, got ", attributes.num_classes);
  }
  Shape out = inputs[0];
  out.push_back(attributes.num_classes);
  KILN_RETURN_IF_ERROR(ValidateShape(out));
  return out;
}

absl::StatusOr<Shape> MatMulShape(std::span<const Shape> inputs,
                                  const Attributes& attributes) {
  const Shape& a = inputs[0];
  const Shape& b = inputs[1];
  if (a.size() != 2 || b.size() != 2) {
    return Invalid("needs two matrices, got shapes ", ShapeToString(a),
                   " and ", ShapeToString(b));
  }
  if (a[1] != b[0]) {
    return Invalid("inner dimensions differ: ", ShapeToString(a), " and ",
                   ShapeToString(b));
  }
  return Shape{a[0], b[1]};
}

absl::StatusOr<Shape> ReduceShape(std::span<const Shape> inputs,
                                  const Attributes& attributes) {
  const Shape& in = inputs[0];
  KILN_RETURN_IF_ERROR(RequireRankAtLeast(in, 1));
  KILN_ASSIGN_OR_RETURN(int axis,
                        NormalizeAxis(attributes.axis, in.size()));
  Shape out = in;
  if (attributes.keepdims) {
    out[axis] = 1;
  } else {
    out.erase(out.begin() + axis);
  }
  return out;
}

absl::StatusOr<Shape> RowwiseShape(std::span<const Shape> inputs,
                                   const Attributes& attributes) {
  KILN_RETURN_IF_ERROR(RequireRankAtLeast(inputs[0], 1));
  return inputs[0];
}

absl::StatusOr<Shape> LossShape(std::span<const Shape> inputs,
                                const Attributes& attributes) {
  KILN_RETURN_IF_ERROR(RequireRankAtLeast(inputs[0], 1));
  KILN_RETURN_IF_ERROR(SameShapes(inputs, attributes).status());
  return Shape{};
}

}  // namespace kiln
