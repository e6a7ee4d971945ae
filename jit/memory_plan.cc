#include "jit/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace kiln::jit {
namespace {

bool LifetimesOverlap(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first_kernel <= b.last_kernel && b.first_kernel <= a.last_kernel;
}

int64_t RoundUp(int64_t value, int64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace

int64_t PlanArena(const std::vector<BufferLifetime>& buffers,
                  int64_t alignment, std::vector<int64_t>& offsets) {
  offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  // Largest first; ties in index order, so the layout is deterministic.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return buffers[a].bytes > buffers[b].bytes;
  });

  std::vector<size_t> placed;
  int64_t arena_bytes = 0;
  for (size_t buffer : order) {
    const int64_t size = RoundUp(std::max<int64_t>(buffers[buffer].bytes, 1),
                                 alignment);
    // The byte ranges taken by live-at-the-same-time buffers, by offset.
    std::vector<std::pair<int64_t, int64_t>> taken;
    for (size_t other : placed) {
      if (LifetimesOverlap(buffers[buffer], buffers[other])) {
        taken.push_back({offsets[other],
                         offsets[other] + RoundUp(buffers[other].bytes,
                                                  alignment)});
      }
    }
    std::sort(taken.begin(), taken.end());
    int64_t offset = 0;
    for (const auto& [begin, end] : taken) {
      if (offset + size <= begin) break;
      offset = std::max(offset, end);
    }
    offsets[buffer] = offset;
    arena_bytes = std::max(arena_bytes, offset + size);
    placed.push_back(buffer);
  }
  return arena_bytes;
}

}  // namespace kiln::jit
