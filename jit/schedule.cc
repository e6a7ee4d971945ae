#include "jit/schedule.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ops/base/check.h"

namespace kiln::jit {
namespace {

// Memory a buffer occupies: bytes [begin, end) of one object. Arena buffers
// all belong to the arena, object −1; any other buffer is object b.
struct Region {
  int object = 0;
  int64_t begin = 0;
  int64_t end = 0;

  bool Overlaps(const Region& other) const {
    return object == other.object && begin < other.end && other.begin < end;
  }
};

Region RegionOf(const std::vector<BufferBinding>& bindings,
                const LoopProgram& program, int buffer) {
  const int64_t bytes =
      program.buffers[buffer].num_elements *
      static_cast<int64_t>(DTypeSize(program.buffers[buffer].dtype));
  if (bindings[buffer].source == BufferBinding::Source::kArena) {
    const int64_t offset = bindings[buffer].arena_offset;
    return {-1, offset, offset + bytes};
  }
  return {buffer, 0, bytes};
}

// What one kernel touches.
struct Footprint {
  std::vector<Region> reads, writes;
};

bool AnyOverlap(const std::vector<Region>& a, const std::vector<Region>& b) {
  for (const Region& x : a) {
    for (const Region& y : b) {
      if (x.Overlaps(y)) return true;
    }
  }
  return false;
}

bool Conflict(const Footprint& a, const Footprint& b) {
  return AnyOverlap(a.writes, b.reads) || AnyOverlap(a.writes, b.writes) ||
         AnyOverlap(a.reads, b.writes);
}

}  // namespace

void ScheduleParts(const std::vector<BufferBinding>& bindings,
                   LoopProgram& program) {
  KILN_CHECK(bindings.size() == program.buffers.size());
  std::vector<Footprint> footprints;
  for (const Kernel& kernel : program.kernels) {
    Footprint footprint;
    for (int b : kernel.buffers_read) {
      if (program.buffers[b].local) continue;
      footprint.reads.push_back(RegionOf(bindings, program, b));
    }
    for (int b : kernel.buffers_written) {
      if (program.buffers[b].local) continue;
      footprint.writes.push_back(RegionOf(bindings, program, b));
    }
    footprints.push_back(std::move(footprint));
  }

  // implied[k][j]: kernel k being complete implies that kernel j is.
  const size_t n = program.kernels.size();
  std::vector<std::vector<bool>> implied(n, std::vector<bool>(n, false));
  for (size_t k = 0; k < n; ++k) {
    Kernel& kernel = program.kernels[k];
    kernel.waits_for.clear();
    // The latest conflicts first, so that the waits they imply are known
    // before the earlier ones are considered.
    for (size_t j = k; j-- > 0;) {
      if (implied[k][j] || !Conflict(footprints[j], footprints[k])) continue;
      kernel.waits_for.push_back(static_cast<int>(j));
      implied[k][j] = true;
      for (size_t i = 0; i < j; ++i) {
        if (implied[j][i]) implied[k][i] = true;
      }
    }
    std::sort(kernel.waits_for.begin(), kernel.waits_for.end());
  }
}

}  // namespace kiln::jit
