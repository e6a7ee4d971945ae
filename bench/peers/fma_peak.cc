// fma_peak: a peer-harness worker (see timing_worker.h) that measures the
// floating-point peak of the cores it runs on and states it as the time an
// epoch of MNIST training steps would take at that peak: ten steps of 63.9
// MFLOP of matrix products each, with nothing else done.
//
// Each thread runs independent chains of fused multiply-adds, enough of
// them to cover the instruction's latency, on the widest vectors the CPU
// has (AVX-512 where present, else AVX2). An "epoch" is one timed run of
// exactly the epoch's multiply-adds, in chunks that the threads of a
// jit::ThreadPool claim, as the parts of a compiled step claim theirs: the
// threads live as long as the worker and wait for the next epoch as Kiln's
// do, so that the two-core figure is what Kiln's own threads could reach,
// not the cost of starting a thread on an idle core every epoch.
//
//   fma_peak f32 1     # one core
//   fma_peak f64 2     # two cores, one thread each

#include <immintrin.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bench/peers/timing_worker.h"
#include "jit/thread_pool.h"

namespace kiln::bench {
namespace {

// Floating-point operations of one step's five products, counting a
// multiply-add as two: 2·(100·784·200 + 100·200·10 + 100·10·200 +
// 784·100·200 + 200·100·10).
constexpr double kStepFlops =
    2.0 * (100.0 * 784 * 200 + 100.0 * 200 * 10 + 100.0 * 10 * 200 +
           784.0 * 100 * 200 + 200.0 * 100 * 10);
constexpr int kStepsPerEpoch = 10;
// Independent accumulator chains: latency 4 × 2 pipes, with room to spare.
constexpr int kChains = 12;

// Each function runs `iterations` rounds of kChains independent vector FMAs
// and returns a value that depends on every one of them, so that none can
// be left out. They differ only in the vector type and its intrinsics.
#define KILN_FMA_CHAINS(name, features, vector, set1, fmadd, store, scalar) \
  __attribute__((target(features), noinline)) double name(                  \
      int64_t iterations) {                                                 \
    const vector scale = set1(static_cast<scalar>(0.999));                  \
    const vector offset = set1(static_cast<scalar>(1e-3));                  \
    vector chains[kChains];                                                 \
    for (int c = 0; c < kChains; ++c) chains[c] = set1(c);                  \
    for (int64_t i = 0; i < iterations; ++i) {                              \
      _Pragma("GCC unroll 12") for (int c = 0; c < kChains; ++c) {          \
        chains[c] = fmadd(chains[c], scale, offset);                        \
      }                                                                     \
    }                                                                       \
    double total = 0;                                                       \
    for (int c = 0; c < kChains; ++c) {                                     \
      alignas(64) scalar lanes[sizeof(vector) / sizeof(scalar)];            \
      store(lanes, chains[c]);                                              \
      for (scalar lane : lanes) total += lane;                              \
    }                                                                       \
    return total;                                                           \
  }

KILN_FMA_CHAINS(Avx512F32, "avx512f,fma", __m512, _mm512_set1_ps,
                _mm512_fmadd_ps, _mm512_store_ps, float)
KILN_FMA_CHAINS(Avx512F64, "avx512f,fma", __m512d, _mm512_set1_pd,
                _mm512_fmadd_pd, _mm512_store_pd, double)
KILN_FMA_CHAINS(Avx2F32, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps,
                _mm256_store_ps, float)
KILN_FMA_CHAINS(Avx2F64, "avx2,fma", __m256d, _mm256_set1_pd, _mm256_fmadd_pd,
                _mm256_store_pd, double)
#undef KILN_FMA_CHAINS

// An epoch's multiply-adds in kChunks chunks, claimed one at a time by
// whichever thread is free; each part leaves its result in `sinks`.
constexpr int kChunks = 32;

struct EpochWork {
  double (*run)(int64_t iterations) = nullptr;
  int64_t iterations_per_chunk = 0;
  std::atomic<int> next_chunk{0};
  std::vector<double> sinks;
};

void RunChunks(void* context, int part) {
  auto* work = static_cast<EpochWork*>(context);
  double sink = 0;
  for (int chunk = work->next_chunk.fetch_add(1); chunk < kChunks;
       chunk = work->next_chunk.fetch_add(1)) {
    sink += work->run(work->iterations_per_chunk);
  }
  work->sinks[part] = sink;
}

int Serve(bool f64, int threads) {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const int vector_bytes = avx512 ? 64 : 32;
  const int lanes = vector_bytes / (f64 ? 8 : 4);
  EpochWork work;
  work.run = avx512 ? (f64 ? Avx512F64 : Avx512F32) : (f64 ? Avx2F64 : Avx2F32);
  // Each iteration does kChains vector FMAs of 2·lanes FLOPs.
  const double flops_per_iteration = 2.0 * lanes * kChains;
  work.iterations_per_chunk = static_cast<int64_t>(
      kStepFlops * kStepsPerEpoch / flops_per_iteration / kChunks);
  work.sinks.assign(threads, 0);
  std::fprintf(stderr, "fma_peak: %s, %d-byte vectors, %d thread(s)\n",
               f64 ? "f64" : "f32", vector_bytes, threads);
  jit::ThreadPool pool(threads);
  return ServeTimingRequests([&] {
    work.next_chunk.store(0, std::memory_order_relaxed);
    pool.Run(&RunChunks, &work);
    if (work.sinks[0] == 12345.0) std::fprintf(stderr, "unlikely\n");
  });
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
  const bool ok = argc == 3 && (std::strcmp(argv[1], "f32") == 0 ||
                                std::strcmp(argv[1], "f64") == 0);
  const int threads = ok ? std::atoi(argv[2]) : 0;
  if (!ok || threads < 1 || threads > 64) {
    std::fprintf(stderr, "usage: fma_peak f32|f64 THREADS\n");
    return 2;
  }
  return kiln::bench::Serve(std::strcmp(argv[1], "f64") == 0, threads);
}
