// Kernels of the layout ops, which move or repeat values without arithmetic.
//
// Transpose and broadcast are both a strided gather: output element
// (i_0, ..., i_{r-1}) reads input offset Σ i_d · stride_d for a stride per
// output dimension. Transpose permutes the input's strides; broadcast sets the
// stride of a repeated dimension to zero. One loop serves both.

#include <algorithm>
#include <cstring>
#include <vector>

#include "ops/kernels.h"

namespace kiln {
namespace {

// Fills `out` (row-major, of `out_shape`) from `in`, where advancing output
// dimension d by one advances the input by `in_strides[d]` elements. The
// innermost dimension runs as a plain loop; the outer ones are an odometer
// that keeps the input offset of the current output row up to date.
template <typename T>
void GatherStrided(const T* in, const std::vector<int64_t>& in_strides,
                   const Shape& out_shape, T* out) {
  if (out_shape.empty()) {
    out[0] = in[0];
    return;
  }
  const int outer_rank = static_cast<int>(out_shape.size()) - 1;
  const int64_t row_length = out_shape.back();
  const int64_t row_stride = in_strides.back();
  const int64_t num_rows = NumElements(out_shape) / row_length;
  std::vector<int64_t> index(outer_rank, 0);
  int64_t row_offset = 0;
  for (int64_t row = 0; row < num_rows; ++row) {
    T* out_row = out + row * row_length;
    for (int64_t j = 0; j < row_length; ++j) {
      out_row[j] = in[row_offset + j * row_stride];
    }
    for (int d = outer_rank - 1; d >= 0; --d) {
      row_offset += in_strides[d];
      if (++index[d] < out_shape[d]) break;
      row_offset -= in_strides[d] * out_shape[d];
      index[d] = 0;
    }
  }
}

void Gather(const Tensor& input, const std::vector<int64_t>& in_strides,
            Tensor& output) {
  DispatchDType(output.dtype(), [&]<typename T>() {
    GatherStrided(input.data<T>(), in_strides, output.shape(),
                  output.data<T>());
  });
}

}  // namespace

void TransposeKernel(std::span<const Tensor* const> inputs,
                     const Attributes& attributes, Tensor& output) {
  const Tensor& input = *inputs[0];
  const std::vector<int64_t> strides = RowMajorStrides(input.shape());
  // Output dimension d is input dimension permutation[d].
  std::vector<int64_t> in_strides(output.rank());
  for (int d = 0; d < output.rank(); ++d) {
    in_strides[d] = strides[attributes.permutation[d]];
  }
  Gather(input, in_strides, output);
}

void ReshapeKernel(std::span<const Tensor* const> inputs,
                   const Attributes& attributes, Tensor& output) {
  // Row-major order is unchanged by a reshape, so the bytes are too.
  KILN_CHECK(inputs[0]->num_bytes() == output.num_bytes());
  std::memcpy(output.raw_data(), inputs[0]->raw_data(), output.num_bytes());
}

void BroadcastKernel(std::span<const Tensor* const> inputs,
                     const Attributes& attributes, Tensor& output) {
  const Tensor& input = *inputs[0];
  const std::vector<int64_t> strides = RowMajorStrides(input.shape());
  // Shapes align at their last dimension. A dimension the input lacks, or
  // has as 1, repeats one input slice: its stride is zero.
  const int offset = output.rank() - input.rank();
  std::vector<int64_t> in_strides(output.rank(), 0);
  for (int d = std::max(offset, 0); d < output.rank(); ++d) {
    const int in_d = d - offset;
    if (input.shape()[in_d] != 1) in_strides[d] = strides[in_d];
  }
  Gather(input, in_strides, output);
}

// A label is a class index stored as a float. Its row gets a 1 where the
// index equals the label exactly, so a label outside [0, num_classes) or not
// an integer gives a row of zeros, as in TensorFlow's one_hot.
void OneHotKernel(std::span<const Tensor* const> inputs,
                  const Attributes& attributes, Tensor& output) {
  const Tensor& labels = *inputs[0];
  const int64_t num_classes = attributes.num_classes;
  KILN_CHECK(labels.num_elements() * num_classes == output.num_elements());
  DispatchDType(output.dtype(), [&]<typename T>() {
    const T* in = labels.data<T>();
    T* out = output.data<T>();
    for (int64_t i = 0; i < labels.num_elements(); ++i) {
      for (int64_t c = 0; c < num_classes; ++c) {
        out[i * num_classes + c] = in[i] == static_cast<T>(c) ? T{1} : T{0};
      }
    }
  });
}

}  // namespace kiln
