#include "ops/dtype.h"

namespace kiln {

absl::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "f32";
    case DType::kF64:
      return "f64";
  }
  KILN_UNREACHABLE("invalid dtype");
}

size_t DTypeSize(DType dtype) {
  return DispatchDType(dtype, []<typename T>() { return sizeof(T); });
}

}  // namespace kiln
