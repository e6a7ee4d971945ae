// Kernels of the reductions along one axis: sum, mean, max and argmax.
//
// The input is viewed as [outer, length, inner], where `length` is the
// reduced axis; the output is [outer, inner] whether or not keepdims keeps the
// axis as a 1, since that does not change the row-major layout. The loops
// visit input rows of `inner` contiguous elements, so that every pass over
// memory is sequential even when reducing an outer axis.
//
// Values accumulate in the tensor's own type, in increasing position along the
// axis, starting from the first element: shapes have no zero dimensions, so
// no identity is needed, and a one-element reduction returns its element
// exactly (−0 included).

#include <vector>

#include "ops/kernels.h"

namespace kiln {
namespace {

struct AxisSplit {
  int64_t outer = 1;
  int64_t length = 1;
  int64_t inner = 1;
};

AxisSplit SplitAtAxis(const Shape& shape, int axis) {
  KILN_CHECK(axis >= 0 && axis < static_cast<int>(shape.size()))
      << "axis " << axis << " of shape " << ShapeToString(shape);
  AxisSplit split;
  for (int d = 0; d < axis; ++d) split.outer *= shape[d];
  split.length = shape[axis];
  for (size_t d = axis + 1; d < shape.size(); ++d) split.inner *= shape[d];
  return split;
}

// out[o, i] = combine(... combine(x[o, 0, i], x[o, 1, i]) ..., x[o, L-1, i]).
template <typename T, typename Combine>
void FoldAxis(const T* in, const AxisSplit& s, T* out, Combine combine) {
  for (int64_t o = 0; o < s.outer; ++o) {
    const T* block = in + o * s.length * s.inner;
    T* out_row = out + o * s.inner;
    for (int64_t i = 0; i < s.inner; ++i) out_row[i] = block[i];
    for (int64_t r = 1; r < s.length; ++r) {
      const T* in_row = block + r * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) {
        out_row[i] = combine(out_row[i], in_row[i]);
      }
    }
  }
}

template <typename Combine>
void Fold(const Tensor& input, const Attributes& attributes, Tensor& output,
          Combine combine) {
  const AxisSplit split = SplitAtAxis(input.shape(), attributes.axis);
  KILN_CHECK(split.outer * split.inner == output.num_elements());
  DispatchDType(output.dtype(), [&]<typename T>() {
    FoldAxis(input.data<T>(), split, output.data<T>(),
             [&](T acc, T x) { return static_cast<T>(combine(acc, x)); });
  });
}

// The maximum keeps the earlier value unless a later one is strictly
// greater. Max therefore returns the value at Argmax's index, and a NaN is
// kept only when it comes first.
template <typename T>
T Larger(T best, T x) {
  return x > best ? x : best;
}

// Like FoldAxis with Larger, but records where the running maximum was
// found, as a float index along the axis: ties keep the first position.
template <typename T>
void ArgmaxAxis(const T* in, const AxisSplit& s, T* out) {
  std::vector<T> best(s.inner);
  for (int64_t o = 0; o < s.outer; ++o) {
    const T* block = in + o * s.length * s.inner;
    T* out_row = out + o * s.inner;
    for (int64_t i = 0; i < s.inner; ++i) {
      best[i] = block[i];
      out_row[i] = T{0};
    }
    for (int64_t r = 1; r < s.length; ++r) {
      const T* in_row = block + r * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) {
        if (in_row[i] > best[i]) {
          best[i] = in_row[i];
          out_row[i] = static_cast<T>(r);
        }
      }
    }
  }
}

}  // namespace

void SumKernel(std::span<const Tensor* const> inputs,
               const Attributes& attributes, Tensor& output) {
  Fold(*inputs[0], attributes, output,
       [](auto acc, auto x) { return acc + x; });
}

void MeanKernel(std::span<const Tensor* const> inputs,
                const Attributes& attributes, Tensor& output) {
  SumKernel(inputs, attributes, output);
  const int64_t length = inputs[0]->shape()[attributes.axis];
  DispatchDType(output.dtype(), [&]<typename T>() {
    T* out = output.data<T>();
    const T divisor = static_cast<T>(length);
    for (int64_t i = 0; i < output.num_elements(); ++i) out[i] /= divisor;
  });
}

void MaxKernel(std::span<const Tensor* const> inputs,
               const Attributes& attributes, Tensor& output) {
  Fold(*inputs[0], attributes, output,
       [](auto best, auto x) { return Larger(best, x); });
}

void ArgmaxKernel(std::span<const Tensor* const> inputs,
                  const Attributes& attributes, Tensor& output) {
  const Tensor& input = *inputs[0];
  const AxisSplit split = SplitAtAxis(input.shape(), attributes.axis);
  KILN_CHECK(split.outer * split.inner == output.num_elements());
  DispatchDType(output.dtype(), [&]<typename T>() {
    ArgmaxAxis(input.data<T>(), split, output.data<T>());
  });
}

}  // namespace kiln
