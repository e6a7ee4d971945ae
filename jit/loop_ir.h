// The loop IR: Kiln's own small language for fused kernels.
//
// Lowering turns groups of graph nodes into kernels written in this IR; code
// generation turns each kernel into an LLVM function. The IR sits between
// the two so that fusion decisions can be printed and tested without LLVM,
// and so that code generation stays a plain, mechanical translation.
//
// A Kernel is a loop nest over buffers. Buffers are flat arrays of f32 or
// f64 identified by their index in the program's buffer table; a kernel
// receives the table and reads the pointers it needs. Values are scalars or
// vectors of `lanes` elements; a vector load or store touches `lanes`
// consecutive elements starting at its index.
//
//   // out[i] = exp(in[i]) for 0 <= i < 4000, eight lanes at a time.
//   Kernel kernel{.name = "exp", .buffers_read = {in}, .buffers_written =
//                 {out}};
//   Var i = NewVar(kernel);
//   kernel.body = For(i, 0, 4000, 8, {Store(out, Index(i),
//       Unary(UnaryOp::kExp, Load(in, Index(i), ScalarKind::kF32, 8)))});
//
// Semantics are those of the reference kernels (ops/kernels.h): IEEE
// arithmetic in the buffer's type, no reassociation except where an op says
// so, and transcendental functions as accurate as the C library's.
//
// A program can run as several parts at once, one per thread. A kernel that
// declares a split (Kernel::split) divides the iterations of its outermost
// loop into chunks, which the parts claim one at a time while any are left,
// each chunk computing whole output elements, so that results never depend
// on the number of parts or on which part computes which chunk; a kernel
// without one runs whole in whichever part claims it first. A part starts
// a kernel only once the earlier kernels it conflicts with are complete
// (Kernel::waits_for).

#ifndef KILN_JIT_LOOP_IR_H_
#define KILN_JIT_LOOP_IR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ops/dtype.h"

namespace kiln::jit {

// The element type of a value: a floating-point type of the tensors, a
// 64-bit index, or a predicate.
enum class ScalarKind { kF32, kF64, kIndex, kBool };

ScalarKind ScalarKindOf(DType dtype);

struct ValueType {
  ScalarKind kind = ScalarKind::kF32;
  int lanes = 1;

  bool operator==(const ValueType&) const = default;
};

enum class UnaryOp {
  kNeg,
  kExp,
  kLog,
  kLog1p,  // log(1 + x), accurate for small x
  kTanh,
  kAbs,
};

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMax,  // IEEE maxNum: the larger operand; NaN only if both are NaN
  kMin,
  // Comparisons give kBool values.
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kEqual,
  kNotEqual,
};

// A loop variable or mutable local, numbered within its kernel.
struct Var {
  int id = -1;
};

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
  enum class Kind {
    kConstant,     // `constant` converted to `type` (splat across lanes)
    kIndexConstant,  // `index_constant`, a kIndex scalar
    kVar,            // the current value of `var`
    kLoad,           // buffer[index .. index + lanes); see active_lanes
    kUnary,          // unary_op(operands[0])
    kBinary,         // binary_op(operands[0], operands[1])
    kSelect,         // operands[0] ? operands[1] : operands[2], per lane; a
                     // scalar operands[0] selects whole vectors
    kFma,            // operands[0] * operands[1] + operands[2], one rounding
    kBroadcast,      // the scalar operands[0] repeated across type.lanes
    kReduceLanes,    // the scalar combination of a vector's lanes (see below)
    kToFloat,        // the kBool operands[0] as 1.0 or 0.0 of type.kind
    kIndexToFloat,   // the kIndex operands[0] converted to type.kind
  };

  Kind kind;
  ValueType type;
  double constant = 0;
  int64_t index_constant = 0;
  Var var;
  int buffer = -1;
  // kLoad: when positive and below the lanes, only the first active_lanes
  // elements are read and the other lanes are zero, so that a vector may
  // overhang the end of a row or buffer.
  int active_lanes = 0;
  UnaryOp unary_op = UnaryOp::kNeg;
  BinaryOp binary_op = BinaryOp::kAdd;
  // kReduceLanes: kAdd or kMax. Addition combines lanes pairwise, halving the
  // width each time, so results do not depend on the code generator.
  std::vector<ExprPtr> operands;
};

struct Stmt;
using StmtPtr = std::shared_ptr<const Stmt>;

struct Stmt {
  enum class Kind {
    kFor,     // for (var = begin; var < end; var += step) body
    kBlock,   // body statements in order
    kStore,   // buffer[index .. index + lanes) = value; see active_lanes
    kAssign,  // var = value; a local's first assignment declares its type
    kIf,      // if (value) body else else_body; value is a kBool scalar
    // for var over the positions q in [0, extent), in increasing order,
    // at which any of `rows` rows of buffer holds a nonzero,
    //   buffer[index + r·row_stride + q·stride] != 0  for some r < rows,
    // run body. != is C++'s: NaN counts as nonzero. The positions are
    // found with vector compares, without a branch per element.
    kForNonzero,
  };

  Kind kind;
  Var var;
  ExprPtr begin, end;  // kIndex scalars; `end` is exclusive
  int64_t step = 1;
  int buffer = -1;
  ExprPtr index;  // kStore, kForNonzero
  ExprPtr value;  // kStore, kAssign, kIf
  // kStore: when positive and below the value's lanes, only the first
  // active_lanes elements are written.
  int active_lanes = 0;
  std::vector<StmtPtr> body;
  std::vector<StmtPtr> else_body;  // kIf
  // kForNonzero.
  int64_t extent = 0;
  int64_t stride = 1;
  int rows = 1;
  int64_t row_stride = 0;
};

// A buffer of the program's table as a kernel sees it.
struct BufferInfo {
  DType dtype = DType::kF32;
  int64_t num_elements = 0;
  std::string name;  // for dumps: the graph node or feed it holds
  // Scratch memory of the one kernel that uses it: each call of that
  // kernel, in each part, has its own copy on its stack, uninitialised. The
  // table has no entry for it.
  bool local = false;
};

// How a kernel divides its work between the parts of a run. Iterations
// [0, extent) form `chunks` chunks of whole grains of `grain` iterations
// (the last grain may be short), as equal in grains as they go, in order:
// chunk c of C holds grains [c·G/C, (c+1)·G/C), rounded down, of the G
// grains. A run of one part computes the whole range as a single chunk.
// Before the body runs for a chunk, `begin` and `end` hold the chunk's
// iterations and `grain_end` the end of its whole grains,
//   grain_end = begin + (end − begin) / grain · grain,
// so that register-blocked loops can run to grain_end and a tail loop from
// there to end.
struct KernelSplit {
  int64_t extent = 0;  // 0: the kernel runs whole in one part
  int64_t grain = 1;
  int64_t chunks = 1;
  Var begin, end, grain_end;
};

// One fused loop nest, compiled to one function
//   void <name>(char* const* buffer_table, const RunPart* part)
// that reads buffer b's base address from buffer_table[b]. A kernel with a
// split computes, in a run of several parts, the chunks it claims through
// `part`, and in a run of one part the whole range; a kernel without one
// always computes everything.
struct Kernel {
  std::string name;
  std::vector<int> buffers_read;
  std::vector<int> buffers_written;
  int num_vars = 0;
  // A split kernel's statements that every part computing any of its
  // chunks runs once, before the first; the chunks' bodies may read the
  // variables it assigns. Null for none.
  StmtPtr prologue;
  // Run once per chunk of a split kernel, once for any other kernel.
  StmtPtr body;
  KernelSplit split;
  // The earlier kernels, by index, that must be complete before any part
  // starts this kernel in a run of several parts: those that write memory
  // this kernel reads or writes, or read memory it writes (see
  // jit/schedule.h).
  std::vector<int> waits_for;
};

// A whole program: the buffer table's layout and the kernels to run in
// order.
struct LoopProgram {
  std::vector<BufferInfo> buffers;
  std::vector<Kernel> kernels;
  // How vectors of exp, log, log1p and tanh are computed. False: one call
  // of the C library's scalar function per lane, bit-identical to the
  // reference kernels. True: glibc's vector math library (libmvec) where it
  // has the vector's width, which is several times faster and accurate to
  // a few units in the last place, but not bit-identical.
  bool vector_math_library = false;
};

// What a kernel is told about the part of a run it computes.
struct RunPart {
  int64_t index = 0;  // this part, in [0, count)
  int64_t count = 1;  // the number of parts of the run
  // With several parts: claims for this part the next chunk of kernel
  // number `kernel` of the program and returns its number, or -1 when all
  // of them are claimed. Never called when count is 1.
  int64_t (*claim_chunk)(void* state, int64_t kernel) = nullptr;
  void* claim_state = nullptr;
};

// A fresh variable of `kernel`.
Var NewVar(Kernel& kernel);

// Declares a split of `extent` iterations in grains of `grain` into
// `chunks` chunks, at most one per grain (see KernelSplit), giving the
// split its three fresh variables.
void SplitKernel(Kernel& kernel, int64_t extent, int64_t grain, int64_t chunks);

// ---- Building expressions ----

ExprPtr Constant(double value, ScalarKind kind, int lanes = 1);
ExprPtr IndexConstant(int64_t value);
ExprPtr VarRef(Var var, ValueType type);
// An index-typed loop variable.
ExprPtr Index(Var var);
ExprPtr Load(int buffer, ExprPtr index, ScalarKind kind, int lanes = 1,
             int active_lanes = 0);
ExprPtr Unary(UnaryOp op, ExprPtr x);
ExprPtr Binary(BinaryOp op, ExprPtr a, ExprPtr b);
ExprPtr Select(ExprPtr condition, ExprPtr a, ExprPtr b);
ExprPtr Fma(ExprPtr a, ExprPtr b, ExprPtr c);
ExprPtr Broadcast(ExprPtr scalar, int lanes);
ExprPtr ReduceLanes(BinaryOp op, ExprPtr vector);
ExprPtr ToFloat(ExprPtr predicate, ScalarKind kind);
ExprPtr IndexToFloat(ExprPtr index, ScalarKind kind);

// Index arithmetic, kept readable in lowering code.
ExprPtr operator+(ExprPtr a, ExprPtr b);
ExprPtr operator*(ExprPtr a, ExprPtr b);
ExprPtr operator+(ExprPtr a, int64_t b);
ExprPtr operator*(ExprPtr a, int64_t b);

// ---- Building statements ----

StmtPtr For(Var var, ExprPtr begin, ExprPtr end, int64_t step,
            std::vector<StmtPtr> body);
StmtPtr For(Var var, int64_t begin, int64_t end, int64_t step,
            std::vector<StmtPtr> body);
StmtPtr Block(std::vector<StmtPtr> body);
StmtPtr Store(int buffer, ExprPtr index, ExprPtr value, int active_lanes = 0);
StmtPtr Assign(Var var, ExprPtr value);
StmtPtr If(ExprPtr condition, std::vector<StmtPtr> body,
           std::vector<StmtPtr> else_body = {});

// The positions of a kForNonzero loop: `extent` positions `stride`
// elements apart, starting at `index` in `buffer`, tested on `rows` rows
// `row_stride` elements apart.
struct NonzeroScan {
  int buffer = -1;
  ExprPtr index;
  int64_t extent = 0;
  int64_t stride = 1;
  int rows = 1;
  int64_t row_stride = 0;
};
StmtPtr ForNonzero(Var var, NonzeroScan scan, std::vector<StmtPtr> body);

// ---- Inspection ----

// A value type as dumps print it: "f32", or "f32x8" for eight lanes.
std::string ValueTypeToString(ValueType type);

// An expression as dumps print it, e.g. "(b0[v1 +8] + 1x8)".
std::string ExprToString(const ExprPtr& expr);

// The kernel as indented pseudo-code, for dumps and tests.
std::string KernelToString(const Kernel& kernel,
                           const std::vector<BufferInfo>& buffers);

}  // namespace kiln::jit

#endif  // KILN_JIT_LOOP_IR_H_
