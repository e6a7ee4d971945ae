// Element types of tensors.
//
// Kiln computes in IEEE single and double precision only. Values that are
// conceptually integers or booleans (class labels, comparison results, masks)
// are stored in the same floating-point type as the data they go with, so that
// every op sees one dtype and no graph needs casts.
//
//   DType dtype = DTypeOf<double>();   // kF64
//   size_t bytes = DTypeSize(dtype);   // 8
//   DispatchDType(dtype, [&]<typename T>() { Fill<T>(tensor, 0); });

#ifndef KILN_OPS_DTYPE_H_
#define KILN_OPS_DTYPE_H_

#include <cstddef>

#include "absl/strings/string_view.h"
#include "ops/base/check.h"

namespace kiln {

enum class DType { kF32, kF64 };

inline constexpr DType kF32 = DType::kF32;
inline constexpr DType kF64 = DType::kF64;

// "f32" or "f64".
absl::string_view DTypeName(DType dtype);

// Size of one element in bytes.
size_t DTypeSize(DType dtype);

// The DType of the C++ type T, for T in {float, double}.
template <typename T>
constexpr DType DTypeOf();
template <>
constexpr DType DTypeOf<float>() {
  return DType::kF32;
}
template <>
constexpr DType DTypeOf<double>() {
  return DType::kF64;
}

// Calls `fn.template operator()<T>()` with T the C++ type of `dtype` and
// returns its result. Kernels use it to write one template for both dtypes:
//
//   DispatchDType(t.dtype(), [&]<typename T>() { Fill<T>(t, 0); });
template <typename Fn>
decltype(auto) DispatchDType(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kF32:
      return fn.template operator()<float>();
    case DType::kF64:
      return fn.template operator()<double>();
  }
  KILN_UNREACHABLE("invalid dtype");
}

}  // namespace kiln

#endif  // KILN_OPS_DTYPE_H_
