// gemm_bound: a peer-harness worker (see timing_worker.h) that runs only the
// five matrix products of the MNIST training step through OpenBLAS's CBLAS,
// ten steps per epoch. Nothing else of the step is computed, so its time is
// a bound that a whole step can beat only by doing its products better than
// OpenBLAS does them at these shapes.
//
// One step of the 784-200-10 MLP at batch 100 multiplies
//   Z1 = X·W1        [100,784]·[784,200]
//   Z2 = H·W2        [100,200]·[200,10]
//   ΔH = ΔZ2·W2ᵀ     [100,10]·[10,200]
//   ∂W1 = Xᵀ·ΔZ1     [784,100]·[100,200]
//   ∂W2 = Hᵀ·ΔZ2     [200,100]·[100,10]
// which is 63.9 MFLOP counting a multiply and an add as two.
//
//   OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX gemm_bound f64

#include <cblas.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "bench/peers/timing_worker.h"

namespace kiln::bench {
namespace {

constexpr int kBatch = 100;
constexpr int kImage = 784;
constexpr int kHidden = 200;
constexpr int kClasses = 10;
constexpr int kStepsPerEpoch = 10;

template <typename T>
std::vector<T> RandomMatrix(std::mt19937_64& rng, int rows, int cols) {
  std::uniform_real_distribution<double> uniform(-0.5, 0.5);
  std::vector<T> values(static_cast<size_t>(rows) * cols);
  for (T& value : values) value = static_cast<T>(uniform(rng));
  return values;
}

// c = op(a)·op(b) for row-major operands, in the type's own GEMM.
void Gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k,
          const float* a, int lda, const float* b, int ldb, float* c) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
}
void Gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k,
          const double* a, int lda, const double* b, int ldb, double* c) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, n);
}

template <typename T>
int Serve() {
  std::mt19937_64 rng(1);
  const std::vector<T> x = RandomMatrix<T>(rng, kBatch, kImage);
  const std::vector<T> w1 = RandomMatrix<T>(rng, kImage, kHidden);
  const std::vector<T> h = RandomMatrix<T>(rng, kBatch, kHidden);
  const std::vector<T> w2 = RandomMatrix<T>(rng, kHidden, kClasses);
  const std::vector<T> dz2 = RandomMatrix<T>(rng, kBatch, kClasses);
  const std::vector<T> dz1 = RandomMatrix<T>(rng, kBatch, kHidden);
  std::vector<T> z1(kBatch * kHidden), z2(kBatch * kClasses);
  std::vector<T> dh(kBatch * kHidden), dw1(kImage * kHidden);
  std::vector<T> dw2(kHidden * kClasses);
  const CBLAS_TRANSPOSE n = CblasNoTrans, t = CblasTrans;
  return ServeTimingRequests([&] {
    for (int step = 0; step < kStepsPerEpoch; ++step) {
      Gemm(n, n, kBatch, kHidden, kImage, x.data(), kImage, w1.data(), kHidden,
           z1.data());
      Gemm(n, n, kBatch, kClasses, kHidden, h.data(), kHidden, w2.data(),
           kClasses, z2.data());
      Gemm(n, t, kBatch, kHidden, kClasses, dz2.data(), kClasses, w2.data(),
           kClasses, dh.data());
      Gemm(t, n, kImage, kHidden, kBatch, x.data(), kImage, dz1.data(), kHidden,
           dw1.data());
      Gemm(t, n, kHidden, kClasses, kBatch, h.data(), kHidden, dz2.data(),
           kClasses, dw2.data());
    }
  });
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "f32") == 0) {
    return kiln::bench::Serve<float>();
  }
  if (argc == 2 && std::strcmp(argv[1], "f64") == 0) {
    return kiln::bench::Serve<double>();
  }
  std::fprintf(stderr, "usage: gemm_bound f32|f64\n");
  return 2;
}
