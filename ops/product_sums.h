// The order in which a matrix product adds its terms. The reference kernel
// and compiled code both follow it, so that they give the same bits.
//
// Each element c[i, j] of a·b, for a [m, k] and b [k, n], is summed in the
// tensor's type from +0, adding a[i, p]·b[p, j] in increasing p. A product
// with long sums and few rows, k ≥ kHalvedSumMinTerms and 2m ≤ k, instead
// sums p < h and p ≥ h apart, each from +0 in increasing p, and adds the
// second sum to the first: c = (Σ_{p<h}) + (Σ_{p≥h}). h is the middle of
// [0, k) rounded to a multiple of 16, so that each half of b starts on a
// cache line whatever its rows' length.
//
// Why: in such a product the halves' sums, 2·m·n values, are no more than
// b's k·n, which makes b the operand worth keeping in place, like a first
// layer's weights against a small batch. Compiled code gives each of two
// threads one half, which reads only its own half of b's rows, and a step
// that then updates b splits the update's rows at the same row (see
// jit/lower.h), so that each core writes the rows it read and b stays in
// its caches from step to step. Splitting c's rows or columns instead
// makes every core read lines of b that the other core wrote.
//
//   const int64_t h = HalvedSumSplit(100, 784);  // 400: [0, 400), [400, 784)
//   const int64_t none = HalvedSumSplit(1000, 784);  // 0: one sum

#ifndef KILN_OPS_PRODUCT_SUMS_H_
#define KILN_OPS_PRODUCT_SUMS_H_

#include <cstdint>

namespace kiln {

inline constexpr int64_t kHalvedSumMinTerms = 512;

// Where the sums of an [m, k]·[k, n] product split, or 0 when each is one
// sum over [0, k).
constexpr int64_t HalvedSumSplit(int64_t m, int64_t k) {
  if (k < kHalvedSumMinTerms || 2 * m > k) return 0;
  return (k / 2 + 8) / 16 * 16;
}

}  // namespace kiln

#endif  // KILN_OPS_PRODUCT_SUMS_H_
