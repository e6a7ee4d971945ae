#include "jit/schedule.h"

#include <algorithm>
#include <cstdint>

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
    // A kernel's local scratch is private to each part.
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

  // The kernels since the last barrier, which may all still be running in
  // some part, and the serial parts handed out since then.
  std::vector<int> since_barrier;
  int next_serial_part = 0;
  for (size_t k = 0; k < program.kernels.size(); ++k) {
    Kernel& kernel = program.kernels[k];
    const bool split = kernel.split.extent > 0;
    // The serial parts of the conflicting kernels, or -1 if one of them is
    // split (it runs in every part).
    std::vector<int> conflicting_parts;
    for (int j : since_barrier) {
      if (!Conflict(footprints[j], footprints[k])) continue;
      const Kernel& earlier = program.kernels[j];
      conflicting_parts.push_back(
          earlier.split.extent > 0 ? -1 : earlier.serial_part);
    }
    std::sort(conflicting_parts.begin(), conflicting_parts.end());
    conflicting_parts.erase(
        std::unique(conflicting_parts.begin(), conflicting_parts.end()),
        conflicting_parts.end());

    kernel.barrier_before = k > 0 && !conflicting_parts.empty();
    if (!split && conflicting_parts.size() == 1 && conflicting_parts[0] >= 0) {
      // Follows the one part it depends on; no barrier needed.
      kernel.barrier_before = false;
      kernel.serial_part = conflicting_parts[0];
    } else if (!split) {
      if (kernel.barrier_before) next_serial_part = 0;
      kernel.serial_part = next_serial_part++;
    }
    if (kernel.barrier_before) since_barrier.clear();
    since_barrier.push_back(static_cast<int>(k));
  }
}

}  // namespace kiln::jit
