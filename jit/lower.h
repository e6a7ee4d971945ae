// Lowering: turns a fusion plan into a LoopProgram, one kernel per planned
// kernel, and says where each buffer of the program comes from.
//
// Every buffer is a feed (an input or parameter, read from the caller's
// tensor), a constant baked into the program, or a slice of one arena that
// memory planning lays out. Kernels follow the reference kernels' arithmetic
// exactly: each sum accumulates in the tensor's type and in the reference
// order, and vectors only ever run across independent elements. Compiled
// code therefore gives the interpreter's bits for the same graph; only the
// graph passes that the JIT runs first change any rounding.
//
// How each kind of kernel loops:
//   elementwise  one flat loop, or a nest over the result's dimensions when
//                broadcasts, transposes or one-hots need the coordinates;
//                vectors along the last dimension, a scalar tail after them.
//   matmul       i-p-j order per element, register-blocked: 4 rows × up to
//                4 vectors of accumulators (2 without AVX-512), the right
//                operand's panel reused across all row blocks, then the
//                epilogue on the registers; a row's last columns in one
//                vector with only its first lanes active. When the left
//                operand is a graph input (or its transpose) a second loop
//                visits only its nonzeros, chosen per run when the input is
//                sparse and the right operand finite: register blocks of
//                one or two rows for the input itself, groups of rows
//                summed in a local scratch array for its transpose.
//                A product whose sums are halved (ops/product_sums.h) is
//                two kernels: one computing each half's sums, one half per
//                chunk, and one adding them up through the epilogue. The
//                update of a weight that such a product reads splits its
//                rows in two chunks at the same row.
//   reduction    a nest over the kept dimensions with the reduced axis
//                innermost, vectorised across the inner dimension.
//   row-wise     per row: max, then the sum of exponentials, then values.
//   loss         row-major sums of the per-element terms, one scalar.
//
// Kernels with enough work split their outermost loop (rows of a product,
// the flat index of an elementwise loop) between the parts of a run; the
// others run whole in one part (see KernelSplit).
//
//   FusionPlan plan = PlanFusion(graph, outputs, updates);
//   absl::StatusOr<LoweredProgram> lowered =
//       LowerToLoops(graph, outputs, plan, {.vector_bytes = 64});

#ifndef KILN_JIT_LOWER_H_
#define KILN_JIT_LOWER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ad/graph.h"
#include "jit/fusion.h"
#include "jit/loop_ir.h"
#include "ops/tensor.h"

namespace kiln::jit {

// Where the executor finds buffer b of the table before each run.
struct BufferBinding {
  // kLocal: a kernel's scratch memory (BufferInfo::local), which lives on
  // that kernel's stack and has no table entry.
  enum class Source { kFeed, kConstant, kArena, kLocal };
  Source source = Source::kArena;
  // kFeed: the input or parameter's name.
  std::string feed_name;
  // kConstant: the value.
  std::shared_ptr<const Tensor> constant;
  // kArena: the kernels that write it first and read it last, by index;
  // memory planning fills in the offset.
  int first_kernel = 0;
  int last_kernel = 0;
  int64_t arena_offset = 0;
};

struct LoweredOutput {
  int buffer = -1;
  Shape shape;
  DType dtype = DType::kF32;
};

struct LoweredProgram {
  LoopProgram loops;
  // Parallel to loops.buffers.
  std::vector<BufferBinding> bindings;
  // Parallel to loops.kernels: the kernel of the fusion plan that each
  // kernel lowers. A product with halved sums lowers into two kernels.
  std::vector<int> plan_kernels;
  // One per output given to LowerToLoops, in order.
  std::vector<LoweredOutput> outputs;
};

struct LoweringOptions {
  // The widest vector register: 64 bytes for AVX-512.
  int vector_bytes = 64;
  // See LoopProgram::vector_math_library.
  bool vector_math_library = false;
  // Whether a matrix product whose left operand is a graph input (or its
  // transpose) also gets the zero-skipping loop, which runs instead of the
  // plain one whenever the input is sparse and the other operand finite.
  bool skip_input_zeros = false;
};

// Lowers `plan`, made by PlanFusion for `graph` and `outputs`. Fails with
// kUnimplemented for a graph the loops cannot express, naming the op.
absl::StatusOr<LoweredProgram> LowerToLoops(Graph& graph,
                                            const std::vector<Node>& outputs,
                                            const FusionPlan& plan,
                                            const LoweringOptions& options);

}  // namespace kiln::jit

#endif  // KILN_JIT_LOWER_H_
