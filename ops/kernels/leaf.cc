// Kernels of the leaf ops, which have no inputs.

#include <algorithm>
#include <cstring>

#include "ops/kernels.h"

namespace kiln {

void FedByExecutorKernel(std::span<const Tensor* const> inputs,
                         const Attributes& attributes, Tensor& output) {
  // The executor writes inputs and parameters from its feeds, so reaching this
  // means an executor treated a fed leaf as a computed node.
  KILN_CHECK(false) << "input and parameter values come from the executor, "
                       "which must not run their kernel";
}

void ConstantKernel(std::span<const Tensor* const> inputs,
                    const Attributes& attributes, Tensor& output) {
  const Tensor* value = attributes.value.get();
  KILN_CHECK(value != nullptr) << "constant without a value";
  KILN_CHECK(value->dtype() == output.dtype() &&
             value->shape() == output.shape())
      << "constant value " << DTypeName(value->dtype())
      << ShapeToString(value->shape()) << " for output "
      << DTypeName(output.dtype()) << ShapeToString(output.shape());
  std::memcpy(output.raw_data(), value->raw_data(), output.num_bytes());
}

void FillKernel(std::span<const Tensor* const> inputs,
                const Attributes& attributes, Tensor& output) {
  DispatchDType(output.dtype(), [&]<typename T>() {
    std::fill_n(output.data<T>(), output.num_elements(),
                static_cast<T>(attributes.scalar));
  });
}

}  // namespace kiln
