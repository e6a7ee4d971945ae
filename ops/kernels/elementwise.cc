// Kernels of the elementwise ops: arithmetic, activations, comparisons and
// select. Every input has the output's shape; broadcasting is a separate op.
//
// Each kernel passes a generic lambda to one of three loops below, so the
// per-op code is only the scalar formula, written once for f32 and f64.

#include <cmath>

#include "ops/kernels.h"

namespace kiln {
namespace {

// output[i] = fn(inputs[0][i]).
template <typename Fn>
void Unary(std::span<const Tensor* const> inputs, Tensor& output, Fn fn) {
  const Tensor& x = *inputs[0];
  KILN_CHECK(x.num_elements() == output.num_elements());
  DispatchDType(output.dtype(), [&]<typename T>() {
    const T* in = x.data<T>();
    T* out = output.data<T>();
    for (int64_t i = 0; i < output.num_elements(); ++i) {
      out[i] = static_cast<T>(fn(in[i]));
    }
  });
}

// output[i] = fn(inputs[0][i], inputs[1][i]).
template <typename Fn>
void Binary(std::span<const Tensor* const> inputs, Tensor& output, Fn fn) {
  const Tensor& a = *inputs[0];
  const Tensor& b = *inputs[1];
  KILN_CHECK(a.num_elements() == output.num_elements() &&
             b.num_elements() == output.num_elements());
  DispatchDType(output.dtype(), [&]<typename T>() {
    const T* in_a = a.data<T>();
    const T* in_b = b.data<T>();
    T* out = output.data<T>();
    for (int64_t i = 0; i < output.num_elements(); ++i) {
      out[i] = static_cast<T>(fn(in_a[i], in_b[i]));
    }
  });
}

// Comparisons store their boolean result as 1 or 0 in the operands' type.
template <typename Compare>
void Comparison(std::span<const Tensor* const> inputs, Tensor& output,
                Compare compare) {
  Binary(inputs, output, [compare](auto a, auto b) {
    using T = decltype(a);
    return compare(a, b) ? T{1} : T{0};
  });
}

// 1 / (1 + e^-x) overflows e^-x for large negative x; the equivalent
// e^x / (1 + e^x) is used there instead, so neither form sees an exponent
// above zero and the result stays in [0, 1] at any finite x.
template <typename T>
T StableSigmoid(T x) {
  if (x >= 0) return T{1} / (T{1} + std::exp(-x));
  const T e = std::exp(x);
  return e / (T{1} + e);
}

}  // namespace

void AddKernel(std::span<const Tensor* const> inputs,
               const Attributes& attributes, Tensor& output) {
  Binary(inputs, output, [](auto a, auto b) { return a + b; });
}

void SubKernel(std::span<const Tensor* const> inputs,
               const Attributes& attributes, Tensor& output) {
  Binary(inputs, output, [](auto a, auto b) { return a - b; });
}

void MulKernel(std::span<const Tensor* const> inputs,
               const Attributes& attributes, Tensor& output) {
  Binary(inputs, output, [](auto a, auto b) { return a * b; });
}

void DivKernel(std::span<const Tensor* const> inputs,
               const Attributes& attributes, Tensor& output) {
  Binary(inputs, output, [](auto a, auto b) { return a / b; });
}

void NegKernel(std::span<const Tensor* const> inputs,
               const Attributes& attributes, Tensor& output) {
  Unary(inputs, output, [](auto x) { return -x; });
}

void ExpKernel(std::span<const Tensor* const> inputs,
               const Attributes& attributes, Tensor& output) {
  Unary(inputs, output, [](auto x) { return std::exp(x); });
}

void LogKernel(std::span<const Tensor* const> inputs,
               const Attributes& attributes, Tensor& output) {
  Unary(inputs, output, [](auto x) { return std::log(x); });
}

void SquareKernel(std::span<const Tensor* const> inputs,
                  const Attributes& attributes, Tensor& output) {
  Unary(inputs, output, [](auto x) { return x * x; });
}

void SigmoidKernel(std::span<const Tensor* const> inputs,
                   const Attributes& attributes, Tensor& output) {
  Unary(inputs, output, [](auto x) { return StableSigmoid(x); });
}

void TanhKernel(std::span<const Tensor* const> inputs,
                const Attributes& attributes, Tensor& output) {
  Unary(inputs, output, [](auto x) { return std::tanh(x); });
}

void ReluKernel(std::span<const Tensor* const> inputs,
                const Attributes& attributes, Tensor& output) {
  Unary(inputs, output, [](auto x) { return x > 0 ? x : decltype(x){0}; });
}

void LeakyReluKernel(std::span<const Tensor* const> inputs,
                     const Attributes& attributes, Tensor& output) {
  const double slope = attributes.scalar;
  Unary(inputs, output, [slope](auto x) {
    return x > 0 ? x : static_cast<decltype(x)>(slope) * x;
  });
}

void LessKernel(std::span<const Tensor* const> inputs,
                const Attributes& attributes, Tensor& output) {
  Comparison(inputs, output, [](auto a, auto b) { return a < b; });
}

void LessEqualKernel(std::span<const Tensor* const> inputs,
                     const Attributes& attributes, Tensor& output) {
  Comparison(inputs, output, [](auto a, auto b) { return a <= b; });
}

void GreaterKernel(std::span<const Tensor* const> inputs,
                   const Attributes& attributes, Tensor& output) {
  Comparison(inputs, output, [](auto a, auto b) { return a > b; });
}

void GreaterEqualKernel(std::span<const Tensor* const> inputs,
                        const Attributes& attributes, Tensor& output) {
  Comparison(inputs, output, [](auto a, auto b) { return a >= b; });
}

void EqualKernel(std::span<const Tensor* const> inputs,
                 const Attributes& attributes, Tensor& output) {
  Comparison(inputs, output, [](auto a, auto b) { return a == b; });
}

void NotEqualKernel(std::span<const Tensor* const> inputs,
                    const Attributes& attributes, Tensor& output) {
  Comparison(inputs, output, [](auto a, auto b) { return a != b; });
}

void SelectKernel(std::span<const Tensor* const> inputs,
                  const Attributes& attributes, Tensor& output) {
  const Tensor& condition = *inputs[0];
  for (const Tensor* input : inputs) {
    KILN_CHECK(input->num_elements() == output.num_elements());
  }
  DispatchDType(output.dtype(), [&]<typename T>() {
    const T* c = condition.data<T>();
    const T* a = inputs[1]->data<T>();
    const T* b = inputs[2]->data<T>();
    T* out = output.data<T>();
    for (int64_t i = 0; i < output.num_elements(); ++i) {
      out[i] = c[i] != T{0} ? a[i] : b[i];
    }
  });
}

}  // namespace kiln
