#include "ops/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kiln {
namespace {

constexpr size_t kAlignment = 64;

}  // namespace

void Tensor::AlignedFree::operator()(std::byte* bytes) const {
  std::free(bytes);
}

Tensor::Tensor() { Allocate(); }

Tensor::Tensor(DType dtype, Shape shape)
    : dtype_(dtype), shape_(std::move(shape)) {
  absl::Status valid = ValidateShape(shape_);
  KILN_CHECK(valid.ok()) << valid.message();
  num_elements_ = NumElements(shape_);
  Allocate();
}

void Tensor::Allocate() {
  // aligned_alloc needs a size that is a multiple of the alignment.
  size_t bytes = num_bytes();
  // A moved-from tensor is copied with no elements: allocate a line anyway
  // so that storage is never null.
  size_t rounded =
      std::max<size_t>(1, (bytes + kAlignment - 1) / kAlignment) * kAlignment;
  void* memory = std::aligned_alloc(kAlignment, rounded);
  KILN_CHECK(memory != nullptr) << "out of memory allocating " << rounded
                                << " bytes for " << ShapeToString(shape_);
  std::memset(memory, 0, rounded);
  storage_.reset(static_cast<std::byte*>(memory));
}

Tensor Tensor::FromDoubles(DType dtype, Shape shape,
                           const std::vector<double>& values) {
  Tensor tensor(dtype, std::move(shape));
  KILN_CHECK(static_cast<int64_t>(values.size()) == tensor.num_elements())
      << values.size() << " values for shape " << ShapeToString(tensor.shape());
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    tensor.Set(i, values[i]);
  }
  return tensor;
}

Tensor Tensor::Full(DType dtype, Shape shape, double value) {
  Tensor tensor(dtype, std::move(shape));
  DispatchDType(dtype, [&]<typename T>() {
    std::fill_n(tensor.data<T>(), tensor.num_elements(), static_cast<T>(value));
  });
  return tensor;
}

Tensor::Tensor(const Tensor& other)
    : dtype_(other.dtype_),
      shape_(other.shape_),
      num_elements_(other.num_elements_) {
  Allocate();
  if (num_bytes() > 0) {
    std::memcpy(storage_.get(), other.storage_.get(), num_bytes());
  }
}

Tensor::Tensor(Tensor&& other) noexcept
    : dtype_(other.dtype_),
      shape_(std::move(other.shape_)),
      num_elements_(std::exchange(other.num_elements_, 0)),
      storage_(std::move(other.storage_)) {}

Tensor& Tensor::operator=(Tensor&& other) noexcept {
  dtype_ = other.dtype_;
  shape_ = std::move(other.shape_);
  num_elements_ = std::exchange(other.num_elements_, 0);
  storage_ = std::move(other.storage_);
  return *this;
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) *this = Tensor(other);
  return *this;
}

double Tensor::At(int64_t index) const {
  KILN_CHECK(index >= 0 && index < num_elements_)
      << "index " << index << " of " << num_elements_;
  return DispatchDType(dtype_, [&]<typename T>() {
    return static_cast<double>(data<T>()[index]);
  });
}

void Tensor::Set(int64_t index, double value) {
  KILN_CHECK(index >= 0 && index < num_elements_)
      << "index " << index << " of " << num_elements_;
  DispatchDType(dtype_,
                [&]<typename T>() { data<T>()[index] = static_cast<T>(value); });
}

std::vector<double> Tensor::ToDoubles() const {
  std::vector<double> values(num_elements_);
  for (int64_t i = 0; i < num_elements_; ++i) values[i] = At(i);
  return values;
}

Tensor Tensor::Reshaped(Shape shape) const {
  // Validate first: negative dimensions can multiply to the right count.
  KILN_CHECK(ValidateShape(shape).ok() && NumElements(shape) == num_elements_)
      << "cannot reshape " << ShapeToString(shape_) << " to "
      << ShapeToString(shape);
  Tensor result(*this);
  result.shape_ = std::move(shape);
  return result;
}

Tensor Tensor::Cast(DType dtype) const {
  Tensor result(dtype, shape_);
  for (int64_t i = 0; i < num_elements_; ++i) result.Set(i, At(i));
  return result;
}

std::string Tensor::DebugString(int max_values) const {
  std::string text =
      absl::StrCat(DTypeName(dtype_), ShapeToString(shape_), " {");
  const int64_t shown = std::min<int64_t>(num_elements_, max_values);
  for (int64_t i = 0; i < shown; ++i) {
    absl::StrAppend(&text, i == 0 ? "" : ", ", At(i));
  }
  if (shown < num_elements_) absl::StrAppend(&text, ", ...");
  absl::StrAppend(&text, "}");
  return text;
}

}  // namespace kiln
