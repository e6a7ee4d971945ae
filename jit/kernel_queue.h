// KernelQueue: hands out the kernels of one run of a compiled program, in
// chunks, to the threads that compute it.
//
// Every part of a run (one per thread) goes through the kernels in program
// order. At each kernel it first waits until the earlier kernels it must
// wait for (Kernel::waits_for) are complete, then computes what it can
// claim: chunks of a split kernel, one at a time while any are left, or the
// whole of an unsplit kernel if no other part has claimed it yet. Parts
// that finish early thus take over the work of slower ones, small
// independent kernels spread over the parts by themselves, and a part that
// starts late, because its thread lost its core for a while, holds up no
// one unless it holds a chunk. Part 0 claims a kernel's chunks from the
// first on, every other part from the last back, so that with two threads
// each keeps to its own end of every kernel from run to run, and the data
// a chunk writes in one run is mostly in the cache of the core that reads
// or writes it again in the next. Which part computes which chunk may
// still vary; what a chunk computes does not, so results are the same bits
// for any number of threads.
//
// Counters live in the queue, one cache line per kernel, so that a run
// allocates nothing. Reset them before each run, while no part runs.
//
//   KernelQueue queue(ChunksOf(program.kernels));
//   queue.Reset();
//   pool.Run(...);  // each part calls queue.RunAsPart(part, parts, ...)

#ifndef KILN_JIT_KERNEL_QUEUE_H_
#define KILN_JIT_KERNEL_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "jit/kernel_profile.h"
#include "jit/loop_ir.h"

namespace kiln::jit {

class KernelQueue {
 public:
  // What the queue needs to know of kernel k: how many chunks it has (1 for
  // an unsplit kernel) and which kernels it waits for.
  struct KernelInfo {
    bool split = false;
    int64_t chunks = 1;
    std::vector<int> waits_for;
  };

  // The KernelInfo of every kernel of `program`.
  static std::vector<KernelInfo> InfoOf(const LoopProgram& program);

  explicit KernelQueue(std::vector<KernelInfo> kernels);
  KernelQueue(const KernelQueue&) = delete;
  KernelQueue& operator=(const KernelQueue&) = delete;

  // Makes every kernel unclaimed and incomplete again. No part may be in
  // RunAsPart.
  void Reset();

  // Computes kernel `kernel` as `part` says: through the kernel's compiled
  // function, which claims chunks with part.claim_chunk.
  using KernelFunction = void (*)(void* context, int kernel,
                                  const RunPart& part);

  // Runs part `part` of `parts` of the run, calling `run` for each kernel
  // this part computes. Returns when the part has nothing left to do,
  // which may be before other parts finish theirs. With a `profile`,
  // records the time of every kernel call and every wait in it.
  void RunAsPart(int part, int parts, KernelFunction run, void* context,
                 KernelProfile* profile = nullptr);

 private:
  // What one part's claims go through: the queue, the end of the chunks
  // it claims from, and how many chunks of the current kernel the part has
  // claimed.
  struct Claimer {
    KernelQueue* queue;
    bool from_back = false;
    int64_t claimed = 0;
  };
  // RunPart::claim_chunk.
  static int64_t ClaimChunk(void* claimer, int64_t kernel);

  // Kernel k's claims and completed chunks, on a cache line of their own.
  // The claims word counts the chunks claimed from the front in its low 32
  // bits and those claimed from the back in its high 32 bits.
  struct alignas(64) Counters {
    std::atomic<uint64_t> claims{0};
    std::atomic<int> done_chunks{0};
  };
  static constexpr uint64_t kOneFromBack = uint64_t{1} << 32;

  // Claims the next chunk of kernel k from the front or the back and
  // returns its number, or -1 when every chunk is claimed.
  int64_t Claim(int k, bool from_back);
  // Whether kernel k has a chunk left to claim.
  bool AnyLeft(int k) const;
  // Returns once kernel k is complete.
  void AwaitComplete(int k);
  // Records `chunks` more chunks of kernel k done by the caller, whose
  // writes become visible to whoever then sees the kernel complete.
  void Finish(int k, int64_t chunks);
  // Runs `part` of every kernel in order on the calling thread alone.
  void RunAlone(KernelFunction run, void* context, KernelProfile* profile);

  std::vector<KernelInfo> kernels_;
  std::unique_ptr<Counters[]> counters_;
};

}  // namespace kiln::jit

#endif  // KILN_JIT_KERNEL_QUEUE_H_
