// Finding values that are not finite: NaN and the two infinities.
//
// A NaN or an infinity in a training run spreads to everything computed from
// it, and by the time a loss prints as "nan" the op that made it is long
// gone. The trainer's guards and the executors' numeric checks use these
// functions to stop at the first such value and say where it is.
//
// The scan tests the exponent bits of each element with integer operations,
// so checking a tensor costs about as much as reading it once; only a tensor
// that holds a bad value is scanned a second time, to find the first one.
//
//   if (std::optional<NonFiniteValue> bad = FindNonFinite(tensor)) {
//     return absl::DataLossError(
//         absl::StrCat("w1 holds ", DescribeNonFinite(*bad, tensor.shape())));
//   }

#ifndef KILN_OPS_NUMERICS_H_
#define KILN_OPS_NUMERICS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "ops/dtype.h"
#include "ops/shape.h"
#include "ops/tensor.h"

namespace kiln {

// The first element, in row-major order, that is NaN or infinite.
struct NonFiniteValue {
  int64_t index = 0;
  // The element widened to double: NaN, +inf or -inf.
  double value = 0;
};

// The first non-finite element of the `count` elements of `dtype` at `data`,
// or nullopt when every one is finite.
std::optional<NonFiniteValue> FindNonFinite(DType dtype, const void* data,
                                            int64_t count);

// The first non-finite element of `tensor`, or nullopt.
std::optional<NonFiniteValue> FindNonFinite(const Tensor& tensor);

// "nan at element 1234 [12,34]", naming the element's row-major index and
// its coordinates in `shape`; "inf at element 0" for a scalar.
std::string DescribeNonFinite(const NonFiniteValue& bad, const Shape& shape);

}  // namespace kiln

#endif  // KILN_OPS_NUMERICS_H_
