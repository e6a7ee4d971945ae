// Attributes: the compile-time parameters of an op.
//
// Every node carries one Attributes value; each op reads only the fields its
// row of the op table documents and leaves the rest at their defaults. Keeping
// one plain struct (rather than a variant per op) lets passes compare and hash
// nodes without knowing each op's parameters.
//
//   Attributes sum_rows;
//   sum_rows.axis = 1;
//   sum_rows.keepdims = true;
//   sum_rows.ToString();  // "axis=1 keepdims=true"

#ifndef KILN_OPS_ATTRIBUTES_H_
#define KILN_OPS_ATTRIBUTES_H_

#include <memory>
#include <string>
#include <vector>

#include "ops/shape.h"
#include "ops/tensor.h"

namespace kiln {

struct Attributes {
  // Reductions and argmax: the axis reduced, already normalised to be
  // non-negative, and whether it stays as a dimension of size 1.
  int axis = 0;
  bool keepdims = false;

  // Fill: the value of every element. LeakyRelu: the slope γ for inputs at or
  // below zero.
  double scalar = 0.0;

  // Reshape and Broadcast: the result's shape.
  Shape shape;

  // Transpose: result dimension i is input dimension permutation[i].
  std::vector<int> permutation;

  // OneHot: the number of classes.
  int64_t num_classes = 0;

  // Constant: the value. Shared because constants are immutable and graphs
  // are copied by passes.
  std::shared_ptr<const Tensor> value;

  // Exact equality; constants compare by content.
  bool operator==(const Attributes& other) const;

  // A hash consistent with operator==.
  size_t Hash() const;

  // The fields that differ from their defaults, as "axis=1 keepdims=true".
  std::string ToString() const;
};

}  // namespace kiln

#endif  // KILN_OPS_ATTRIBUTES_H_
