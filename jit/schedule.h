// Scheduling the parts of a run: which earlier kernels each kernel must
// wait for.
//
// When a program runs as several parts, one per thread, the parts go
// through the kernels in program order, each computing the chunks of a
// kernel it manages to claim, or the whole of an unsplit kernel if it
// claims it first. A part may reach a kernel while other parts still
// compute earlier ones, so a kernel must wait for an earlier kernel only if
// the two could race: one writes memory the other reads or writes. Memory
// is compared as it is laid out: arena buffers by their byte ranges, since
// memory planning lets buffers with disjoint lifetimes share bytes, and
// every other buffer (a feed or a constant) as an object of its own; a
// kernel's local scratch is private to each part. Independent kernels,
// small ones in particular, thus run at the same time in different parts.
//
// Waiting is transitive: a kernel that is complete had all its own waits
// satisfied before it started, so a wait that another wait implies is left
// out. The schedule holds for any number of parts, so compiled code does
// not depend on the thread count.
//
//   ScheduleParts(lowered.bindings, lowered.loops);  // after PlanArena

#ifndef KILN_JIT_SCHEDULE_H_
#define KILN_JIT_SCHEDULE_H_

#include <vector>

#include "jit/loop_ir.h"
#include "jit/lower.h"

namespace kiln::jit {

// Sets waits_for of every kernel of `program`, whose buffers are bound by
// `bindings` with their arena offsets planned.
void ScheduleParts(const std::vector<BufferBinding>& bindings,
                   LoopProgram& program);

}  // namespace kiln::jit

#endif  // KILN_JIT_SCHEDULE_H_
