#include "jit/loop_ir.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/base/check.h"

namespace kiln::jit {
namespace {

ExprPtr Make(Expr expr) {
  return std::make_shared<const Expr>(std::move(expr));
}
StmtPtr Make(Stmt stmt) {
  return std::make_shared<const Stmt>(std::move(stmt));
}

bool IsFloat(ScalarKind kind) {
  return kind == ScalarKind::kF32 || kind == ScalarKind::kF64;
}

bool IsComparison(BinaryOp op) {
  return op >= BinaryOp::kLess && op <= BinaryOp::kNotEqual;
}

const char* KindName(ScalarKind kind) {
  switch (kind) {
    case ScalarKind::kF32:
      return "f32";
    case ScalarKind::kF64:
      return "f64";
    case ScalarKind::kIndex:
      return "index";
    case ScalarKind::kBool:
      return "bool";
  }
  KILN_UNREACHABLE("invalid scalar kind");
}

constexpr const char* kUnaryNames[] = {"neg",   "exp",  "log",
                                       "log1p", "tanh", "abs"};
constexpr const char* kBinaryNames[] = {"+", "-",  "*", "/",  "max", "min",
                                        "<", "<=", ">", ">=", "==",  "!="};

std::string Operands(const Expr& e) {
  std::vector<std::string> parts;
  for (const ExprPtr& operand : e.operands)
    parts.push_back(ExprToString(operand));
  return absl::StrJoin(parts, ", ");
}

void AppendStmt(const StmtPtr& s, int depth, std::string& out) {
  const std::string indent(2 * depth, ' ');
  switch (s->kind) {
    case Stmt::Kind::kFor:
      absl::StrAppend(&out, indent, "for v", s->var.id, " in [",
                      ExprToString(s->begin), ", ", ExprToString(s->end),
                      ") step ", s->step, ":\n");
      for (const StmtPtr& child : s->body) AppendStmt(child, depth + 1, out);
      return;
    case Stmt::Kind::kBlock:
      for (const StmtPtr& child : s->body) AppendStmt(child, depth, out);
      return;
    case Stmt::Kind::kStore:
      absl::StrAppend(
          &out, indent, "b", s->buffer, "[", ExprToString(s->index),
          s->value->type.lanes > 1 ? absl::StrCat(" +", s->value->type.lanes)
                                   : "",
          s->active_lanes > 0 ? absl::StrCat(" first ", s->active_lanes) : "",
          "] = ", ExprToString(s->value), "\n");
      return;
    case Stmt::Kind::kAssign:
      absl::StrAppend(&out, indent, "v", s->var.id, " = ",
                      ExprToString(s->value), "\n");
      return;
    case Stmt::Kind::kIf:
      absl::StrAppend(&out, indent, "if ", ExprToString(s->value), ":\n");
      for (const StmtPtr& child : s->body) AppendStmt(child, depth + 1, out);
      if (!s->else_body.empty()) {
        absl::StrAppend(&out, indent, "else:\n");
        for (const StmtPtr& child : s->else_body) {
          AppendStmt(child, depth + 1, out);
        }
      }
      return;
    case Stmt::Kind::kForNonzero:
      absl::StrAppend(&out, indent, "for v", s->var.id, " in [0, ", s->extent,
                      ") where any b", s->buffer, "[", ExprToString(s->index),
                      " + r*", s->row_stride, " + v", s->var.id, "*", s->stride,
                      "] != 0 for r < ", s->rows, ":\n");
      for (const StmtPtr& child : s->body) AppendStmt(child, depth + 1, out);
      return;
  }
  KILN_UNREACHABLE("invalid statement kind");
}

}  // namespace

std::string ValueTypeToString(ValueType type) {
  return type.lanes == 1 ? KindName(type.kind)
                         : absl::StrCat(KindName(type.kind), "x", type.lanes);
}

std::string ExprToString(const ExprPtr& e) {
  switch (e->kind) {
    case Expr::Kind::kConstant:
      return absl::StrCat(e->constant, e->type.lanes > 1 ? "x" : "",
                          e->type.lanes > 1 ? absl::StrCat(e->type.lanes) : "");
    case Expr::Kind::kIndexConstant:
      return absl::StrCat(e->index_constant);
    case Expr::Kind::kVar:
      return absl::StrCat("v", e->var.id);
    case Expr::Kind::kLoad:
      return absl::StrCat(
          "b", e->buffer, "[", ExprToString(e->operands[0]),
          e->type.lanes > 1 ? absl::StrCat(" +", e->type.lanes) : "",
          e->active_lanes > 0 ? absl::StrCat(" first ", e->active_lanes) : "",
          "]");
    case Expr::Kind::kUnary:
      return absl::StrCat(kUnaryNames[static_cast<int>(e->unary_op)], "(",
                          Operands(*e), ")");
    case Expr::Kind::kBinary:
      return absl::StrCat("(", ExprToString(e->operands[0]), " ",
                          kBinaryNames[static_cast<int>(e->binary_op)], " ",
                          ExprToString(e->operands[1]), ")");
    case Expr::Kind::kSelect:
      return absl::StrCat("select(", Operands(*e), ")");
    case Expr::Kind::kFma:
      return absl::StrCat("fma(", Operands(*e), ")");
    case Expr::Kind::kBroadcast:
      return absl::StrCat("splat", e->type.lanes, "(", Operands(*e), ")");
    case Expr::Kind::kReduceLanes:
      return absl::StrCat("reduce",
                          kBinaryNames[static_cast<int>(e->binary_op)], "(",
                          Operands(*e), ")");
    case Expr::Kind::kToFloat:
    case Expr::Kind::kIndexToFloat:
      return absl::StrCat(ValueTypeToString(e->type), "(", Operands(*e), ")");
  }
  KILN_UNREACHABLE("invalid expression kind");
}

ScalarKind ScalarKindOf(DType dtype) {
  return dtype == DType::kF32 ? ScalarKind::kF32 : ScalarKind::kF64;
}

Var NewVar(Kernel& kernel) { return Var{kernel.num_vars++}; }

void SplitKernel(Kernel& kernel, int64_t extent, int64_t grain,
                 int64_t chunks) {
  KILN_CHECK(extent > 0 && grain > 0 && chunks > 0)
      << "split " << extent << "/" << grain << " into " << chunks;
  const int64_t grains = (extent + grain - 1) / grain;
  kernel.split = {.extent = extent,
                  .grain = grain,
                  .chunks = std::min(chunks, grains),
                  .begin = NewVar(kernel),
                  .end = NewVar(kernel),
                  .grain_end = NewVar(kernel)};
}

ExprPtr Constant(double value, ScalarKind kind, int lanes) {
  return Make({.kind = Expr::Kind::kConstant,
               .type = {kind, lanes},
               .constant = value});
}

ExprPtr IndexConstant(int64_t value) {
  return Make({.kind = Expr::Kind::kIndexConstant,
               .type = {ScalarKind::kIndex, 1},
               .index_constant = value});
}

ExprPtr VarRef(Var var, ValueType type) {
  return Make({.kind = Expr::Kind::kVar, .type = type, .var = var});
}

ExprPtr Index(Var var) { return VarRef(var, {ScalarKind::kIndex, 1}); }

ExprPtr Load(int buffer, ExprPtr index, ScalarKind kind, int lanes,
             int active_lanes) {
  KILN_CHECK(IsFloat(kind) && index->type.kind == ScalarKind::kIndex);
  KILN_CHECK(active_lanes >= 0 && active_lanes <= lanes)
      << active_lanes << " active of " << lanes << " lanes";
  return Make({.kind = Expr::Kind::kLoad,
               .type = {kind, lanes},
               .buffer = buffer,
               .active_lanes = active_lanes == lanes ? 0 : active_lanes,
               .operands = {std::move(index)}});
}

ExprPtr Unary(UnaryOp op, ExprPtr x) {
  KILN_CHECK(IsFloat(x->type.kind))
      << "unary op on " << ValueTypeToString(x->type);
  const ValueType type = x->type;
  return Make({.kind = Expr::Kind::kUnary,
               .type = type,
               .unary_op = op,
               .operands = {std::move(x)}});
}

ExprPtr Binary(BinaryOp op, ExprPtr a, ExprPtr b) {
  KILN_CHECK(a->type == b->type) << "operands " << ValueTypeToString(a->type)
                                 << " and " << ValueTypeToString(b->type);
  ValueType type = a->type;
  if (IsComparison(op)) type.kind = ScalarKind::kBool;
  return Make({.kind = Expr::Kind::kBinary,
               .type = type,
               .binary_op = op,
               .operands = {std::move(a), std::move(b)}});
}

ExprPtr Select(ExprPtr condition, ExprPtr a, ExprPtr b) {
  // A scalar condition chooses between whole vectors.
  KILN_CHECK(
      condition->type.kind == ScalarKind::kBool &&
      (condition->type.lanes == 1 || condition->type.lanes == a->type.lanes) &&
      a->type == b->type);
  const ValueType type = a->type;
  return Make({.kind = Expr::Kind::kSelect,
               .type = type,
               .operands = {std::move(condition), std::move(a), std::move(b)}});
}

ExprPtr Fma(ExprPtr a, ExprPtr b, ExprPtr c) {
  KILN_CHECK(a->type == b->type && b->type == c->type);
  const ValueType type = a->type;
  return Make({.kind = Expr::Kind::kFma,
               .type = type,
               .operands = {std::move(a), std::move(b), std::move(c)}});
}

ExprPtr Broadcast(ExprPtr scalar, int lanes) {
  KILN_CHECK(scalar->type.lanes == 1);
  const ValueType type{scalar->type.kind, lanes};
  return Make({.kind = Expr::Kind::kBroadcast,
               .type = type,
               .operands = {std::move(scalar)}});
}

ExprPtr ReduceLanes(BinaryOp op, ExprPtr vector) {
  KILN_CHECK(op == BinaryOp::kAdd || op == BinaryOp::kMax);
  const ValueType type{vector->type.kind, 1};
  return Make({.kind = Expr::Kind::kReduceLanes,
               .type = type,
               .binary_op = op,
               .operands = {std::move(vector)}});
}

ExprPtr ToFloat(ExprPtr predicate, ScalarKind kind) {
  KILN_CHECK(predicate->type.kind == ScalarKind::kBool);
  const ValueType type{kind, predicate->type.lanes};
  return Make({.kind = Expr::Kind::kToFloat,
               .type = type,
               .operands = {std::move(predicate)}});
}

ExprPtr IndexToFloat(ExprPtr index, ScalarKind kind) {
  KILN_CHECK(index->type.kind == ScalarKind::kIndex);
  return Make({.kind = Expr::Kind::kIndexToFloat,
               .type = {kind, 1},
               .operands = {std::move(index)}});
}

ExprPtr operator+(ExprPtr a, ExprPtr b) {
  return Binary(BinaryOp::kAdd, std::move(a), std::move(b));
}
ExprPtr operator*(ExprPtr a, ExprPtr b) {
  return Binary(BinaryOp::kMul, std::move(a), std::move(b));
}
ExprPtr operator+(ExprPtr a, int64_t b) {
  return std::move(a) + IndexConstant(b);
}
ExprPtr operator*(ExprPtr a, int64_t b) {
  return std::move(a) * IndexConstant(b);
}

StmtPtr For(Var var, ExprPtr begin, ExprPtr end, int64_t step,
            std::vector<StmtPtr> body) {
  KILN_CHECK(step > 0) << "loop step " << step;
  return Make({.kind = Stmt::Kind::kFor,
               .var = var,
               .begin = std::move(begin),
               .end = std::move(end),
               .step = step,
               .body = std::move(body)});
}

StmtPtr For(Var var, int64_t begin, int64_t end, int64_t step,
            std::vector<StmtPtr> body) {
  return For(var, IndexConstant(begin), IndexConstant(end), step,
             std::move(body));
}

StmtPtr Block(std::vector<StmtPtr> body) {
  return Make({.kind = Stmt::Kind::kBlock, .body = std::move(body)});
}

StmtPtr Store(int buffer, ExprPtr index, ExprPtr value, int active_lanes) {
  KILN_CHECK(IsFloat(value->type.kind) &&
             index->type.kind == ScalarKind::kIndex);
  const int lanes = value->type.lanes;
  KILN_CHECK(active_lanes >= 0 && active_lanes <= lanes)
      << active_lanes << " active of " << lanes << " lanes";
  return Make({.kind = Stmt::Kind::kStore,
               .buffer = buffer,
               .index = std::move(index),
               .value = std::move(value),
               .active_lanes = active_lanes == lanes ? 0 : active_lanes});
}

StmtPtr Assign(Var var, ExprPtr value) {
  return Make(
      {.kind = Stmt::Kind::kAssign, .var = var, .value = std::move(value)});
}

StmtPtr If(ExprPtr condition, std::vector<StmtPtr> body,
           std::vector<StmtPtr> else_body) {
  KILN_CHECK(condition->type == (ValueType{ScalarKind::kBool, 1}))
      << "if on " << ValueTypeToString(condition->type);
  return Make({.kind = Stmt::Kind::kIf,
               .value = std::move(condition),
               .body = std::move(body),
               .else_body = std::move(else_body)});
}

StmtPtr ForNonzero(Var var, NonzeroScan scan, std::vector<StmtPtr> body) {
  KILN_CHECK(scan.extent > 0 && scan.rows > 0 &&
             scan.index->type.kind == ScalarKind::kIndex)
      << "nonzero scan of " << scan.extent << " positions, " << scan.rows
      << " rows";
  return Make({.kind = Stmt::Kind::kForNonzero,
               .var = var,
               .buffer = scan.buffer,
               .index = std::move(scan.index),
               .body = std::move(body),
               .extent = scan.extent,
               .stride = scan.stride,
               .rows = scan.rows,
               .row_stride = scan.row_stride});
}

std::string KernelToString(const Kernel& kernel,
                           const std::vector<BufferInfo>& buffers) {
  std::string out = absl::StrCat("kernel ", kernel.name, "\n");
  auto list = [&](const char* what, const std::vector<int>& ids) {
    for (int id : ids) {
      absl::StrAppend(&out, "  ", what, " b", id, ": ",
                      DTypeName(buffers[id].dtype), "[",
                      buffers[id].num_elements, "] ", buffers[id].name, "\n");
    }
  };
  list("reads", kernel.buffers_read);
  list("writes", kernel.buffers_written);
  if (!kernel.waits_for.empty()) {
    absl::StrAppend(&out, "  waits for k",
                    absl::StrJoin(kernel.waits_for, ", k"), "\n");
  }
  if (kernel.split.extent > 0) {
    absl::StrAppend(&out, "  split [0, ", kernel.split.extent,
                    ") in grains of ", kernel.split.grain, " into ",
                    kernel.split.chunks, " chunks v", kernel.split.begin.id,
                    " .. v", kernel.split.end.id, " (whole grains to v",
                    kernel.split.grain_end.id, ")\n");
  } else {
    absl::StrAppend(&out, "  runs whole\n");
  }
  if (kernel.prologue != nullptr) {
    absl::StrAppend(&out, "  once per part:\n");
    AppendStmt(kernel.prologue, 2, out);
    absl::StrAppend(&out, "  per chunk:\n");
    AppendStmt(kernel.body, 2, out);
  } else {
    AppendStmt(kernel.body, 1, out);
  }
  return out;
}

}  // namespace kiln::jit
