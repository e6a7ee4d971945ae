// The matrix product kernel.

#include "ops/kernels.h"

namespace kiln {
namespace {

// c = a · b for row-major a [m,k], b [k,n], c [m,n], in i-k-j order: the
// innermost loop walks one row of b and one row of c, both contiguous. Each
// c[i,j] accumulates in T, starting from zero and adding the products in
// increasing k, which is the order compiled code must follow to agree.
template <typename T>
void MatMulRows(const T* a, const T* b, T* c, int64_t m, int64_t k, int64_t n) {
  for (int64_t i = 0; i < m; ++i) {
    T* c_row = c + i * n;
    for (int64_t j = 0; j < n; ++j) c_row[j] = T{0};
    for (int64_t p = 0; p < k; ++p) {
      const T a_ip = a[i * k + p];
      const T* b_row = b + p * n;
      for (int64_t j = 0; j < n; ++j) c_row[j] += a_ip * b_row[j];
    }
  }
}

}  // namespace

void MatMulKernel(std::span<const Tensor* const> inputs,
                  const Attributes& attributes, Tensor& output) {
  const Tensor& a = *inputs[0];
  const Tensor& b = *inputs[1];
  KILN_CHECK(a.rank() == 2 && b.rank() == 2 && output.rank() == 2 &&
             a.shape()[1] == b.shape()[0] &&
             output.shape() == Shape({a.shape()[0], b.shape()[1]}));
  const int64_t m = a.shape()[0];
  const int64_t k = a.shape()[1];
  const int64_t n = b.shape()[1];
  DispatchDType(output.dtype(), [&]<typename T>() {
    MatMulRows(a.data<T>(), b.data<T>(), output.data<T>(), m, k, n);
  });
}

}  // namespace kiln
