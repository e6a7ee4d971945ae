// The matrix product kernel.

#include <vector>

#include "ops/kernels.h"
#include "ops/product_sums.h"

namespace kiln {
namespace {

// sums[j] = Σ a_row[p]·b[p, j] over p in [begin, end), in increasing p
// from zero, for the n columns of the row-major b.
template <typename T>
void AccumulateRow(const T* a_row, const T* b, T* sums, int64_t n,
                   int64_t begin, int64_t end) {
  for (int64_t j = 0; j < n; ++j) sums[j] = T{0};
  for (int64_t p = begin; p < end; ++p) {
    const T a_ip = a_row[p];
    const T* b_row = b + p * n;
    for (int64_t j = 0; j < n; ++j) sums[j] += a_ip * b_row[j];
  }
}

// c = a · b for row-major a [m,k], b [k,n], c [m,n], in i-k-j order: the
// innermost loop walks one row of b and one row of c, both contiguous. Each
// c[i,j] accumulates in T from zero, adding the products in increasing k,
// or in the two halves of ops/product_sums.h; compiled code must follow the
// same order to agree.
template <typename T>
void MatMulRows(const T* a, const T* b, T* c, int64_t m, int64_t k, int64_t n) {
  const int64_t split = HalvedSumSplit(m, k);
  std::vector<T> second_half(split > 0 ? n : 0);
  for (int64_t i = 0; i < m; ++i) {
    T* c_row = c + i * n;
    if (split == 0) {
      AccumulateRow(a + i * k, b, c_row, n, 0, k);
      continue;
    }
    AccumulateRow(a + i * k, b, c_row, n, 0, split);
    AccumulateRow(a + i * k, b, second_half.data(), n, split, k);
    for (int64_t j = 0; j < n; ++j) c_row[j] += second_half[j];
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
