// Kernels of the losses and of accuracy, as defined in ops/kernels.h.
//
// Each is a sum over every element of a per-element term, divided by the
// number of rows N (or 2N for HalfMse). The sum accumulates in the tensor's
// own type, in row-major order, and so does the final division: keeping one
// type end to end, as every other kernel does, is what compiled code is
// checked against, and an f64 accumulator for f32 data would make the
// reference disagree with any kernel that does not widen in the same places.
//
// Softmax cross-entropy and accuracy reuse the log-softmax and argmax
// kernels, so they inherit exactly their numerics and tie-breaking.

#include <algorithm>
#include <cmath>

#include "ops/kernels.h"

namespace kiln {
namespace {

// N, the number of rows: the product of all dimensions but the last.
int64_t NumRows(const Tensor& t) { return t.num_elements() / t.shape().back(); }

// Writes Σ_i term(a[i], b[i]) / divisor into the scalar `output`.
template <typename Term>
void WriteScaledSum(const Tensor& a, const Tensor& b, int64_t divisor,
                    Tensor& output, Term term) {
  KILN_CHECK(a.shape() == b.shape() && output.num_elements() == 1);
  DispatchDType(output.dtype(), [&]<typename T>() {
    const T* a_data = a.data<T>();
    const T* b_data = b.data<T>();
    T sum = 0;
    for (int64_t i = 0; i < a.num_elements(); ++i) {
      sum += static_cast<T>(term(a_data[i], b_data[i]));
    }
    output.data<T>()[0] = sum / static_cast<T>(divisor);
  });
}

// −y log σ(s) − (1 − y) log(1 − σ(s)) rewritten as
// max(s, 0) − s·y + log(1 + e^−|s|): the exponent is never positive, so the
// term is finite for every finite s, and log1p keeps precision when e^−|s|
// is tiny.
template <typename T>
T SigmoidCrossEntropyTerm(T s, T y) {
  return std::max(s, T{0}) - s * y + std::log1p(std::exp(-std::abs(s)));
}

}  // namespace

void HalfMseKernel(std::span<const Tensor* const> inputs,
                   const Attributes& attributes, Tensor& output) {
  const Tensor& prediction = *inputs[0];
  WriteScaledSum(prediction, *inputs[1], 2 * NumRows(prediction), output,
                 [](auto p, auto y) { return (p - y) * (p - y); });
}

void SigmoidCrossEntropyKernel(std::span<const Tensor* const> inputs,
                               const Attributes& attributes, Tensor& output) {
  const Tensor& logits = *inputs[0];
  WriteScaledSum(logits, *inputs[1], NumRows(logits), output,
                 [](auto s, auto y) { return SigmoidCrossEntropyTerm(s, y); });
}

void SoftmaxCrossEntropyKernel(std::span<const Tensor* const> inputs,
                               const Attributes& attributes, Tensor& output) {
  const Tensor& logits = *inputs[0];
  Tensor log_probabilities(logits.dtype(), logits.shape());
  const Tensor* row_input[] = {&logits};
  LogSoftmaxKernel(row_input, attributes, log_probabilities);
  WriteScaledSum(log_probabilities, *inputs[1], NumRows(logits), output,
                 [](auto log_p, auto y) { return -(y * log_p); });
}

void AccuracyKernel(std::span<const Tensor* const> inputs,
                    const Attributes& attributes, Tensor& output) {
  const Tensor& scores = *inputs[0];
  const Tensor& labels = *inputs[1];
  Attributes last_axis;
  last_axis.axis = scores.rank() - 1;
  Shape row_shape = scores.shape();
  row_shape.pop_back();

  // The class each row predicts, and the class its label marks.
  Tensor predicted(scores.dtype(), row_shape);
  Tensor expected(labels.dtype(), row_shape);
  const Tensor* score_input[] = {&scores};
  const Tensor* label_input[] = {&labels};
  ArgmaxKernel(score_input, last_axis, predicted);
  ArgmaxKernel(label_input, last_axis, expected);

  WriteScaledSum(predicted, expected, NumRows(scores), output,
                 [](auto p, auto e) { return p == e ? 1 : 0; });
}

}  // namespace kiln
