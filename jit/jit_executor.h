// JitExecutor: the executor that compiles a graph into native code.
//
// Compile copies the graph, runs the graph passes on the copy, plans fusion,
// lowers the kernels to the loop IR, lays out one arena for every
// intermediate value and hands the loops to the LLVM engine. The program it
// returns runs the whole graph, parameter updates included, as one call into
// generated code; after the first run it allocates nothing.
//
//   JitExecutor jit;
//   KILN_ASSIGN_OR_RETURN(std::unique_ptr<Program> step,
//                         jit.Compile(graph, {loss}, updates));
//   for (...) KILN_RETURN_IF_ERROR(step->Run(feeds, outputs));
//
// Compiled code is cached twice. In memory, programs whose loops are equal
// share one copy of the code. On disk, object files are kept under
// JitOptions::cache_dir keyed by a fingerprint of the loops and of the
// engine's target, so a second process skips LLVM entirely.
//
// Dumps. JitOptions::dump (by default from the environment variable
// KILN_DUMP, a comma list of graph, kernels, ir and asm, or "all") writes,
// for each compiled program, into <dump_dir>/<program>/:
//   graph     graph.txt: the graph as given, then after every pass that
//             changed it, then the fusion plan; graph.dot, the graph as
//             given, and fused.dot, after the passes with each kernel's
//             nodes boxed (jit/fusion_dot.h), for Graphviz;
//   kernels   kernels.txt: the loop IR of every kernel, and the arena plan;
//   ir        ir_before.ll and ir_after.ll: LLVM IR before and after O3;
//   asm       program.s: the host assembly.
// dump_dir defaults to KILN_DUMP_DIR, else ./kiln_dump.

#ifndef KILN_JIT_JIT_EXECUTOR_H_
#define KILN_JIT_JIT_EXECUTOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ad/executor.h"

namespace kiln::jit {

struct DumpOptions {
  bool graph = false;
  bool kernels = false;
  bool ir = false;
  bool assembly = false;

  bool any() const { return graph || kernels || ir || assembly; }
};

// Parses "graph,kernels,ir,asm" (any subset, or "all"; empty for none).
// Fails with kInvalidArgument naming an unknown item.
absl::StatusOr<DumpOptions> ParseDumpOptions(absl::string_view text);

struct JitOptions {
  // The object cache; empty for none. Defaults to KILN_CACHE_DIR, else
  // $XDG_CACHE_HOME/kiln, else $HOME/.cache/kiln.
  std::string cache_dir;
  // Whether programs with equal loops share code within the process.
  bool use_memory_cache = true;
  DumpOptions dump;
  std::string dump_dir;
  // Vector registers' width in bytes: 64 with AVX-512, else 32 or 16.
  int vector_bytes = 0;
  // Whether exp, log, log1p and tanh must give the reference kernels' bits
  // (one C library call per element) rather than use the vector math
  // library (a few ulp, several times faster). KILN_EXACT_MATH=1 sets it.
  bool exact_math = false;
  // The threads each run of a program uses, 1 to 64. Kernels divide their
  // output between the threads, never a sum, so results are bit-identical
  // for every count. KILN_THREADS sets it.
  int num_threads = 1;
  // Whether matrix products whose left operand is a graph input skip the
  // input's zeros (MNIST pixels are mostly zero). The result is unchanged
  // bit for bit: skipping is chosen per run only when the other operand is
  // finite, so that every skipped term is an exact zero.
  bool skip_input_zeros = true;
  // The most bytes a program's arena and outputs may take; 0 for the
  // default of DefaultMemoryBudget() (ad/memory_budget.h). Compile refuses
  // a program above it with kResourceExhausted, before generating code.
  int64_t memory_budget_bytes = 0;
  // Run kernels one at a time and check each one's result, and every feed,
  // for NaN and infinity; the first found fails the run with
  // kInvalidArgument naming the kernel, the node it computes and where that
  // node was built. Off by default: it costs a pass over every result, and
  // the kernels run one by one on one thread, whatever num_threads says. An
  // update kernel that produces a bad value has written it into its
  // parameter by the time the run fails.
  bool check_numerics = false;
  // Time every kernel of every run, in each thread, and the waits at the
  // barriers between them, and log a table of the means (see
  // jit/kernel_profile.h) to stderr when the program is destroyed. The
  // kernels run from C++ one call at a time, as the entry function would
  // run them. KILN_PROFILE=1 sets it.
  bool profile_kernels = false;

  // The defaults above, read from the environment and the host CPU. Fails
  // with kInvalidArgument if KILN_DUMP or KILN_THREADS cannot be parsed.
  static absl::StatusOr<JitOptions> FromEnvironment();
};

// What the last Compile of a JitExecutor did, for tests and benchmarks.
struct CompileReport {
  int num_kernels = 0;
  // The kernels' names in run order, such as "k3_matmul_sub_update".
  std::vector<std::string> kernel_names;
  // Parallel to kernel_names: how many chunks each kernel divides into
  // between the threads of a run, 1 for a kernel that runs whole.
  std::vector<int64_t> kernel_chunks;
  // Buffers that hold a node's value, by node description; a gradient that
  // is folded into its update never appears.
  std::vector<std::string> buffer_names;
  // Parallel to buffer_names: each buffer's number of elements.
  std::vector<int64_t> buffer_elements;
  int64_t arena_bytes = 0;
  bool code_from_memory_cache = false;
  bool code_from_disk_cache = false;
  std::string fingerprint;
};

class JitExecutor : public Executor {
 public:
  // Options from the environment; if KILN_DUMP is malformed, Compile fails
  // with that error.
  JitExecutor();
  explicit JitExecutor(JitOptions options);

  absl::string_view name() const override { return "jit"; }

  absl::StatusOr<std::unique_ptr<Program>> Compile(
      Graph& graph, const std::vector<Node>& outputs,
      const std::vector<ParameterUpdate>& updates = {}) override;

  const CompileReport& last_report() const { return last_report_; }

 private:
  absl::Status options_status_;
  JitOptions options_;
  CompileReport last_report_;
  int programs_compiled_ = 0;
};

}  // namespace kiln::jit

#endif  // KILN_JIT_JIT_EXECUTOR_H_
