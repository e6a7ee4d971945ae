// Tensor: a dense, row-major, owning array of f32 or f64 values.
//
// A Tensor is a value type. Copying one copies its elements, so two tensors
// never share storage and a kernel may write its output without aliasing
// worries. Storage is aligned to 64 bytes, one cache line and one AVX-512
// register, so that generated code may use aligned vector loads.
//
//   Tensor t = Tensor::FromValues<double>({2, 2}, {1, 2, 3, 4});
//   t.data<double>()[3] = 5;
//   double x = t.At(1);  // 2

#ifndef KILN_OPS_TENSOR_H_
#define KILN_OPS_TENSOR_H_

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ops/base/check.h"
#include "ops/dtype.h"
#include "ops/shape.h"

namespace kiln {

class Tensor {
 public:
  // An f32 scalar holding zero.
  Tensor();

  // A zero-filled tensor. `shape` must be valid (see ValidateShape).
  Tensor(DType dtype, Shape shape);

  // A tensor whose elements are `values` converted to `dtype`, row-major.
  // The number of values must equal the shape's element count.
  static Tensor FromDoubles(DType dtype, Shape shape,
                            const std::vector<double>& values);

  template <typename T>
  static Tensor FromValues(Shape shape, std::vector<T> values) {
    Tensor tensor(DTypeOf<T>(), std::move(shape));
    KILN_CHECK(static_cast<int64_t>(values.size()) == tensor.num_elements())
        << values.size() << " values for shape "
        << ShapeToString(tensor.shape());
    std::copy(values.begin(), values.end(), tensor.data<T>());
    return tensor;
  }

  // A tensor of `shape` with every element equal to `value`.
  static Tensor Full(DType dtype, Shape shape, double value);

  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  // A moved-from tensor holds no elements; it may be assigned or destroyed.
  Tensor(Tensor&& other) noexcept;
  Tensor& operator=(Tensor&& other) noexcept;

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t num_elements() const { return num_elements_; }
  size_t num_bytes() const { return num_elements_ * DTypeSize(dtype_); }

  // Typed access. T must match the dtype.
  template <typename T>
  T* data() {
    KILN_CHECK(DTypeOf<T>() == dtype_) << "tensor is " << DTypeName(dtype_);
    return reinterpret_cast<T*>(storage_.get());
  }
  template <typename T>
  const T* data() const {
    KILN_CHECK(DTypeOf<T>() == dtype_) << "tensor is " << DTypeName(dtype_);
    return reinterpret_cast<const T*>(storage_.get());
  }
  void* raw_data() { return storage_.get(); }
  const void* raw_data() const { return storage_.get(); }

  // Element `index` of the row-major order, widened to double.
  double At(int64_t index) const;
  void Set(int64_t index, double value);

  // All elements widened to double, row-major.
  std::vector<double> ToDoubles() const;

  // The same elements under another shape with the same element count.
  Tensor Reshaped(Shape shape) const;

  // The elements converted to `dtype`.
  Tensor Cast(DType dtype) const;

  // "f32[2,2] {1, 2, 3, 4}", listing at most `max_values` elements.
  std::string DebugString(int max_values = 8) const;

 private:
  struct AlignedFree {
    void operator()(std::byte* bytes) const;
  };

  void Allocate();

  DType dtype_ = DType::kF32;
  Shape shape_;
  int64_t num_elements_ = 1;
  std::unique_ptr<std::byte[], AlignedFree> storage_;
};

}  // namespace kiln

#endif  // KILN_OPS_TENSOR_H_
