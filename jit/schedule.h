// Scheduling the parts of a run: which part runs each kernel that is not
// split, and before which kernels the parts must wait for each other.
//
// When a program runs as several parts, one per thread, every split kernel
// runs in all parts and every other kernel in one. A barrier before a
// kernel is needed only if the kernel could otherwise race with a kernel
// that another part may still be running: one writes memory the other reads
// or writes. Memory is compared as it is laid out: arena buffers by their
// byte ranges, since memory planning lets buffers with disjoint lifetimes
// share bytes, and every other buffer (a feed or a constant) as an object of
// its own. Kernels that run whole in the same part never race, so dependent
// small kernels are kept together in one part and independent ones spread
// over the parts, to run at the same time.
//
// The schedule holds for any number of parts, so compiled code does not
// depend on the thread count.
//
//   ScheduleParts(lowered.bindings, lowered.loops);  // after PlanArena

#ifndef KILN_JIT_SCHEDULE_H_
#define KILN_JIT_SCHEDULE_H_

#include <vector>

#include "jit/loop_ir.h"
#include "jit/lower.h"

namespace kiln::jit {

// Sets serial_part and barrier_before of every kernel of `program`, whose
// buffers are bound by `bindings` with their arena offsets planned.
void ScheduleParts(const std::vector<BufferBinding>& bindings,
                   LoopProgram& program);

}  // namespace kiln::jit

#endif  // KILN_JIT_SCHEDULE_H_
