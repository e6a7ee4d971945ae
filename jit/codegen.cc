#include "jit/codegen.h"

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/IR/BasicBlock.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/Metadata.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"
#include "ops/base/check.h"
#include "ops/base/status_macros.h"

namespace kiln::jit {
namespace {

// Expressions quoted in error messages are cut to this many characters; a
// fused kernel's expressions can run to pages.
constexpr size_t kMaxQuotedExprChars = 160;

bool IsFloat(ScalarKind kind) {
  return kind == ScalarKind::kF32 || kind == ScalarKind::kF64;
}

bool IsComparison(BinaryOp op) {
  return op >= BinaryOp::kLess && op <= BinaryOp::kNotEqual;
}

bool IsPowerOfTwo(int n) { return n > 0 && (n & (n - 1)) == 0; }

std::string Quote(const ExprPtr& expr) {
  std::string text = ExprToString(expr);
  if (text.size() > kMaxQuotedExprChars) {
    text.resize(kMaxQuotedExprChars);
    text += "...";
  }
  return text;
}

// Emits the LLVM function of one kernel, checking types on the way.
//
// Every value is computed where it is used, in program order, so the checks
// and the emission are one recursive walk. Locals live in allocas of the
// entry block, which SROA promotes to registers; each is zero until its first
// assignment so that no path can read an undefined value.
class KernelEmitter {
 public:
  // `kernel` is number `kernel_index` of `program`.
  KernelEmitter(const LoopProgram& program, int kernel_index,
                llvm::Function& function)
      : program_(program),
        kernel_(program.kernels[kernel_index]),
        kernel_index_(kernel_index),
        function_(function),
        context_(function.getContext()),
        builder_(context_),
        entry_builder_(context_),
        var_types_(std::max(kernel_.num_vars, 0)),
        var_slots_(std::max(kernel_.num_vars, 0), nullptr),
        buffer_bases_(program.buffers.size(), nullptr) {
    for (int b : kernel_.buffers_read) MarkBuffer(b, readable_);
    for (int b : kernel_.buffers_written) {
      MarkBuffer(b, readable_);
      MarkBuffer(b, writable_);
    }
  }

  absl::Status Emit() {
    if (kernel_.body == nullptr) return Invalid("has no body");
    llvm::BasicBlock* entry =
        llvm::BasicBlock::Create(context_, "entry", &function_);
    llvm::BasicBlock* body =
        llvm::BasicBlock::Create(context_, "body", &function_);
    entry_builder_.SetInsertPoint(entry);
    builder_.SetInsertPoint(body);
    if (kernel_.split.extent > 0) {
      KILN_RETURN_IF_ERROR(EmitChunks());
    } else {
      if (kernel_.prologue != nullptr) {
        return Invalid("has a prologue but no split");
      }
      KILN_RETURN_IF_ERROR(EmitStmt(kernel_.body));
    }
    builder_.CreateRetVoid();
    entry_builder_.CreateBr(body);
    return absl::OkStatus();
  }

 private:
  void MarkBuffer(int buffer, std::vector<bool>& set) {
    if (buffer < 0) return;
    if (set.size() <= static_cast<size_t>(buffer)) set.resize(buffer + 1);
    set[buffer] = true;
  }

  static bool InSet(int buffer, const std::vector<bool>& set) {
    return buffer >= 0 && static_cast<size_t>(buffer) < set.size() &&
           set[buffer];
  }

  template <typename... Args>
  absl::Status Invalid(const Args&... args) const {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel '", kernel_.name, "' ", args...));
  }

  llvm::Type* ScalarType(ScalarKind kind) const {
    switch (kind) {
      case ScalarKind::kF32:
        return llvm::Type::getFloatTy(context_);
      case ScalarKind::kF64:
        return llvm::Type::getDoubleTy(context_);
      case ScalarKind::kIndex:
        return llvm::Type::getInt64Ty(context_);
      case ScalarKind::kBool:
        return llvm::Type::getInt1Ty(context_);
    }
    KILN_UNREACHABLE("invalid scalar kind");
  }

  llvm::Type* LlvmType(ValueType type) const {
    llvm::Type* scalar = ScalarType(type.kind);
    if (type.lanes == 1) return scalar;
    return llvm::FixedVectorType::get(scalar, type.lanes);
  }

  // ---- Buffers and variables ----

  // Checks that `buffer` exists and that the kernel declares the access.
  absl::Status CheckBufferAccess(int buffer, bool write) const {
    if (buffer < 0 || static_cast<size_t>(buffer) >= program_.buffers.size()) {
      return Invalid("uses buffer b", buffer, ", but the program has ",
                     program_.buffers.size(), " buffers");
    }
    if (write ? !InSet(buffer, writable_) : !InSet(buffer, readable_)) {
      return Invalid(write ? "stores to" : "loads from", " buffer b", buffer,
                     " (", program_.buffers[buffer].name,
                     "), which it does not list among the buffers it ",
                     write ? "writes" : "reads or writes");
    }
    return absl::OkStatus();
  }

  // The address of element `index` of `buffer`. The table entry is loaded
  // once, in the entry block; the table never changes while code runs.
  llvm::Value* ElementAddress(int buffer, llvm::Value* index) {
    llvm::Value*& base = buffer_bases_[buffer];
    if (base == nullptr && program_.buffers[buffer].local) {
      // Local scratch: a cache-line-aligned array in the entry block.
      const BufferInfo& info = program_.buffers[buffer];
      llvm::Type* array = llvm::ArrayType::get(
          ScalarType(ScalarKindOf(info.dtype)), info.num_elements);
      llvm::AllocaInst* scratch = entry_builder_.CreateAlloca(
          array, nullptr, absl::StrCat("b", buffer, ".local"));
      scratch->setAlignment(llvm::Align(64));
      base = scratch;
    }
    if (base == nullptr) {
      llvm::Type* ptr = llvm::PointerType::getUnqual(context_);
      llvm::Value* slot = entry_builder_.CreateConstInBoundsGEP1_64(
          ptr, function_.getArg(0), buffer);
      llvm::LoadInst* load = entry_builder_.CreateAlignedLoad(
          ptr, slot, llvm::Align(alignof(void*)),
          absl::StrCat("b", buffer, ".base"));
      load->setMetadata(llvm::LLVMContext::MD_invariant_load,
                        llvm::MDNode::get(context_, {}));
      base = load;
    }
    llvm::Type* element =
        ScalarType(ScalarKindOf(program_.buffers[buffer].dtype));
    return builder_.CreateInBoundsGEP(element, base, index);
  }

  // The mask <lanes x i1> whose first `active` lanes are set.
  llvm::Constant* LeadingLanes(int active, int lanes) {
    std::vector<llvm::Constant*> bits;
    for (int lane = 0; lane < lanes; ++lane) {
      bits.push_back(llvm::ConstantInt::getBool(context_, lane < active));
    }
    return llvm::ConstantVector::get(bits);
  }

  llvm::Align ElementAlign(int buffer) const {
    return llvm::Align(DTypeSize(program_.buffers[buffer].dtype));
  }

  absl::Status CheckVarId(Var var) const {
    if (var.id < 0 || var.id >= kernel_.num_vars) {
      return Invalid("uses variable v", var.id, ", but it has ",
                     kernel_.num_vars, " variables");
    }
    return absl::OkStatus();
  }

  // The slot of `var`, created with `type` on first use; later uses must
  // agree on the type.
  absl::StatusOr<llvm::AllocaInst*> DeclareVar(Var var, ValueType type) {
    KILN_RETURN_IF_ERROR(CheckVarId(var));
    std::optional<ValueType>& declared = var_types_[var.id];
    if (declared.has_value()) {
      if (*declared != type) {
        return Invalid("assigns ", ValueTypeToString(type), " to variable v",
                       var.id, ", which holds ", ValueTypeToString(*declared));
      }
      return var_slots_[var.id];
    }
    if (type.lanes < 1) {
      return Invalid("declares variable v", var.id, " with ", type.lanes,
                     " lanes");
    }
    declared = type;
    llvm::Type* llvm_type = LlvmType(type);
    llvm::AllocaInst* slot = entry_builder_.CreateAlloca(
        llvm_type, nullptr, absl::StrCat("v", var.id));
    entry_builder_.CreateStore(llvm::Constant::getNullValue(llvm_type), slot);
    var_slots_[var.id] = slot;
    return slot;
  }

  // An i64 slot of the entry block that no loop IR variable names.
  llvm::AllocaInst* HiddenSlot(const char* name) {
    llvm::Type* i64 = llvm::Type::getInt64Ty(context_);
    llvm::AllocaInst* slot = entry_builder_.CreateAlloca(i64, nullptr, name);
    entry_builder_.CreateStore(llvm::ConstantInt::get(i64, 0), slot);
    return slot;
  }

  // The chunks of a split kernel that this part computes: every chunk
  // claimed through the RunPart while any are left, or with a single part
  // the whole range as one chunk; the prologue runs before the first.
  absl::Status EmitChunks() {
    const KernelSplit& split = kernel_.split;
    if (split.grain <= 0 || split.chunks <= 0) {
      return Invalid("splits in grains of ", split.grain, " into ",
                     split.chunks, " chunks");
    }
    llvm::Type* i64 = llvm::Type::getInt64Ty(context_);
    llvm::Type* ptr = llvm::PointerType::getUnqual(context_);
    auto constant = [&](int64_t value) {
      return llvm::ConstantInt::get(i64, value);
    };
    llvm::StructType* run_part_type =
        llvm::StructType::get(context_, {i64, i64, ptr, ptr});
    llvm::Value* run_part = function_.getArg(1);
    auto field = [&](unsigned index, llvm::Type* type, const char* name) {
      return builder_.CreateLoad(
          type, builder_.CreateStructGEP(run_part_type, run_part, index), name);
    };
    llvm::Value* several =
        builder_.CreateICmpSGT(field(1, i64, "parts"), constant(1), "several");
    llvm::Value* claim = field(2, ptr, "claim_chunk");
    llvm::Value* claim_state = field(3, ptr, "claim_state");
    llvm::FunctionType* claim_type =
        llvm::FunctionType::get(i64, {ptr, i64}, /*isVarArg=*/false);
    llvm::Value* chunks = builder_.CreateSelect(several, constant(split.chunks),
                                                constant(1), "chunks");
    llvm::AllocaInst* chunk_slot = HiddenSlot("chunk");

    llvm::BasicBlock* claim_first =
        llvm::BasicBlock::Create(context_, "claim.first", &function_);
    llvm::BasicBlock* start =
        llvm::BasicBlock::Create(context_, "chunks.start", &function_);
    llvm::BasicBlock* chunk_body =
        llvm::BasicBlock::Create(context_, "chunk", &function_);
    llvm::BasicBlock* claim_next =
        llvm::BasicBlock::Create(context_, "claim.next", &function_);
    llvm::BasicBlock* exit =
        llvm::BasicBlock::Create(context_, "chunks.exit", &function_);
    // Claims a chunk into chunk_slot, continuing at `then` with one and at
    // the exit without.
    auto claim_into_slot = [&](llvm::BasicBlock* then) {
      llvm::Value* chunk = builder_.CreateCall(
          claim_type, claim, {claim_state, constant(kernel_index_)}, "claimed");
      builder_.CreateStore(chunk, chunk_slot);
      builder_.CreateCondBr(builder_.CreateICmpSLT(chunk, constant(0)), exit,
                            then);
    };
    // One part takes chunk 0 of 1, which it has already stored.
    builder_.CreateCondBr(several, claim_first, start);
    builder_.SetInsertPoint(claim_first);
    claim_into_slot(start);

    builder_.SetInsertPoint(start);
    if (kernel_.prologue != nullptr) {
      KILN_RETURN_IF_ERROR(EmitStmt(kernel_.prologue));
    }
    builder_.CreateBr(chunk_body);

    builder_.SetInsertPoint(chunk_body);
    KILN_RETURN_IF_ERROR(
        AssignChunk(builder_.CreateLoad(i64, chunk_slot, "chunk"), chunks));
    KILN_RETURN_IF_ERROR(EmitStmt(kernel_.body));
    builder_.CreateCondBr(several, claim_next, exit);
    builder_.SetInsertPoint(claim_next);
    claim_into_slot(chunk_body);
    builder_.SetInsertPoint(exit);
    return absl::OkStatus();
  }

  // Assigns the split's variables the range of chunk `chunk` of `chunks`
  // (see KernelSplit).
  absl::Status AssignChunk(llvm::Value* chunk, llvm::Value* chunks) {
    const KernelSplit& split = kernel_.split;
    llvm::Type* i64 = llvm::Type::getInt64Ty(context_);
    auto constant = [&](int64_t value) {
      return llvm::ConstantInt::get(i64, value);
    };
    const int64_t grains = (split.extent + split.grain - 1) / split.grain;
    // The first iteration of the chunk's first grain, never past the end.
    auto chunk_start = [&](llvm::Value* c) {
      llvm::Value* first_grain =
          builder_.CreateUDiv(builder_.CreateMul(c, constant(grains)), chunks);
      return builder_.CreateBinaryIntrinsic(
          llvm::Intrinsic::smin,
          builder_.CreateMul(first_grain, constant(split.grain)),
          constant(split.extent));
    };
    llvm::Value* begin = chunk_start(chunk);
    llvm::Value* end = chunk_start(builder_.CreateAdd(chunk, constant(1)));
    llvm::Value* whole =
        builder_.CreateMul(builder_.CreateUDiv(builder_.CreateSub(end, begin),
                                               constant(split.grain)),
                           constant(split.grain));
    llvm::Value* grain_end = builder_.CreateAdd(begin, whole);
    const std::pair<Var, llvm::Value*> assignments[] = {
        {split.begin, begin}, {split.end, end}, {split.grain_end, grain_end}};
    for (const auto& [var, value] : assignments) {
      KILN_ASSIGN_OR_RETURN(llvm::AllocaInst * slot,
                            DeclareVar(var, {ScalarKind::kIndex, 1}));
      builder_.CreateStore(value, slot);
    }
    return absl::OkStatus();
  }

  // ---- Expressions ----

  absl::Status CheckArity(const Expr& expr, size_t arity) const {
    if (expr.operands.size() != arity) {
      return Invalid("has an expression of kind ", static_cast<int>(expr.kind),
                     " with ", expr.operands.size(), " operands instead of ",
                     arity);
    }
    for (const ExprPtr& operand : expr.operands) {
      if (operand == nullptr) return Invalid("has a null operand");
    }
    return absl::OkStatus();
  }

  absl::Status CheckType(const ExprPtr& expr, ValueType expected) const {
    if (expr->type != expected) {
      return Invalid("computes ", Quote(expr), " as ",
                     ValueTypeToString(expr->type), " where its operands give ",
                     ValueTypeToString(expected));
    }
    return absl::OkStatus();
  }

  absl::Status CheckScalarIndex(const ExprPtr& index,
                                absl::string_view role) const {
    const ValueType expected{ScalarKind::kIndex, 1};
    if (index == nullptr) return Invalid("has no ", role);
    if (index->type != expected) {
      return Invalid("uses ", Quote(index), " of type ",
                     ValueTypeToString(index->type), " as ", role,
                     "; it must be a scalar index");
    }
    return absl::OkStatus();
  }

  // Emits `expr` once per statement: lowering shares subexpressions (a
  // sigmoid reads its argument three times), and within one statement an
  // expression is pure, so its value can be reused.
  absl::StatusOr<llvm::Value*> EmitExpr(const ExprPtr& expr) {
    if (expr == nullptr) return Invalid("has a null expression");
    auto found = statement_values_.find(expr.get());
    if (found != statement_values_.end()) return found->second;
    KILN_ASSIGN_OR_RETURN(llvm::Value * value, EmitUncached(expr));
    statement_values_[expr.get()] = value;
    return value;
  }

  absl::StatusOr<llvm::Value*> EmitUncached(const ExprPtr& expr) {
    const Expr& e = *expr;
    if (e.type.lanes < 1) {
      return Invalid("has an expression with ", e.type.lanes, " lanes");
    }
    switch (e.kind) {
      case Expr::Kind::kConstant:
        KILN_RETURN_IF_ERROR(CheckArity(e, 0));
        return EmitConstant(e);
      case Expr::Kind::kIndexConstant:
        KILN_RETURN_IF_ERROR(CheckArity(e, 0));
        KILN_RETURN_IF_ERROR(CheckType(expr, {ScalarKind::kIndex, 1}));
        return llvm::ConstantInt::getSigned(llvm::Type::getInt64Ty(context_),
                                            e.index_constant);
      case Expr::Kind::kVar:
        KILN_RETURN_IF_ERROR(CheckArity(e, 0));
        return EmitVarRef(expr);
      case Expr::Kind::kLoad:
        KILN_RETURN_IF_ERROR(CheckArity(e, 1));
        return EmitLoad(expr);
      case Expr::Kind::kUnary:
        KILN_RETURN_IF_ERROR(CheckArity(e, 1));
        return EmitUnary(expr);
      case Expr::Kind::kBinary:
        KILN_RETURN_IF_ERROR(CheckArity(e, 2));
        return EmitBinary(expr);
      case Expr::Kind::kSelect:
        KILN_RETURN_IF_ERROR(CheckArity(e, 3));
        return EmitSelect(expr);
      case Expr::Kind::kFma:
        KILN_RETURN_IF_ERROR(CheckArity(e, 3));
        return EmitFma(expr);
      case Expr::Kind::kBroadcast:
        KILN_RETURN_IF_ERROR(CheckArity(e, 1));
        return EmitBroadcast(expr);
      case Expr::Kind::kReduceLanes:
        KILN_RETURN_IF_ERROR(CheckArity(e, 1));
        return EmitReduceLanes(expr);
      case Expr::Kind::kToFloat:
      case Expr::Kind::kIndexToFloat:
        KILN_RETURN_IF_ERROR(CheckArity(e, 1));
        return EmitConversion(expr);
    }
    return Invalid("has an expression of unknown kind ",
                   static_cast<int>(e.kind));
  }

  llvm::Value* EmitConstant(const Expr& e) {
    llvm::Type* type = LlvmType(e.type);
    switch (e.type.kind) {
      case ScalarKind::kF32:
      case ScalarKind::kF64:
        // Rounds to float for f32, as a C++ conversion would.
        return llvm::ConstantFP::get(type, e.constant);
      case ScalarKind::kIndex:
        return llvm::ConstantInt::getSigned(type,
                                            static_cast<int64_t>(e.constant));
      case ScalarKind::kBool:
        return llvm::ConstantInt::get(type, e.constant != 0 ? 1 : 0);
    }
    KILN_UNREACHABLE("invalid scalar kind");
  }

  absl::StatusOr<llvm::Value*> EmitVarRef(const ExprPtr& expr) {
    const Var var = expr->var;
    KILN_RETURN_IF_ERROR(CheckVarId(var));
    const std::optional<ValueType>& declared = var_types_[var.id];
    if (!declared.has_value()) {
      return Invalid("reads variable v", var.id, " before assigning it");
    }
    if (*declared != expr->type) {
      return Invalid("reads variable v", var.id, " as ",
                     ValueTypeToString(expr->type), ", but it holds ",
                     ValueTypeToString(*declared));
    }
    return builder_.CreateLoad(LlvmType(*declared), var_slots_[var.id],
                               absl::StrCat("v", var.id));
  }

  absl::StatusOr<llvm::Value*> EmitLoad(const ExprPtr& expr) {
    const int buffer = expr->buffer;
    KILN_RETURN_IF_ERROR(CheckBufferAccess(buffer, /*write=*/false));
    const ScalarKind element = ScalarKindOf(program_.buffers[buffer].dtype);
    if (expr->type.kind != element) {
      return Invalid("loads ", ValueTypeToString(expr->type), " from buffer b",
                     buffer, " (", program_.buffers[buffer].name, ") of dtype ",
                     DTypeName(program_.buffers[buffer].dtype));
    }
    KILN_RETURN_IF_ERROR(
        CheckScalarIndex(expr->operands[0], "the index of a load"));
    KILN_ASSIGN_OR_RETURN(llvm::Value * index, EmitExpr(expr->operands[0]));
    llvm::Value* address = ElementAddress(buffer, index);
    if (expr->active_lanes > 0 && expr->active_lanes < expr->type.lanes) {
      llvm::Type* type = LlvmType(expr->type);
      return builder_.CreateMaskedLoad(
          type, address, ElementAlign(buffer),
          LeadingLanes(expr->active_lanes, expr->type.lanes),
          llvm::Constant::getNullValue(type));
    }
    return builder_.CreateAlignedLoad(LlvmType(expr->type), address,
                                      ElementAlign(buffer));
  }

  absl::StatusOr<llvm::Value*> EmitUnary(const ExprPtr& expr) {
    const ExprPtr& x = expr->operands[0];
    if (!IsFloat(x->type.kind)) {
      return Invalid("applies a unary op to ", Quote(x), " of type ",
                     ValueTypeToString(x->type));
    }
    KILN_RETURN_IF_ERROR(CheckType(expr, x->type));
    KILN_ASSIGN_OR_RETURN(llvm::Value * value, EmitExpr(x));
    switch (expr->unary_op) {
      case UnaryOp::kNeg:
        return builder_.CreateFNeg(value);
      case UnaryOp::kAbs:
        return builder_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, value);
      case UnaryOp::kExp:
      case UnaryOp::kLog:
      case UnaryOp::kLog1p:
      case UnaryOp::kTanh:
        return EmitLibmCall(expr->unary_op, x->type, value);
    }
    return Invalid("applies unknown unary op ",
                   static_cast<int>(expr->unary_op));
  }

  // Calls libmvec's variant of `op` for `type`, or returns null if there is
  // none. Its names follow the x86-64 vector function ABI,
  // _ZGV<isa>N<lanes>v_<function>, where the ISA letter is b for 16-byte
  // vectors (SSE4), d for 32 (AVX2) and e for 64 (AVX-512); lowering only
  // makes vectors as wide as the host's registers.
  llvm::Value* EmitVectorMathCall(UnaryOp op, ValueType type,
                                  llvm::Value* value) {
    const bool f32 = type.kind == ScalarKind::kF32;
    const char* function = nullptr;
    switch (op) {
      case UnaryOp::kExp:
        function = f32 ? "expf" : "exp";
        break;
      case UnaryOp::kLog:
        function = f32 ? "logf" : "log";
        break;
      case UnaryOp::kLog1p:
        function = f32 ? "log1pf" : "log1p";
        break;
      case UnaryOp::kTanh:
        function = f32 ? "tanhf" : "tanh";
        break;
      default:
        return nullptr;
    }
    const int bytes = type.lanes * (f32 ? 4 : 8);
    const char isa = bytes == 16 ? 'b' : bytes == 32 ? 'd' : bytes == 64 ? 'e'
                                                                        : 0;
    if (isa == 0) return nullptr;
    const std::string name =
        absl::StrCat("_ZGV", std::string(1, isa), "N", type.lanes, "v_",
                     function);
    llvm::Type* vector = LlvmType(type);
    llvm::FunctionCallee callee = function_.getParent()->getOrInsertFunction(
        name, llvm::FunctionType::get(vector, {vector}, /*isVarArg=*/false));
    if (auto* declaration =
            llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
      declaration->setDoesNotThrow();
      declaration->setDoesNotAccessMemory();
      declaration->setWillReturn();
    }
    return builder_.CreateCall(callee, {value});
  }

  // Calls the C library's function for `op` on every lane. The reference
  // kernels call the same functions, so results are bit-identical. With
  // LoopProgram::vector_math_library, a vector whose width libmvec offers
  // goes to libmvec instead, in one call.
  llvm::Value* EmitLibmCall(UnaryOp op, ValueType type, llvm::Value* value) {
    if (program_.vector_math_library && type.lanes > 1) {
      if (llvm::Value* result = EmitVectorMathCall(op, type, value)) {
        return result;
      }
    }
    const bool f32 = type.kind == ScalarKind::kF32;
    const char* name = nullptr;
    switch (op) {
      case UnaryOp::kExp:
        name = f32 ? "expf" : "exp";
        break;
      case UnaryOp::kLog:
        name = f32 ? "logf" : "log";
        break;
      case UnaryOp::kLog1p:
        name = f32 ? "log1pf" : "log1p";
        break;
      case UnaryOp::kTanh:
        name = f32 ? "tanhf" : "tanh";
        break;
      case UnaryOp::kNeg:
      case UnaryOp::kAbs:
        KILN_UNREACHABLE("not a library function");
    }
    llvm::Type* scalar = ScalarType(type.kind);
    llvm::FunctionCallee callee = function_.getParent()->getOrInsertFunction(
        name, llvm::FunctionType::get(scalar, {scalar}, /*isVarArg=*/false));
    if (auto* declaration =
            llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
      declaration->setDoesNotThrow();
      // The C library may set errno, which generated code never reads:
      // declaring the functions pure lets LLVM merge and hoist calls.
      declaration->setDoesNotAccessMemory();
      declaration->setWillReturn();
    }
    if (type.lanes == 1) return builder_.CreateCall(callee, {value});
    llvm::Value* result = llvm::PoisonValue::get(LlvmType(type));
    for (int lane = 0; lane < type.lanes; ++lane) {
      llvm::Value* element = builder_.CreateExtractElement(value, lane);
      llvm::Value* mapped = builder_.CreateCall(callee, {element});
      result = builder_.CreateInsertElement(result, mapped, lane);
    }
    return result;
  }

  absl::StatusOr<llvm::Value*> EmitBinary(const ExprPtr& expr) {
    const ExprPtr& a = expr->operands[0];
    const ExprPtr& b = expr->operands[1];
    const BinaryOp op = expr->binary_op;
    if (a->type != b->type) {
      return Invalid("combines ", Quote(a), " of type ",
                     ValueTypeToString(a->type), " with ", Quote(b),
                     " of type ", ValueTypeToString(b->type));
    }
    const ScalarKind kind = a->type.kind;
    const bool index = kind == ScalarKind::kIndex;
    if (!IsFloat(kind) && !(index && op != BinaryOp::kDiv)) {
      return Invalid("applies a binary op it cannot apply to ",
                     ValueTypeToString(a->type), " operands in ", Quote(expr));
    }
    ValueType result_type = a->type;
    if (IsComparison(op)) result_type.kind = ScalarKind::kBool;
    KILN_RETURN_IF_ERROR(CheckType(expr, result_type));
    KILN_ASSIGN_OR_RETURN(llvm::Value * lhs, EmitExpr(a));
    KILN_ASSIGN_OR_RETURN(llvm::Value * rhs, EmitExpr(b));
    switch (op) {
      case BinaryOp::kAdd:
        return index ? builder_.CreateAdd(lhs, rhs)
                     : builder_.CreateFAdd(lhs, rhs);
      case BinaryOp::kSub:
        return index ? builder_.CreateSub(lhs, rhs)
                     : builder_.CreateFSub(lhs, rhs);
      case BinaryOp::kMul:
        return index ? builder_.CreateMul(lhs, rhs)
                     : builder_.CreateFMul(lhs, rhs);
      case BinaryOp::kDiv:
        return builder_.CreateFDiv(lhs, rhs);
      case BinaryOp::kMax:
        return builder_.CreateBinaryIntrinsic(
            index ? llvm::Intrinsic::smax : llvm::Intrinsic::maxnum, lhs, rhs);
      case BinaryOp::kMin:
        return builder_.CreateBinaryIntrinsic(
            index ? llvm::Intrinsic::smin : llvm::Intrinsic::minnum, lhs, rhs);
      case BinaryOp::kLess:
        return index ? builder_.CreateICmpSLT(lhs, rhs)
                     : builder_.CreateFCmpOLT(lhs, rhs);
      case BinaryOp::kLessEqual:
        return index ? builder_.CreateICmpSLE(lhs, rhs)
                     : builder_.CreateFCmpOLE(lhs, rhs);
      case BinaryOp::kGreater:
        return index ? builder_.CreateICmpSGT(lhs, rhs)
                     : builder_.CreateFCmpOGT(lhs, rhs);
      case BinaryOp::kGreaterEqual:
        return index ? builder_.CreateICmpSGE(lhs, rhs)
                     : builder_.CreateFCmpOGE(lhs, rhs);
      case BinaryOp::kEqual:
        return index ? builder_.CreateICmpEQ(lhs, rhs)
                     : builder_.CreateFCmpOEQ(lhs, rhs);
      case BinaryOp::kNotEqual:
        // C++'s != is true when either side is NaN: unordered-or-not-equal.
        return index ? builder_.CreateICmpNE(lhs, rhs)
                     : builder_.CreateFCmpUNE(lhs, rhs);
    }
    return Invalid("applies unknown binary op ", static_cast<int>(op));
  }

  absl::StatusOr<llvm::Value*> EmitSelect(const ExprPtr& expr) {
    const ExprPtr& condition = expr->operands[0];
    const ExprPtr& a = expr->operands[1];
    const ExprPtr& b = expr->operands[2];
    if (condition->type.kind != ScalarKind::kBool ||
        (condition->type.lanes != 1 &&
         condition->type.lanes != a->type.lanes)) {
      return Invalid("selects on ", Quote(condition), " of type ",
                     ValueTypeToString(condition->type), " between values of ",
                     a->type.lanes, " lanes");
    }
    if (a->type != b->type) {
      return Invalid("selects between ", Quote(a), " of type ",
                     ValueTypeToString(a->type), " and ", Quote(b), " of type ",
                     ValueTypeToString(b->type));
    }
    KILN_RETURN_IF_ERROR(CheckType(expr, a->type));
    KILN_ASSIGN_OR_RETURN(llvm::Value * c, EmitExpr(condition));
    KILN_ASSIGN_OR_RETURN(llvm::Value * if_true, EmitExpr(a));
    KILN_ASSIGN_OR_RETURN(llvm::Value * if_false, EmitExpr(b));
    return builder_.CreateSelect(c, if_true, if_false);
  }

  absl::StatusOr<llvm::Value*> EmitFma(const ExprPtr& expr) {
    const ValueType type = expr->operands[0]->type;
    for (const ExprPtr& operand : expr->operands) {
      if (!IsFloat(operand->type.kind) || operand->type != type) {
        return Invalid("has an fma whose operands are not of one float type: ",
                       Quote(expr));
      }
    }
    KILN_RETURN_IF_ERROR(CheckType(expr, type));
    llvm::Value* values[3];
    for (int i = 0; i < 3; ++i) {
      KILN_ASSIGN_OR_RETURN(values[i], EmitExpr(expr->operands[i]));
    }
    return builder_.CreateIntrinsic(llvm::Intrinsic::fma, {LlvmType(type)},
                                    {values[0], values[1], values[2]});
  }

  absl::StatusOr<llvm::Value*> EmitBroadcast(const ExprPtr& expr) {
    const ExprPtr& scalar = expr->operands[0];
    if (scalar->type.lanes != 1) {
      return Invalid("broadcasts ", Quote(scalar), " of type ",
                     ValueTypeToString(scalar->type), ", which is no scalar");
    }
    KILN_RETURN_IF_ERROR(
        CheckType(expr, {scalar->type.kind, expr->type.lanes}));
    KILN_ASSIGN_OR_RETURN(llvm::Value * value, EmitExpr(scalar));
    if (expr->type.lanes == 1) return value;
    return builder_.CreateVectorSplat(expr->type.lanes, value);
  }

  absl::StatusOr<llvm::Value*> EmitReduceLanes(const ExprPtr& expr) {
    const ExprPtr& vector = expr->operands[0];
    const BinaryOp op = expr->binary_op;
    if (op != BinaryOp::kAdd && op != BinaryOp::kMax) {
      return Invalid("reduces lanes with an op other than + and max in ",
                     Quote(expr));
    }
    if (!IsFloat(vector->type.kind) || !IsPowerOfTwo(vector->type.lanes)) {
      return Invalid("reduces the lanes of ", Quote(vector), " of type ",
                     ValueTypeToString(vector->type),
                     "; only float vectors of a power-of-two width reduce");
    }
    KILN_RETURN_IF_ERROR(CheckType(expr, {vector->type.kind, 1}));
    KILN_ASSIGN_OR_RETURN(llvm::Value * value, EmitExpr(vector));
    return PairwiseReduce(op, value, vector->type.lanes);
  }

  // Combines the low and the high half of the lanes, lane by lane, until one
  // lane is left: for eight lanes, ((v0+v4)+(v2+v6)) + ((v1+v5)+(v3+v7)).
  // The order is part of the IR's semantics, so it is spelled out here rather
  // than left to llvm.vector.reduce, whose association is unspecified.
  llvm::Value* PairwiseReduce(BinaryOp op, llvm::Value* value, int lanes) {
    while (lanes > 1) {
      const int half = lanes / 2;
      std::vector<int> low(half), high(half);
      for (int i = 0; i < half; ++i) {
        low[i] = i;
        high[i] = half + i;
      }
      llvm::Value* low_half = builder_.CreateShuffleVector(value, low);
      llvm::Value* high_half = builder_.CreateShuffleVector(value, high);
      value = op == BinaryOp::kAdd
                  ? builder_.CreateFAdd(low_half, high_half)
                  : builder_.CreateBinaryIntrinsic(llvm::Intrinsic::maxnum,
                                                   low_half, high_half);
      lanes = half;
    }
    if (value->getType()->isVectorTy()) {
      value = builder_.CreateExtractElement(value, uint64_t{0});
    }
    return value;
  }

  absl::StatusOr<llvm::Value*> EmitConversion(const ExprPtr& expr) {
    const ExprPtr& operand = expr->operands[0];
    const bool from_bool = expr->kind == Expr::Kind::kToFloat;
    const ScalarKind source =
        from_bool ? ScalarKind::kBool : ScalarKind::kIndex;
    if (operand->type.kind != source || !IsFloat(expr->type.kind) ||
        operand->type.lanes != expr->type.lanes) {
      return Invalid("converts ", Quote(operand), " of type ",
                     ValueTypeToString(operand->type), " to ",
                     ValueTypeToString(expr->type));
    }
    KILN_ASSIGN_OR_RETURN(llvm::Value * value, EmitExpr(operand));
    llvm::Type* type = LlvmType(expr->type);
    // A true i1 is 1 as unsigned and -1 as signed.
    return from_bool ? builder_.CreateUIToFP(value, type)
                     : builder_.CreateSIToFP(value, type);
  }

  // ---- Statements ----

  absl::Status EmitStmt(const StmtPtr& stmt) {
    if (stmt == nullptr) return Invalid("has a null statement");
    // Values from an earlier statement may be stale (a variable assigned,
    // a buffer stored) or may not dominate this one (a loop ended).
    statement_values_.clear();
    switch (stmt->kind) {
      case Stmt::Kind::kFor:
        return EmitFor(*stmt);
      case Stmt::Kind::kBlock:
        for (const StmtPtr& child : stmt->body) {
          KILN_RETURN_IF_ERROR(EmitStmt(child));
        }
        return absl::OkStatus();
      case Stmt::Kind::kStore:
        return EmitStore(*stmt);
      case Stmt::Kind::kAssign: {
        KILN_ASSIGN_OR_RETURN(llvm::Value * value, EmitExpr(stmt->value));
        KILN_ASSIGN_OR_RETURN(llvm::AllocaInst * slot,
                              DeclareVar(stmt->var, stmt->value->type));
        builder_.CreateStore(value, slot);
        return absl::OkStatus();
      }
      case Stmt::Kind::kIf:
        return EmitIf(*stmt);
      case Stmt::Kind::kForNonzero:
        return EmitForNonzero(*stmt);
    }
    return Invalid("has a statement of unknown kind ",
                   static_cast<int>(stmt->kind));
  }

  // var = begin; while (var < end) { body; var += step; }, with begin and
  // end evaluated once, before the loop.
  absl::Status EmitFor(const Stmt& loop) {
    if (loop.step <= 0) {
      return Invalid("has a loop over v", loop.var.id, " with step ",
                     loop.step);
    }
    KILN_RETURN_IF_ERROR(CheckScalarIndex(loop.begin, "a loop's start"));
    KILN_RETURN_IF_ERROR(CheckScalarIndex(loop.end, "a loop's end"));
    KILN_ASSIGN_OR_RETURN(llvm::Value * begin, EmitExpr(loop.begin));
    KILN_ASSIGN_OR_RETURN(llvm::Value * end, EmitExpr(loop.end));
    llvm::Type* i64 = llvm::Type::getInt64Ty(context_);
    KILN_ASSIGN_OR_RETURN(llvm::AllocaInst * slot,
                          DeclareVar(loop.var, {ScalarKind::kIndex, 1}));
    builder_.CreateStore(begin, slot);

    const std::string name = absl::StrCat("v", loop.var.id);
    llvm::BasicBlock* header =
        llvm::BasicBlock::Create(context_, name + ".header", &function_);
    llvm::BasicBlock* body =
        llvm::BasicBlock::Create(context_, name + ".body", &function_);
    llvm::BasicBlock* exit =
        llvm::BasicBlock::Create(context_, name + ".exit", &function_);
    builder_.CreateBr(header);

    builder_.SetInsertPoint(header);
    llvm::Value* current = builder_.CreateLoad(i64, slot, name);
    builder_.CreateCondBr(builder_.CreateICmpSLT(current, end), body, exit);

    builder_.SetInsertPoint(body);
    for (const StmtPtr& child : loop.body) {
      KILN_RETURN_IF_ERROR(EmitStmt(child));
    }
    llvm::Value* last = builder_.CreateLoad(i64, slot, name);
    // Trip counts are far from 2^63, so the increment cannot wrap; saying so
    // lets LLVM compute the trip count and vectorise.
    builder_.CreateStore(
        builder_.CreateNSWAdd(last, llvm::ConstantInt::get(i64, loop.step)),
        slot);
    builder_.CreateBr(header);

    builder_.SetInsertPoint(exit);
    return absl::OkStatus();
  }

  absl::Status EmitStatements(const std::vector<StmtPtr>& statements) {
    for (const StmtPtr& child : statements) {
      KILN_RETURN_IF_ERROR(EmitStmt(child));
    }
    return absl::OkStatus();
  }

  absl::Status EmitIf(const Stmt& branch) {
    if (branch.value == nullptr ||
        branch.value->type != ValueType{ScalarKind::kBool, 1}) {
      return Invalid("branches on ",
                     branch.value ? Quote(branch.value) : "nothing",
                     ", which is no scalar predicate");
    }
    KILN_ASSIGN_OR_RETURN(llvm::Value * condition, EmitExpr(branch.value));
    llvm::BasicBlock* then_block =
        llvm::BasicBlock::Create(context_, "if.then", &function_);
    llvm::BasicBlock* else_block =
        llvm::BasicBlock::Create(context_, "if.else", &function_);
    llvm::BasicBlock* merge =
        llvm::BasicBlock::Create(context_, "if.end", &function_);
    builder_.CreateCondBr(condition, then_block, else_block);
    builder_.SetInsertPoint(then_block);
    KILN_RETURN_IF_ERROR(EmitStatements(branch.body));
    builder_.CreateBr(merge);
    builder_.SetInsertPoint(else_block);
    KILN_RETURN_IF_ERROR(EmitStatements(branch.else_body));
    builder_.CreateBr(merge);
    builder_.SetInsertPoint(merge);
    return absl::OkStatus();
  }

  // Positions are scanned in chunks of up to 64, each turned into a 64-bit
  // mask of the positions to visit; the body then runs once per set bit,
  // lowest first. A branch is taken per visited position and per chunk, never
  // per skipped one, so mispredictions stay few however the zeros fall.
  static constexpr int64_t kScanChunk = 64;

  absl::Status EmitForNonzero(const Stmt& loop) {
    KILN_RETURN_IF_ERROR(CheckBufferAccess(loop.buffer, /*write=*/false));
    KILN_RETURN_IF_ERROR(
        CheckScalarIndex(loop.index, "a nonzero scan's start"));
    if (loop.extent <= 0 || loop.rows <= 0 || loop.stride <= 0) {
      return Invalid("scans ", loop.extent, " positions of stride ",
                     loop.stride, " in ", loop.rows, " rows");
    }
    KILN_ASSIGN_OR_RETURN(llvm::Value * base, EmitExpr(loop.index));
    KILN_ASSIGN_OR_RETURN(llvm::AllocaInst * var_slot,
                          DeclareVar(loop.var, {ScalarKind::kIndex, 1}));
    llvm::Type* i64 = llvm::Type::getInt64Ty(context_);
    auto constant = [&](int64_t value) {
      return llvm::ConstantInt::get(i64, value);
    };
    const int64_t chunks = (loop.extent + kScanChunk - 1) / kScanChunk;
    const int64_t tail = loop.extent - (chunks - 1) * kScanChunk;
    llvm::AllocaInst* mask_slot = HiddenSlot("scan.mask");
    if (chunks == 1)
      return EmitSingleChunkScan(loop, base, var_slot, mask_slot);
    llvm::AllocaInst* chunk_slot = HiddenSlot("scan.chunk");
    builder_.CreateStore(constant(0), chunk_slot);

    llvm::BasicBlock* chunk_header =
        llvm::BasicBlock::Create(context_, "scan.chunk", &function_);
    llvm::BasicBlock* full_chunk =
        llvm::BasicBlock::Create(context_, "scan.full", &function_);
    llvm::BasicBlock* tail_chunk =
        llvm::BasicBlock::Create(context_, "scan.tail", &function_);
    llvm::BasicBlock* bits_header =
        llvm::BasicBlock::Create(context_, "scan.bits", &function_);
    llvm::BasicBlock* visit =
        llvm::BasicBlock::Create(context_, "scan.visit", &function_);
    llvm::BasicBlock* next_chunk =
        llvm::BasicBlock::Create(context_, "scan.next", &function_);
    llvm::BasicBlock* exit =
        llvm::BasicBlock::Create(context_, "scan.exit", &function_);
    builder_.CreateBr(chunk_header);

    // One chunk: its mask, from a full-width scan or the shorter last one.
    builder_.SetInsertPoint(chunk_header);
    llvm::Value* chunk = builder_.CreateLoad(i64, chunk_slot, "chunk");
    llvm::Value* first = builder_.CreateMul(chunk, constant(kScanChunk));
    builder_.CreateCondBr(builder_.CreateICmpSLT(chunk, constant(chunks - 1)),
                          full_chunk, tail_chunk);
    builder_.SetInsertPoint(full_chunk);
    builder_.CreateStore(ScanMask(loop, base, first, kScanChunk), mask_slot);
    builder_.CreateBr(bits_header);
    builder_.SetInsertPoint(tail_chunk);
    builder_.CreateStore(ScanMask(loop, base, first, tail), mask_slot);
    builder_.CreateBr(bits_header);

    // The set bits of the mask, lowest first.
    builder_.SetInsertPoint(bits_header);
    llvm::Value* bits = builder_.CreateLoad(i64, mask_slot, "bits");
    builder_.CreateCondBr(builder_.CreateICmpNE(bits, constant(0)), visit,
                          next_chunk);
    builder_.SetInsertPoint(visit);
    llvm::Value* offset = builder_.CreateBinaryIntrinsic(
        llvm::Intrinsic::cttz, bits, builder_.getTrue());
    builder_.CreateStore(
        builder_.CreateAnd(bits, builder_.CreateSub(bits, constant(1))),
        mask_slot);
    llvm::Value* reloaded = builder_.CreateLoad(i64, chunk_slot, "chunk");
    builder_.CreateStore(
        builder_.CreateAdd(builder_.CreateMul(reloaded, constant(kScanChunk)),
                           offset),
        var_slot);
    KILN_RETURN_IF_ERROR(EmitStatements(loop.body));
    builder_.CreateBr(bits_header);

    builder_.SetInsertPoint(next_chunk);
    llvm::Value* done = builder_.CreateLoad(i64, chunk_slot, "chunk");
    llvm::Value* following = builder_.CreateAdd(done, constant(1));
    builder_.CreateStore(following, chunk_slot);
    builder_.CreateCondBr(builder_.CreateICmpSLT(following, constant(chunks)),
                          chunk_header, exit);
    builder_.SetInsertPoint(exit);
    return absl::OkStatus();
  }

  // A scan of at most kScanChunk positions: one mask, then its bits.
  absl::Status EmitSingleChunkScan(const Stmt& loop, llvm::Value* base,
                                   llvm::AllocaInst* var_slot,
                                   llvm::AllocaInst* mask_slot) {
    llvm::Type* i64 = llvm::Type::getInt64Ty(context_);
    llvm::Value* zero = llvm::ConstantInt::get(i64, 0);
    builder_.CreateStore(ScanMask(loop, base, zero, loop.extent), mask_slot);
    llvm::BasicBlock* bits_header =
        llvm::BasicBlock::Create(context_, "scan.bits", &function_);
    llvm::BasicBlock* visit =
        llvm::BasicBlock::Create(context_, "scan.visit", &function_);
    llvm::BasicBlock* exit =
        llvm::BasicBlock::Create(context_, "scan.exit", &function_);
    builder_.CreateBr(bits_header);
    builder_.SetInsertPoint(bits_header);
    llvm::Value* bits = builder_.CreateLoad(i64, mask_slot, "bits");
    builder_.CreateCondBr(builder_.CreateICmpNE(bits, zero), visit, exit);
    builder_.SetInsertPoint(visit);
    builder_.CreateStore(builder_.CreateBinaryIntrinsic(
                             llvm::Intrinsic::cttz, bits, builder_.getTrue()),
                         var_slot);
    builder_.CreateStore(
        builder_.CreateAnd(
            bits, builder_.CreateSub(bits, llvm::ConstantInt::get(i64, 1))),
        mask_slot);
    KILN_RETURN_IF_ERROR(EmitStatements(loop.body));
    builder_.CreateBr(bits_header);
    builder_.SetInsertPoint(exit);
    return absl::OkStatus();
  }

  // The i64 mask of positions first .. first+width−1 (bit t for position
  // first+t) at which some row of the scan is nonzero.
  llvm::Value* ScanMask(const Stmt& loop, llvm::Value* base, llvm::Value* first,
                        int64_t width) {
    llvm::Type* i64 = llvm::Type::getInt64Ty(context_);
    llvm::Type* element =
        ScalarType(ScalarKindOf(program_.buffers[loop.buffer].dtype));
    auto constant = [&](int64_t value) {
      return llvm::ConstantInt::get(i64, value);
    };
    // Contiguous positions: one vector compare per row.
    if (loop.stride == 1) {
      llvm::Value* mask = constant(0);
      auto* vector = llvm::FixedVectorType::get(element, width);
      for (int r = 0; r < loop.rows; ++r) {
        llvm::Value* at = builder_.CreateAdd(
            builder_.CreateAdd(base, constant(r * loop.row_stride)), first);
        llvm::Value* values = builder_.CreateAlignedLoad(
            vector, ElementAddress(loop.buffer, at), ElementAlign(loop.buffer));
        llvm::Value* nonzero = builder_.CreateFCmpUNE(
            values, llvm::Constant::getNullValue(vector));
        llvm::Value* row_bits = builder_.CreateZExt(
            builder_.CreateBitCast(nonzero,
                                   llvm::IntegerType::get(context_, width)),
            i64);
        mask = builder_.CreateOr(mask, row_bits);
      }
      return mask;
    }
    // Strided positions: one gather per row, of the chunk's positions at
    // constant offsets from the chunk's first element.
    llvm::Value* chunk_base = ElementAddress(
        loop.buffer,
        builder_.CreateAdd(base,
                           builder_.CreateMul(first, constant(loop.stride))));
    llvm::Value* mask = constant(0);
    auto* vector = llvm::FixedVectorType::get(element, width);
    // 32-bit offsets, when they fit, let the gather take 16 lanes at once.
    const int64_t largest =
        (width - 1) * loop.stride + (loop.rows - 1) * loop.row_stride;
    llvm::Type* offset_type = largest <= INT32_MAX
                                  ? llvm::Type::getInt32Ty(context_)
                                  : llvm::Type::getInt64Ty(context_);
    for (int r = 0; r < loop.rows; ++r) {
      std::vector<llvm::Constant*> offsets;
      for (int64_t t = 0; t < width; ++t) {
        offsets.push_back(llvm::ConstantInt::get(
            offset_type, t * loop.stride + r * loop.row_stride));
      }
      llvm::Value* pointers = builder_.CreateInBoundsGEP(
          element, chunk_base, llvm::ConstantVector::get(offsets));
      llvm::Value* values = builder_.CreateMaskedGather(
          vector, pointers, ElementAlign(loop.buffer));
      llvm::Value* nonzero =
          builder_.CreateFCmpUNE(values, llvm::Constant::getNullValue(vector));
      mask = builder_.CreateOr(
          mask, builder_.CreateZExt(
                    builder_.CreateBitCast(
                        nonzero, llvm::IntegerType::get(context_, width)),
                    i64));
    }
    return mask;
  }

  absl::Status EmitStore(const Stmt& store) {
    const int buffer = store.buffer;
    KILN_RETURN_IF_ERROR(CheckBufferAccess(buffer, /*write=*/true));
    if (store.value == nullptr) return Invalid("stores no value");
    const ScalarKind element = ScalarKindOf(program_.buffers[buffer].dtype);
    if (store.value->type.kind != element) {
      return Invalid("stores ", Quote(store.value), " of type ",
                     ValueTypeToString(store.value->type), " into buffer b",
                     buffer, " (", program_.buffers[buffer].name, ") of dtype ",
                     DTypeName(program_.buffers[buffer].dtype));
    }
    KILN_RETURN_IF_ERROR(CheckScalarIndex(store.index, "the index of a store"));
    KILN_ASSIGN_OR_RETURN(llvm::Value * value, EmitExpr(store.value));
    KILN_ASSIGN_OR_RETURN(llvm::Value * index, EmitExpr(store.index));
    const int lanes = store.value->type.lanes;
    if (store.active_lanes > 0 && store.active_lanes < lanes) {
      builder_.CreateMaskedStore(value, ElementAddress(buffer, index),
                                 ElementAlign(buffer),
                                 LeadingLanes(store.active_lanes, lanes));
      return absl::OkStatus();
    }
    builder_.CreateAlignedStore(value, ElementAddress(buffer, index),
                                ElementAlign(buffer));
    return absl::OkStatus();
  }

  const LoopProgram& program_;
  const Kernel& kernel_;
  const int kernel_index_;
  llvm::Function& function_;
  llvm::LLVMContext& context_;
  // Emits the kernel's code; entry_builder_ appends allocas and table loads
  // to the entry block, which dominates everything.
  llvm::IRBuilder<> builder_;
  llvm::IRBuilder<> entry_builder_;
  std::vector<std::optional<ValueType>> var_types_;
  std::vector<llvm::AllocaInst*> var_slots_;
  std::vector<llvm::Value*> buffer_bases_;
  std::vector<bool> readable_;
  std::vector<bool> writable_;
  // The values of the current statement's expressions; see EmitExpr.
  absl::flat_hash_map<const Expr*, llvm::Value*> statement_values_;
};

// A function `void name(ptr buffer_table, <extra>...)` of `module`.
llvm::Function* CreateTableFunction(llvm::Module& module,
                                    const std::string& name,
                                    llvm::GlobalValue::LinkageTypes linkage,
                                    std::vector<llvm::Type*> extra) {
  llvm::LLVMContext& context = module.getContext();
  std::vector<llvm::Type*> parameters = {llvm::PointerType::getUnqual(context)};
  parameters.insert(parameters.end(), extra.begin(), extra.end());
  llvm::FunctionType* type = llvm::FunctionType::get(
      llvm::Type::getVoidTy(context), parameters, /*isVarArg=*/false);
  llvm::Function* function =
      llvm::Function::Create(type, linkage, name, module);
  function->setDoesNotThrow();
  // Loops that zero or copy a few kilobytes stay vector stores: a call to
  // the C library's memset or memmove, which LLVM would otherwise make of
  // them, costs its call and its string-instruction start-up for every
  // group of rows.
  function->addFnAttr("no-builtin-memset");
  function->addFnAttr("no-builtin-memcpy");
  function->addFnAttr("no-builtin-memmove");
  llvm::Argument* table = function->getArg(0);
  table->setName("buffer_table");
  // Only the table itself is promised unmodified; the buffers it points to
  // may be read and written, and may overlap.
  table->addAttr(llvm::Attribute::NoCapture);
  table->addAttr(llvm::Attribute::ReadOnly);
  return function;
}

// The layout of RunPart as generated code reads it.
static_assert(offsetof(RunPart, index) == 0 && offsetof(RunPart, count) == 8 &&
              offsetof(RunPart, claim_chunk) == 16 &&
              offsetof(RunPart, claim_state) == 24 && sizeof(RunPart) == 32);

// The entry's body: every kernel in order, each whole, as the one part of
// its run.
void EmitEntryBody(const std::vector<llvm::Function*>& kernels,
                   llvm::Function& entry) {
  llvm::LLVMContext& context = entry.getContext();
  llvm::Type* i64 = llvm::Type::getInt64Ty(context);
  llvm::Type* ptr = llvm::PointerType::getUnqual(context);
  llvm::StructType* run_part_type =
      llvm::StructType::get(context, {i64, i64, ptr, ptr});
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(context, "entry", &entry));
  llvm::AllocaInst* whole =
      builder.CreateAlloca(run_part_type, nullptr, "whole");
  builder.CreateStore(
      llvm::ConstantStruct::get(
          run_part_type,
          {llvm::ConstantInt::get(i64, 0), llvm::ConstantInt::get(i64, 1),
           llvm::ConstantPointerNull::get(
               llvm::PointerType::getUnqual(context)),
           llvm::ConstantPointerNull::get(
               llvm::PointerType::getUnqual(context))}),
      whole);
  for (llvm::Function* kernel : kernels) {
    builder.CreateCall(kernel, {entry.getArg(0), whole});
  }
  builder.CreateRetVoid();
}

}  // namespace

std::string KernelFunctionName(absl::string_view entry_name, int kernel_index,
                               absl::string_view kernel_name) {
  return absl::StrCat(entry_name, ".", kernel_index, ".", kernel_name);
}

absl::StatusOr<std::unique_ptr<llvm::Module>> GenerateModule(
    const LoopProgram& program, absl::string_view entry_name,
    llvm::LLVMContext& context) {
  if (entry_name.empty()) {
    return absl::InvalidArgumentError("the entry function needs a name");
  }
  auto module = std::make_unique<llvm::Module>(
      llvm::StringRef(entry_name.data(), entry_name.size()), context);
  llvm::Type* ptr = llvm::PointerType::getUnqual(context);
  std::vector<llvm::Function*> kernels;
  for (size_t i = 0; i < program.kernels.size(); ++i) {
    const Kernel& kernel = program.kernels[i];
    llvm::Function* function = CreateTableFunction(
        *module,
        KernelFunctionName(entry_name, static_cast<int>(i), kernel.name),
        llvm::GlobalValue::InternalLinkage, {ptr});
    llvm::Argument* run_part = function->getArg(1);
    run_part->setName("run_part");
    run_part->addAttr(llvm::Attribute::NoCapture);
    run_part->addAttr(llvm::Attribute::ReadOnly);
    // Kernels stay functions of their own: merged into the entry, they
    // would make one huge function, on which LLVM's passes take far
    // longer, for the saving of a dozen calls per run.
    function->addFnAttr(llvm::Attribute::NoInline);
    KernelEmitter emitter(program, static_cast<int>(i), *function);
    KILN_RETURN_IF_ERROR(emitter.Emit());
    kernels.push_back(function);
  }

  llvm::Function* entry = CreateTableFunction(
      *module, std::string(entry_name), llvm::GlobalValue::ExternalLinkage, {});
  EmitEntryBody(kernels, *entry);

  std::string problems;
  llvm::raw_string_ostream stream(problems);
  if (llvm::verifyModule(*module, &stream)) {
    return absl::InternalError(
        absl::StrCat("generated LLVM IR for '", entry_name,
                     "' fails verification: ", stream.str()));
  }
  return module;
}

}  // namespace kiln::jit
