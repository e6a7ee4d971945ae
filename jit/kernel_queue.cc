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
    counters_[k].next_chunk.store(0, std::memory_order_relaxed);
    counters_[k].done_chunks.store(0, std::memory_order_relaxed);
  }
}

int64_t KernelQueue::ClaimChunk(void* claimer, int64_t kernel) {
  auto* self = static_cast<Claimer*>(claimer);
  KernelQueue& queue = *self->queue;
  const int chunk = queue.counters_[kernel].next_chunk.fetch_add(
      1, std::memory_order_relaxed);
  if (chunk >= queue.kernels_[kernel].chunks) return -1;
  ++self->claimed;
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
  Claimer claimer{this};
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
      if (counters_[k].next_chunk.load(std::memory_order_relaxed) <
          info.chunks) {
        claimer.claimed = 0;
        run(context, kernel, run_part);
        if (claimer.claimed > 0) Finish(kernel, claimer.claimed);
      }
    } else if (counters_[k].next_chunk.load(std::memory_order_relaxed) == 0 &&
               counters_[k].next_chunk.fetch_add(
                   1, std::memory_order_relaxed) == 0) {
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
