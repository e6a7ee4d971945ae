// Code generation: the translation of a LoopProgram into an LLVM module.
//
// Each kernel becomes one function and the program one entry function that
// runs the kernels in order. The translation is literal: every loop IR
// operation maps to the LLVM instructions that give exactly the results the
// reference kernels give (no fast-math flags, no contraction, transcendental
// functions from the C library, lane reductions in a fixed pairwise order),
// so that optimisation is left to LLVM's pipeline and cannot change numbers.
//
//   llvm::LLVMContext context;
//   absl::StatusOr<std::unique_ptr<llvm::Module>> module =
//       GenerateModule(program, "kiln_3fa9_entry", context);
//   // module defines
//   //   void kiln_3fa9_entry(char* const* buffer_table).
//
// The generator checks types as it goes: ill-typed IR is reported as
// kInvalidArgument naming the kernel, never passed on to LLVM.

#ifndef KILN_JIT_CODEGEN_H_
#define KILN_JIT_CODEGEN_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "jit/loop_ir.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

namespace kiln::jit {

// The name GenerateModule gives the function of kernel number
// `kernel_index` of a program whose entry is `entry_name`:
// "<entry_name>.<kernel_index>.<kernel name>". The entry name is a prefix of
// every kernel's name, so prefixing it makes all of a module's symbols
// unique; the index keeps kernels with equal names apart.
std::string KernelFunctionName(absl::string_view entry_name, int kernel_index,
                               absl::string_view kernel_name);

// Translates `program` into a new module of `context` with one function per
// kernel,
//   void <KernelFunctionName(...)>(char* const* buffer_table,
//                                  const RunPart* part)  (internal)
// which computes the chunks the part claims, or everything in a run of one
// part (see Kernel and RunPart), and one function with external linkage,
//   void <entry_name>(char* const* buffer_table)
// that runs every kernel whole, in program order: the program on one
// thread. Every function is nounwind.
// Buffer b's base address is buffer_table[b]; nothing is assumed about how
// buffers overlap, so a kernel may read and write the same buffer.
//
// The module has neither a data layout nor a target triple; the caller sets
// them before optimising.
//
// Fails with kInvalidArgument, naming the kernel, if the IR is ill-typed:
// operand types that do not match their operation, a buffer outside the
// table, a load from a buffer the kernel lists neither in buffers_read nor in
// buffers_written, a store to one missing from buffers_written (memory
// planning trusts those lists), a value stored into a buffer of another
// dtype, a variable used before its first assignment or assigned
// values of different types, a lane reduction over a width that is not a
// power of two. Fails with kInternal, quoting the verifier, if LLVM's
// verifier rejects the generated module; that is a bug of this generator.
absl::StatusOr<std::unique_ptr<llvm::Module>> GenerateModule(
    const LoopProgram& program, absl::string_view entry_name,
    llvm::LLVMContext& context);

}  // namespace kiln::jit

#endif  // KILN_JIT_CODEGEN_H_
