#include "jit/kernel_queue.h"

#include <chrono>

#include "jit/spin_wait.h"
#include "ops/base/check.h"

namespace kiln::jit {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NanosecondsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() -
                                                              start)
      .count();
}

}  // namespace

std::vector<KernelQueue::KernelInfo> KernelQueue::InfoOf(
    const LoopProgram& program) {
  std::vector<KernelInfo> kernels;
  for (const Kernel& kernel : program.kernels) {
    const bool split = kernel.split.extent > 0;
    kernels.push_back({.split = split,
                       .chunks = split ? kernel.split.chunks : 1,
                       .waits_for = kernel.waits_for});
  }
  return kernels;
}

KernelQueue::KernelQueue(std::vector<KernelInfo> kernels)
    : kernels_(std::move(kernels)),
      counters_(std::make_unique<Counters[]>(kernels_.size())) {
  for (size_t k = 0; k < kernels_.size(); ++k) {
    KILN_CHECK(kernels_[k].chunks >= 1)
        << "kernel " << k << " has " << kernels_[k].chunks << " chunks";
    for (int j : kernels_[k].waits_for) {
      KILN_CHECK(j >= 0 && static_cast<size_t>(j) < k)
          << "kernel " << k << " waits for kernel " << j;
    }
  }
}

void KernelQueue::Reset() {
  for (size_t k = 0; k < kernels_.size(); ++k) {
    counters_[k].claims.store(0, std::memory_order_relaxed);
    counters_[k].done_chunks.store(0, std::memory_order_relaxed);
  }
}

int64_t KernelQueue::Claim(int k, bool from_back) {
  std::atomic<uint64_t>& claims = counters_[k].claims;
  const uint64_t chunks = static_cast<uint64_t>(kernels_[k].chunks);
  uint64_t seen = claims.load(std::memory_order_relaxed);
  while (true) {
    const uint64_t front = seen & 0xffffffff;
    const uint64_t back = seen >> 32;
    if (front + back >= chunks) return -1;
    // Relaxed: a chunk's inputs are published by the waits before the
    // kernel, its results by Finish.
    if (claims.compare_exchange_weak(seen,
                                     seen + (from_back ? kOneFromBack : 1),
                                     std::memory_order_relaxed)) {
      return static_cast<int64_t>(from_back ? chunks - 1 - back : front);
    }
  }
}

bool KernelQueue::AnyLeft(int k) const {
  const uint64_t seen = counters_[k].claims.load(std::memory_order_relaxed);
  return (seen & 0xffffffff) + (seen >> 32) <
         static_cast<uint64_t>(kernels_[k].chunks);
}

int64_t KernelQueue::ClaimChunk(void* claimer, int64_t kernel) {
  auto* self = static_cast<Claimer*>(claimer);
  const int64_t chunk =
      self->queue->Claim(static_cast<int>(kernel), self->from_back);
  if (chunk >= 0) ++self->claimed;
  return chunk;
}

void KernelQueue::AwaitComplete(int k) {
  const int chunks = static_cast<int>(kernels_[k].chunks);
  std::atomic<int>& done = counters_[k].done_chunks;
  for (int seen = done.load(std::memory_order_acquire); seen != chunks;
       seen = done.load(std::memory_order_acquire)) {
    AwaitChange(done, seen);
  }
}

void KernelQueue::Finish(int k, int64_t chunks) {
  std::atomic<int>& done = counters_[k].done_chunks;
  const int now =
      done.fetch_add(static_cast<int>(chunks), std::memory_order_acq_rel) +
      static_cast<int>(chunks);
  if (now == kernels_[k].chunks) done.notify_all();
}

void KernelQueue::RunAsPart(int part, int parts, KernelFunction run,
                            void* context, KernelProfile* profile) {
  if (parts == 1) {
    RunAlone(run, context, profile);
    return;
  }
  Claimer claimer{.queue = this, .from_back = part != 0};
  const RunPart run_part{.index = part,
                         .count = parts,
                         .claim_chunk = &ClaimChunk,
                         .claim_state = &claimer};
  const RunPart whole;
  for (size_t k = 0; k < kernels_.size(); ++k) {
    const int kernel = static_cast<int>(k);
    const KernelInfo& info = kernels_[k];
    Clock::time_point start;
    if (profile != nullptr) start = Clock::now();
    for (int j : info.waits_for) AwaitComplete(j);
    if (profile != nullptr) {
      profile->AddWait(part, kernel, NanosecondsSince(start));
      start = Clock::now();
    }
    if (info.split) {
      // A kernel whose chunks are all claimed needs no call.
      if (AnyLeft(kernel)) {
        claimer.claimed = 0;
        run(context, kernel, run_part);
        if (claimer.claimed > 0) Finish(kernel, claimer.claimed);
      }
    } else if (AnyLeft(kernel) && Claim(kernel, /*from_back=*/false) == 0) {
      run(context, kernel, whole);
      Finish(kernel, 1);
    }
    if (profile != nullptr) {
      profile->AddKernel(part, kernel, NanosecondsSince(start));
    }
  }
}

void KernelQueue::RunAlone(KernelFunction run, void* context,
                           KernelProfile* profile) {
  const RunPart whole;
  for (size_t k = 0; k < kernels_.size(); ++k) {
    const int kernel = static_cast<int>(k);
    Clock::time_point start;
    if (profile != nullptr) start = Clock::now();
    run(context, kernel, whole);
    if (profile != nullptr) {
      profile->AddKernel(0, kernel, NanosecondsSince(start));
    }
  }
}

}  // namespace kiln::jit
