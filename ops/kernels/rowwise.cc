// Kernels of the row-wise normalisations, softmax and log-softmax, along the
// last axis.
//
// Both subtract the row's maximum m before exponentiating. Mathematically
// softmax(x) = softmax(x − m); numerically it keeps every exponent at or
// below zero, so exp cannot overflow, and the largest term is exactly 1, so
// the row sum cannot underflow to zero. Sums accumulate in the tensor's own
// type, in increasing column order.

#include <cmath>

#include "ops/kernels.h"

namespace kiln {
namespace {

template <typename T>
T RowMax(const T* row, int64_t length) {
  T best = row[0];
  for (int64_t j = 1; j < length; ++j) {
    if (row[j] > best) best = row[j];
  }
  return best;
}

template <typename T>
void SoftmaxRow(const T* in, int64_t length, T* out) {
  const T max = RowMax(in, length);
  T sum = 0;
  for (int64_t j = 0; j < length; ++j) {
    out[j] = std::exp(in[j] - max);
    sum += out[j];
  }
  for (int64_t j = 0; j < length; ++j) out[j] /= sum;
}

// log softmax(x)_j = (x_j − m) − log Σ_k exp(x_k − m).
template <typename T>
void LogSoftmaxRow(const T* in, int64_t length, T* out) {
  const T max = RowMax(in, length);
  T sum = 0;
  for (int64_t j = 0; j < length; ++j) sum += std::exp(in[j] - max);
  const T log_sum = std::log(sum);
  for (int64_t j = 0; j < length; ++j) out[j] = (in[j] - max) - log_sum;
}

// Applies `row_fn(in_row, length, out_row)` to every row of the last axis.
template <typename RowFn>
void ForEachRow(const Tensor& input, Tensor& output, RowFn row_fn) {
  KILN_CHECK(input.rank() >= 1 && input.shape() == output.shape());
  const int64_t length = input.shape().back();
  const int64_t num_rows = input.num_elements() / length;
  DispatchDType(output.dtype(), [&]<typename T>() {
    const T* in = input.data<T>();
    T* out = output.data<T>();
    for (int64_t r = 0; r < num_rows; ++r) {
      row_fn(in + r * length, length, out + r * length);
    }
  });
}

}  // namespace

void SoftmaxKernel(std::span<const Tensor* const> inputs,
                   const Attributes& attributes, Tensor& output) {
  ForEachRow(*inputs[0], output, [](const auto* in, int64_t length, auto* out) {
    SoftmaxRow(in, length, out);
  });
}

void LogSoftmaxKernel(std::span<const Tensor* const> inputs,
                      const Attributes& attributes, Tensor& output) {
  ForEachRow(*inputs[0], output, [](const auto* in, int64_t length, auto* out) {
    LogSoftmaxRow(in, length, out);
  });
}

}  // namespace kiln
