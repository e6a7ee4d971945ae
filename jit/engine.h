// The engine: compiles LoopPrograms to native code for the host CPU and keeps
// that code loaded while it is in use.
//
// One process-wide Engine owns an LLVM ORC LLJIT. Compile turns a program
// into an object file (code generation, verification, LLVM's O3 pipeline,
// machine code for the host's exact CPU and features) and links it into the
// process; the returned CompiledCode owns the code and frees it when
// destroyed. Object files can be cached on disk under a key the caller
// derives from everything that determines the code, including
// target_description(), so that a later process skips code generation.
//
// Failures are statuses, never aborts: a module LLVM's verifier rejects, a
// call whose vector ABI needs a CPU feature the target lacks, and every
// llvm::Error on the way (target machines, linking, symbol lookup) come back
// as absl::Status. A cache entry that is truncated, damaged or written by
// another version (see jit/object_cache.h) is ignored and rebuilt.
//
//   KILN_ASSIGN_OR_RETURN(Engine * engine, Engine::Get());
//   KILN_ASSIGN_OR_RETURN(
//       std::unique_ptr<CompiledCode> code,
//       engine->Compile(program, fingerprint, {.cache_dir = "/tmp/kiln"}));
//   code->entry()(buffer_table);  // runs every kernel in order
//
// Generated code computes what the reference kernels compute, bit for bit:
// no fast-math, no contraction of multiplies and adds, the C library's
// transcendental functions.

#ifndef KILN_JIT_ENGINE_H_
#define KILN_JIT_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "jit/loop_ir.h"
#include "llvm/ADT/SmallVector.h"

namespace llvm {
class MemoryBuffer;
class Module;
class TargetMachine;
}  // namespace llvm

namespace llvm::orc {
class JITDylib;
class JITTargetMachineBuilder;
class LLJIT;
}  // namespace llvm::orc

namespace kiln::jit {

// How Engine::Compile caches and what it keeps for inspection.
struct CompileOptions {
  // The directory of the object cache, created if missing; empty for no
  // cache.
  std::string cache_dir;
  // Keep the LLVM IR as generated and verified, before optimisation.
  bool keep_ir_before = false;
  // Keep the LLVM IR after the O3 pipeline.
  bool keep_ir_after = false;
  // Keep the host assembly of the optimised module.
  bool keep_assembly = false;
  // Make every kernel callable on its own, through CompiledCode::kernels(),
  // besides the entry that runs them all. Code compiled this way is cached
  // apart from code compiled without.
  bool export_kernels = false;
};

// The native code of one LoopProgram. The code stays loaded, and entry()
// valid, exactly as long as this object lives. Thread-compatible; entry()
// may run on any number of threads at once if the buffers allow it.
class CompiledCode {
 public:
  // Runs every kernel of the program whole, in order, on the buffers of
  // `buffer_table`, whose entry b is the base address of buffer b.
  using Entry = void (*)(char* const* buffer_table);
  // Runs one kernel (see KernelFunctionName in jit/codegen.h) as `part`
  // says: the chunks it claims, or with a part of a one-part run, the whole
  // kernel.
  using KernelEntry = void (*)(char* const* buffer_table, const RunPart* part);

  CompiledCode(const CompiledCode&) = delete;
  CompiledCode& operator=(const CompiledCode&) = delete;
  // Unloads the code and frees its memory.
  ~CompiledCode();

  // The program's entry function; never null.
  Entry entry() const { return entry_; }

  // With CompileOptions::export_kernels, kernel k of the program on its own:
  // running kernels()[0], [1], ... in order, each as part 0 of 1, is what
  // entry() does. Empty otherwise.
  const std::vector<KernelEntry>& kernels() const { return kernels_; }

  // Whether the code came from the disk cache rather than from the IR.
  bool loaded_from_disk_cache() const { return loaded_from_disk_cache_; }

  // Text kept when CompileOptions asked for it; empty otherwise and always
  // empty for code loaded from the disk cache, whose IR was never built.
  const std::string& ir_before() const { return ir_before_; }
  const std::string& ir_after() const { return ir_after_; }
  const std::string& assembly() const { return assembly_; }

 private:
  friend class Engine;
  CompiledCode(llvm::orc::LLJIT& jit, llvm::orc::JITDylib& dylib, Entry entry,
               bool loaded_from_disk_cache);

  llvm::orc::LLJIT& jit_;
  llvm::orc::JITDylib& dylib_;
  Entry entry_;
  std::vector<KernelEntry> kernels_;
  bool loaded_from_disk_cache_;
  std::string ir_before_;
  std::string ir_after_;
  std::string assembly_;
};

// Compiles LoopPrograms for the host. Thread-safe.
class Engine {
 public:
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // The process-wide engine, created on first use (thread-safe) and never
  // destroyed. It targets the host CPU by name and feature set at the most
  // aggressive optimisation level, and resolves the C library's math
  // functions and every other symbol of the process. Fails, on every call,
  // if LLVM cannot target the host.
  static absl::StatusOr<Engine*> Get();

  // An engine of its own that targets `cpu`, an LLVM CPU name such as
  // "x86-64", with that CPU's features instead of the host's; an empty name
  // means the host, as Get() does. The code must run here, so `cpu` should
  // be one the host can execute: an older model of the host's family.
  // CompiledCode from this engine must be destroyed before the engine.
  // Fails with kInvalidArgument if LLVM does not know `cpu`.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const std::string& cpu);

  // Unloads the JIT. Only engines from Create are ever destroyed.
  ~Engine();

  // Everything about the engine that affects the code it emits, as
  // "kiln codegen <digest>; llvm 19.1.7; x86_64-pc-linux-gnu; cpu
  // skylake-avx512; +adx,+aes,...", where the digest is that of the code
  // generator's and the engine's own sources (jit/BUILD.bazel). Cache keys
  // must include it: an object cached for one description is wrong or slow
  // under another.
  const std::string& target_description() const { return target_description_; }

  // Compiles `program` and loads the code. `key` is the caller's fingerprint
  // of the program (its graph, shapes, dtypes and target_description()); it
  // names the cache entry <cache_dir>/<key>.kjit (jit/object_cache.h) and,
  // reduced to [A-Za-z0-9_], prefixes every symbol as "kiln_<key>_".
  // Programs with equal keys must be equal. With a cache_dir, a valid entry
  // is loaded without generating any IR; a missing, unreadable, truncated,
  // damaged or foreign one (another format version, target or key) is
  // regenerated and replaced atomically. Failing to write the cache only
  // costs the next process a compilation.
  //
  // Fails with kInvalidArgument if the program is ill-typed (see
  // GenerateModule) or if a cache_dir is given with an empty key, with
  // kFailedPrecondition if the code would need a CPU feature the target
  // lacks (see CompileModule), and with kInternal if LLVM fails.
  absl::StatusOr<std::unique_ptr<CompiledCode>> Compile(
      const LoopProgram& program, absl::string_view key,
      const CompileOptions& options);

  // Compiles and loads `module`, which must define
  //   void <entry_name>(char* const* buffer_table)
  // with external linkage, as Compile does with the module it generates;
  // nothing is cached and export_kernels is ignored. The module is
  // optimised in place. It is checked before LLVM's code generator sees
  // it, because that reports malformed input by ending the process:
  //   kInternal            LLVM's verifier rejects the module (the message
  //                        quotes the verifier), or linking fails, for
  //                        example on a call to a function nothing defines;
  //   kFailedPrecondition  the module calls a vector math function whose
  //                        calling convention needs a CPU feature the
  //                        target lacks, such as an AVX-512 variant
  //                        (_ZGVe...) on a CPU without avx512f.
  absl::StatusOr<std::unique_ptr<CompiledCode>> CompileModule(
      llvm::Module& module, const std::string& entry_name,
      const CompileOptions& options);

 private:
  // The symbols one compilation defines and looks up.
  struct Symbols {
    std::string entry;
    // Kernel functions to export and look up; empty unless export_kernels.
    std::vector<std::string> kernels;
    // Unique in ORC's ExecutionSession, so that programs of one key can
    // coexist.
    std::string dylib;
  };
  // The text kept for CompiledCode when CompileOptions asks for it.
  struct Listings {
    std::string ir_before, ir_after, assembly;
  };

  Engine(std::unique_ptr<llvm::orc::LLJIT> jit,
         std::unique_ptr<llvm::orc::JITTargetMachineBuilder> machine_builder);
  static absl::StatusOr<std::unique_ptr<Engine>> CreateFor(
      llvm::orc::JITTargetMachineBuilder machine_builder);

  Symbols MakeSymbols(absl::string_view key, const LoopProgram* program,
                      bool export_kernels);

  // Verifies `module`, checks it against the target, optimises it and
  // returns its object file, keeping listings as `options` asks.
  absl::StatusOr<llvm::SmallVector<char, 0>> EmitObject(
      llvm::Module& module, const Symbols& symbols,
      const CompileOptions& options, Listings& listings);

  // The code of a valid cache entry at `path`, or the reason there is none.
  absl::StatusOr<std::unique_ptr<CompiledCode>> LoadCacheEntry(
      const std::string& path, absl::string_view description,
      const Symbols& symbols);

  // Loads the object file EmitObject returned, with the listings kept
  // while making it.
  absl::StatusOr<std::unique_ptr<CompiledCode>> LoadEmitted(
      llvm::SmallVector<char, 0> bytes, const Symbols& symbols,
      Listings listings);

  // Loads `object` into a fresh JITDylib and looks up the symbols there; on
  // failure, removes the JITDylib again.
  absl::StatusOr<std::unique_ptr<CompiledCode>> Load(
      std::unique_ptr<llvm::MemoryBuffer> object, const Symbols& symbols,
      bool from_disk_cache);

  std::unique_ptr<llvm::orc::LLJIT> jit_;
  // Describes the TargetMachine that LLJIT links for; Compile builds its own
  // TargetMachines from it, one per call, as TargetMachines are not
  // thread-safe.
  std::unique_ptr<const llvm::orc::JITTargetMachineBuilder> machine_builder_;
  std::string target_description_;
  // Numbers JITDylibs, whose names must be unique in the ExecutionSession.
  std::atomic<uint64_t> next_dylib_number_{0};
};

}  // namespace kiln::jit

#endif  // KILN_JIT_ENGINE_H_
