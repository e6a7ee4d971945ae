// Memory planning: lays out a program's intermediate buffers in one arena,
// letting buffers whose lifetimes do not overlap share bytes.
//
// A buffer lives from the kernel that first writes it to the last kernel
// that reads it, both included. Two buffers may overlap in the arena only if
// those intervals are disjoint, so a kernel never reads a value that a later
// kernel has clobbered, and a kernel's inputs and outputs never alias.
//
// The layout is greedy, largest buffer first, each at the lowest aligned
// offset that conflicts with no buffer already placed. That is the classic
// heuristic: not optimal, but close on the chain-like graphs of training
// steps, and deterministic.
//
//   std::vector<int64_t> offsets;
//   int64_t bytes = PlanArena({{4096, 0, 2}, {4096, 3, 5}}, 64, offsets);
//   // bytes == 4096: the second buffer reuses the first one's bytes.

#ifndef KILN_JIT_MEMORY_PLAN_H_
#define KILN_JIT_MEMORY_PLAN_H_

#include <cstdint>
#include <vector>

namespace kiln::jit {

struct BufferLifetime {
  int64_t bytes = 0;
  int first_kernel = 0;
  int last_kernel = 0;
};

// Fills `offsets` (one per buffer) with byte offsets that are multiples of
// `alignment`, and returns the arena's size in bytes.
int64_t PlanArena(const std::vector<BufferLifetime>& buffers,
                  int64_t alignment, std::vector<int64_t>& offsets);

}  // namespace kiln::jit

#endif  // KILN_JIT_MEMORY_PLAN_H_
