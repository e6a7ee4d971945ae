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
    kVar,          // the current value of `var`
    kLoad,         // buffer[index .. index + lanes)
    kUnary,        // unary_op(operands[0])
    kBinary,       // binary_op(operands[0], operands[1])
    kSelect,       // operands[0] ? operands[1] : operands[2], per lane; a
                   // scalar operands[0] selects whole vectors
    kFma,          // operands[0] * operands[1] + operands[2], one rounding
    kBroadcast,    // the scalar operands[0] repeated across type.lanes
    kReduceLanes,  // the scalar combination of a vector's lanes (see below)
    kToFloat,      // the kBool operands[0] as 1.0 or 0.0 of type.kind
    kIndexToFloat,  // the kIndex operands[0] converted to type.kind
  };

  Kind kind;
  ValueType type;
  double constant = 0;
  int64_t index_constant = 0;
  Var var;
  int buffer = -1;
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
    kStore,   // buffer[index .. index + lanes) = value
    kAssign,  // var = value; a local's first assignment declares its type
  };

  Kind kind;
  Var var;
  ExprPtr begin, end;  // kIndex scalars; `end` is exclusive
  int64_t step = 1;
  int buffer = -1;
  ExprPtr index;  // kStore
  ExprPtr value;  // kStore, kAssign
  std::vector<StmtPtr> body;
};

// A buffer of the program's table as a kernel sees it.
struct BufferInfo {
  DType dtype = DType::kF32;
  int64_t num_elements = 0;
  std::string name;  // for dumps: the graph node or feed it holds
};

// One fused loop nest, compiled to one function
//   void <name>(char* const* buffer_table)
// that reads buffer b's base address from buffer_table[b].
struct Kernel {
  std::string name;
  std::vector<int> buffers_read;
  std::vector<int> buffers_written;
  int num_vars = 0;
  StmtPtr body;
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

// A fresh variable of `kernel`.
Var NewVar(Kernel& kernel);

// ---- Building expressions ----

ExprPtr Constant(double value, ScalarKind kind, int lanes = 1);
ExprPtr IndexConstant(int64_t value);
ExprPtr VarRef(Var var, ValueType type);
// An index-typed loop variable.
ExprPtr Index(Var var);
ExprPtr Load(int buffer, ExprPtr index, ScalarKind kind, int lanes = 1);
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
StmtPtr Store(int buffer, ExprPtr index, ExprPtr value);
StmtPtr Assign(Var var, ExprPtr value);

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
