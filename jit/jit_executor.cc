#include "jit/jit_executor.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "ad/graph_walk.h"
#include "ad/memory_budget.h"
#include "ad/passes/pipeline.h"
#include "ad/passes/printer.h"
#include "jit/engine.h"
#include "jit/fusion.h"
#include "jit/fusion_dot.h"
#include "jit/kernel_profile.h"
#include "jit/kernel_queue.h"
#include "jit/lower.h"
#include "jit/memory_plan.h"
#include "jit/schedule.h"
#include "jit/thread_pool.h"
#include "ops/base/check.h"
#include "ops/base/logging.h"
#include "ops/base/status_macros.h"
#include "ops/numerics.h"

namespace kiln::jit {
namespace {

constexpr int64_t kArenaAlignment = 64;
constexpr int kMaxThreads = 64;

// A 128-bit FNV-1a-style hash in hex: two 64-bit lanes with different
// offsets and primes. Stable across processes and builds, which the disk
// cache needs and std::hash does not promise.
std::string Fingerprint(absl::string_view text) {
  uint64_t low = 0xcbf29ce484222325ull;
  uint64_t high = 0x84222325cbf29ce4ull;
  for (unsigned char byte : text) {
    low = (low ^ byte) * 0x100000001b3ull;
    high = (high ^ byte) * 0x9e3779b97f4a7c15ull;
    high ^= high >> 29;
  }
  return absl::StrFormat("%016x%016x", high, low);
}

// Everything the generated code depends on: the buffers' types and sizes,
// the kernels and the engine's target.
std::string FingerprintText(const LoopProgram& loops,
                            absl::string_view target) {
  std::string text = absl::StrCat(
      target, "\nvector math library: ", loops.vector_math_library, "\n");
  for (size_t b = 0; b < loops.buffers.size(); ++b) {
    absl::StrAppend(&text, "b", b, " ", DTypeName(loops.buffers[b].dtype), " ",
                    loops.buffers[b].num_elements,
                    loops.buffers[b].local ? " local" : "", "\n");
  }
  for (const Kernel& kernel : loops.kernels) {
    absl::StrAppend(&text, KernelToString(kernel, loops.buffers));
  }
  return text;
}

int HostVectorBytes() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return 64;
  if (__builtin_cpu_supports("avx2")) return 32;
  return 16;
}

std::string DefaultCacheDir() {
  if (const char* dir = std::getenv("KILN_CACHE_DIR")) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return absl::StrCat(xdg, "/kiln");
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return absl::StrCat(home, "/.cache/kiln");
  }
  return "";
}

// Code shared by programs with equal fingerprints.
class CodeCache {
 public:
  static CodeCache& Get() {
    static CodeCache* cache = new CodeCache;
    return *cache;
  }

  std::shared_ptr<CompiledCode> Find(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = code_.find(key);
    if (found == code_.end()) return nullptr;
    return found->second.lock();
  }

  void Insert(const std::string& key,
              const std::shared_ptr<CompiledCode>& code) {
    std::lock_guard<std::mutex> lock(mutex_);
    code_[key] = code;
  }

 private:
  std::mutex mutex_;
  // Weak, so that code unloads when its last program dies.
  std::map<std::string, std::weak_ptr<CompiledCode>> code_;
};

absl::Status WriteFile(const std::filesystem::path& path,
                       absl::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) {
    return absl::UnavailableError(
        absl::StrCat("cannot write dump file ", path.string()));
  }
  return absl::OkStatus();
}

// What check_numerics says of one kernel when its result is bad.
struct KernelCheck {
  // "kernel k2_matmul_add_sigmoid, computing sigmoid (at mlp.cc:40)".
  std::string description;
  // The node the kernel stores, whose shape places a bad element.
  Shape shape;
};

std::vector<KernelCheck> KernelChecks(Graph& graph, const FusionPlan& plan,
                                      const LoweredProgram& lowered) {
  std::vector<KernelCheck> checks;
  for (size_t k = 0; k < lowered.loops.kernels.size(); ++k) {
    const KernelPlan& planned = plan.kernels[lowered.plan_kernels[k]];
    const Node& root = planned.root;
    const Node& parameter = planned.updates_in_place;
    // The first kernel of a product with halved sums stores the two
    // halves' sums, not the root.
    const bool halves = k + 1 < lowered.loops.kernels.size() &&
                        lowered.plan_kernels[k + 1] == lowered.plan_kernels[k];
    const Node& computed = halves ? planned.producer : root;
    std::string description = absl::StrCat(
        "kernel ", lowered.loops.kernels[k].name, ", computing ",
        halves ? "the halved sums of " : "", OpName(computed.op()), " (at ",
        LocationString(graph.data(computed.id()).where), ")");
    if (parameter.ok() && !halves) {
      absl::StrAppend(&description, " into parameter '", parameter.name(), "'");
    }
    Shape shape = computed.shape();
    if (halves) shape.insert(shape.begin(), 2);
    checks.push_back({std::move(description), std::move(shape)});
  }
  return checks;
}

// The largest of `buffers`, named for a memory budget message.
LargestBuffer LargestOf(const LoopProgram& loops,
                        const std::vector<int>& buffers) {
  LargestBuffer largest;
  for (int b : buffers) {
    const BufferInfo& info = loops.buffers[b];
    const int64_t bytes =
        info.num_elements * static_cast<int64_t>(DTypeSize(info.dtype));
    if (bytes <= largest.bytes) continue;
    largest = {bytes, absl::StrCat(info.name, " ", DTypeName(info.dtype), "[",
                                   info.num_elements, " elements]")};
  }
  return largest;
}

// Lays out the arena as PlanArena does, after checking that it and the
// outputs' tensors fit in `budget` bytes; returns the arena's size. The sum
// of every buffer is taken first, with saturation, so that a graph too big
// to count is refused before PlanArena could overflow on it.
absl::StatusOr<int64_t> PlanArenaWithinBudget(
    const LoweredProgram& lowered, const std::vector<int>& arena_buffers,
    const std::vector<BufferLifetime>& lifetimes, int64_t budget,
    std::vector<int64_t>& offsets) {
  std::vector<int> counted = arena_buffers;
  int64_t outputs = 0;
  for (const LoweredOutput& output : lowered.outputs) {
    counted.push_back(output.buffer);
    outputs = SaturatingAdd(outputs,
                            NumElements(output.shape) *
                                static_cast<int64_t>(DTypeSize(output.dtype)));
  }
  const LargestBuffer largest = LargestOf(lowered.loops, counted);
  int64_t unshared = outputs;
  for (const BufferLifetime& lifetime : lifetimes) {
    unshared =
        SaturatingAdd(unshared, SaturatingAdd(lifetime.bytes, kArenaAlignment));
  }
  if (unshared == std::numeric_limits<int64_t>::max()) {
    return CheckMemoryBudget("the compiled program", unshared, budget, largest);
  }
  const int64_t arena_bytes = PlanArena(lifetimes, kArenaAlignment, offsets);
  KILN_RETURN_IF_ERROR(CheckMemoryBudget(
      "the compiled program", arena_bytes + outputs, budget, largest));
  return arena_bytes;
}

class JitProgram : public Program {
 public:
  using Clock = std::chrono::steady_clock;

  // With `checks` (one per kernel), runs check numerics, and with
  // `profile`, times the kernels; `code` must then export its kernels.
  JitProgram(std::shared_ptr<CompiledCode> code, LoweredProgram lowered,
             int64_t arena_bytes, std::vector<LeafSignature> leaves,
             int num_updates, int num_threads, std::vector<KernelCheck> checks,
             std::unique_ptr<KernelProfile> profile)
      : code_(std::move(code)),
        lowered_(std::move(lowered)),
        leaves_(std::move(leaves)),
        num_updates_(num_updates),
        checks_(std::move(checks)),
        profile_(std::move(profile)),
        part_finished_(num_threads),
        pool_(num_threads > 1 ? std::make_unique<ThreadPool>(num_threads)
                              : nullptr),
        queue_(KernelQueue::InfoOf(lowered_.loops)),
        arena_(new (std::align_val_t{kArenaAlignment}) char[std::max<int64_t>(
            arena_bytes, kArenaAlignment)]),
        table_(lowered_.bindings.size(), nullptr) {
    for (size_t b = 0; b < lowered_.bindings.size(); ++b) {
      const BufferBinding& binding = lowered_.bindings[b];
      switch (binding.source) {
        case BufferBinding::Source::kArena:
          table_[b] = arena_.get() + binding.arena_offset;
          break;
        case BufferBinding::Source::kConstant:
          table_[b] = static_cast<char*>(
              const_cast<void*>(binding.constant->raw_data()));
          break;
        case BufferBinding::Source::kFeed:
          feed_buffers_.push_back(static_cast<int>(b));
          break;
        case BufferBinding::Source::kLocal:
          break;
      }
    }
  }

  ~JitProgram() override {
    if (profile_ != nullptr && profile_->runs() > 0) {
      LogLine(profile_->ToString());
    }
  }

  int num_updates() const override { return num_updates_; }

 protected:
  absl::Status DoRun(FeedMap& feeds, std::vector<Tensor>& outputs) override {
    KILN_RETURN_IF_ERROR(ValidateFeeds(feeds, leaves_));
    for (int b : feed_buffers_) {
      auto fed = feeds.find(lowered_.bindings[b].feed_name);
      // A leaf that nothing computed needs may go unfed; its buffer is
      // then never read.
      table_[b] = fed == feeds.end()
                      ? nullptr
                      : static_cast<char*>(fed->second.raw_data());
    }
    if (outputs.size() != lowered_.outputs.size()) {
      outputs.resize(lowered_.outputs.size());
    }
    // Outputs that are fed leaves are copied before the run, which may
    // update them.
    for (size_t i = 0; i < lowered_.outputs.size(); ++i) {
      if (IsFeed(lowered_.outputs[i].buffer)) CopyOutput(i, outputs[i]);
    }
    if (checks_.empty()) {
      RunParts();
    } else {
      KILN_RETURN_IF_ERROR(RunCheckingNumerics());
    }
    for (size_t i = 0; i < lowered_.outputs.size(); ++i) {
      if (!IsFeed(lowered_.outputs[i].buffer)) CopyOutput(i, outputs[i]);
    }
    return absl::OkStatus();
  }

 private:
  struct AlignedDelete {
    void operator()(char* bytes) const {
      ::operator delete[](bytes, std::align_val_t{kArenaAlignment});
    }
  };

  bool IsFeed(int buffer) const {
    return lowered_.bindings[buffer].source == BufferBinding::Source::kFeed;
  }

  // Runs the code once: on this thread alone through the entry, or as one
  // part per thread of the pool, each taking kernels from the queue.
  void RunParts() {
    if (pool_ == nullptr && profile_ == nullptr) {
      code_->entry()(table_.data());
      return;
    }
    queue_.Reset();
    if (profile_ != nullptr) {
      std::fill(part_finished_.begin(), part_finished_.end(),
                Clock::time_point::min());
    }
    if (pool_ == nullptr) {
      RunOnePart(0);
    } else {
      pool_->Run(
          [](void* context, int part) {
            static_cast<JitProgram*>(context)->RunOnePart(part);
          },
          this);
    }
    if (profile_ != nullptr) {
      const Clock::time_point end = Clock::now();
      for (int part = 0; part < profile_->num_parts(); ++part) {
        if (part_finished_[part] == Clock::time_point::min()) continue;
        profile_->AddFinalWait(
            part, std::chrono::duration_cast<std::chrono::nanoseconds>(
                      end - part_finished_[part])
                      .count());
      }
      profile_->AddRun();
    }
  }

  // One part of a run of several parts, or of a profiled run.
  void RunOnePart(int part) {
    const int parts = pool_ == nullptr ? 1 : pool_->num_threads();
    queue_.RunAsPart(
        part, parts,
        [](void* context, int kernel, const RunPart& run_part) {
          auto* program = static_cast<JitProgram*>(context);
          program->code_->kernels()[kernel](program->table_.data(), &run_part);
        },
        this, profile_.get());
    if (profile_ != nullptr) part_finished_[part] = Clock::now();
  }

  std::optional<NonFiniteValue> FindNonFiniteIn(int buffer) const {
    const BufferInfo& info = lowered_.loops.buffers[buffer];
    return FindNonFinite(info.dtype, table_[buffer], info.num_elements);
  }

  // Every feed, then each kernel's result as soon as it is computed.
  absl::Status RunCheckingNumerics() {
    for (int b : feed_buffers_) {
      if (table_[b] == nullptr) continue;
      if (std::optional<NonFiniteValue> bad = FindNonFiniteIn(b)) {
        const LeafSignature& leaf = Leaf(lowered_.bindings[b].feed_name);
        return absl::InvalidArgumentError(absl::StrCat(
            "check_numerics: feed '", leaf.name, "' of ", OpName(leaf.op), " ",
            DTypeName(leaf.dtype), ShapeToString(leaf.shape), " holds ",
            DescribeNonFinite(*bad, leaf.shape)));
      }
    }
    const std::vector<Kernel>& kernels = lowered_.loops.kernels;
    for (size_t k = 0; k < kernels.size(); ++k) {
      // One part, the whole of each kernel, on this thread.
      const RunPart whole;
      code_->kernels()[k](table_.data(), &whole);
      const int written = kernels[k].buffers_written[0];
      if (std::optional<NonFiniteValue> bad = FindNonFiniteIn(written)) {
        const BufferInfo& info = lowered_.loops.buffers[written];
        return absl::InvalidArgumentError(absl::StrCat(
            "check_numerics: ", checks_[k].description, " produced ",
            DescribeNonFinite(*bad, checks_[k].shape), " of ",
            DTypeName(info.dtype), ShapeToString(checks_[k].shape),
            "; every input of it was finite"));
      }
    }
    return absl::OkStatus();
  }

  // The signature of the fed leaf called `name`; every fed buffer has one.
  const LeafSignature& Leaf(const std::string& name) const {
    for (const LeafSignature& leaf : leaves_) {
      if (leaf.name == name) return leaf;
    }
    KILN_UNREACHABLE("a fed buffer without a leaf");
  }

  void CopyOutput(size_t i, Tensor& tensor) {
    const LoweredOutput& output = lowered_.outputs[i];
    Reshape(tensor, output.dtype, output.shape);
    std::memcpy(tensor.raw_data(), table_[output.buffer], tensor.num_bytes());
  }

  std::shared_ptr<CompiledCode> code_;
  LoweredProgram lowered_;
  std::vector<LeafSignature> leaves_;
  int num_updates_;
  std::vector<KernelCheck> checks_;
  // Null unless the program is profiled; then, for each part, when it
  // finished the current run, or min() if it took no part in it.
  std::unique_ptr<KernelProfile> profile_;
  std::vector<Clock::time_point> part_finished_;
  // Null for a single thread.
  std::unique_ptr<ThreadPool> pool_;
  KernelQueue queue_;
  std::unique_ptr<char[], AlignedDelete> arena_;
  std::vector<char*> table_;
  std::vector<int> feed_buffers_;
};

}  // namespace

absl::StatusOr<DumpOptions> ParseDumpOptions(absl::string_view text) {
  DumpOptions options;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    if (item == "all") {
      options = {true, true, true, true};
    } else if (item == "graph") {
      options.graph = true;
    } else if (item == "kernels") {
      options.kernels = true;
    } else if (item == "ir") {
      options.ir = true;
    } else if (item == "asm") {
      options.assembly = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown dump '", item,
          "': expected a comma list of graph, kernels, ir, asm, or all"));
    }
  }
  return options;
}

absl::StatusOr<JitOptions> JitOptions::FromEnvironment() {
  JitOptions options;
  options.cache_dir = DefaultCacheDir();
  if (const char* dump = std::getenv("KILN_DUMP")) {
    absl::StatusOr<DumpOptions> parsed = ParseDumpOptions(dump);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("KILN_DUMP: ", parsed.status().message()));
    }
    options.dump = *parsed;
  }
  const char* dump_dir = std::getenv("KILN_DUMP_DIR");
  options.dump_dir = dump_dir != nullptr ? dump_dir : "kiln_dump";
  options.vector_bytes = HostVectorBytes();
  if (const char* exact = std::getenv("KILN_EXACT_MATH")) {
    options.exact_math = std::string(exact) == "1";
  }
  if (const char* profile = std::getenv("KILN_PROFILE")) {
    options.profile_kernels = std::string(profile) == "1";
  }
  if (const char* threads = std::getenv("KILN_THREADS")) {
    if (!absl::SimpleAtoi(threads, &options.num_threads) ||
        options.num_threads < 1 || options.num_threads > kMaxThreads) {
      return absl::InvalidArgumentError(
          absl::StrCat("KILN_THREADS: '", threads,
                       "' is not a thread count in "
                       "[1, ",
                       kMaxThreads, "]"));
    }
  }
  return options;
}

JitExecutor::JitExecutor() {
  absl::StatusOr<JitOptions> options = JitOptions::FromEnvironment();
  if (options.ok()) {
    options_ = *std::move(options);
  } else {
    options_status_ = options.status();
  }
}

JitExecutor::JitExecutor(JitOptions options) : options_(std::move(options)) {
  if (options_.vector_bytes == 0) options_.vector_bytes = HostVectorBytes();
}

absl::StatusOr<std::unique_ptr<Program>> JitExecutor::Compile(
    Graph& graph, const std::vector<Node>& outputs,
    const std::vector<ParameterUpdate>& updates) {
  KILN_RETURN_IF_ERROR(options_status_);
  if (options_.num_threads < 1 || options_.num_threads > kMaxThreads) {
    return absl::InvalidArgumentError(
        absl::StrCat("JitOptions::num_threads is ", options_.num_threads,
                     "; it must be in [1, ", kMaxThreads, "]"));
  }
  KILN_RETURN_IF_ERROR(ValidateOutputs(graph, outputs, updates));
  std::vector<LeafSignature> leaves = LeafSignatures(graph, outputs, updates);
  last_report_ = CompileReport();
  const int program_number = programs_compiled_++;

  // The passes run on a copy: the caller's graph stays as it was built.
  std::vector<Node> roots = outputs;
  for (const ParameterUpdate& update : updates) {
    roots.push_back(update.value);
    roots.push_back(update.parameter);
  }
  Graph copy;
  const std::vector<Node> copied = CopySubgraph(roots, copy);
  KILN_RETURN_IF_ERROR(copy.status());
  for (const Node& node : copied) copy.AddOutput(node);

  std::string graph_dump, given_dot;
  if (options_.dump.graph) {
    absl::StrAppend(&graph_dump, "# as given\n", GraphToText(copy));
    given_dot = GraphToDot(copy);
  }
  RunPasses(copy, [&](absl::string_view pass, int round, Graph& changed) {
    if (options_.dump.graph) {
      absl::StrAppend(&graph_dump, "\n# after ", pass, " (round ", round, ")\n",
                      GraphToText(changed));
    }
  });
  KILN_RETURN_IF_ERROR(copy.status());

  std::vector<Node> copied_outputs;
  std::vector<ParameterUpdate> copied_updates;
  for (size_t i = 0; i < outputs.size(); ++i) {
    copied_outputs.push_back(copy.node(copied[i].id()));
  }
  for (size_t u = 0; u < updates.size(); ++u) {
    const size_t at = outputs.size() + 2 * u;
    copied_updates.push_back(
        {copy.node(copied[at + 1].id()), copy.node(copied[at].id())});
  }

  const FusionPlan plan = PlanFusion(copy, copied_outputs, copied_updates);
  KILN_ASSIGN_OR_RETURN(
      LoweredProgram lowered,
      LowerToLoops(copy, copied_outputs, plan,
                   {.vector_bytes = options_.vector_bytes,
                    .vector_math_library = !options_.exact_math,
                    .skip_input_zeros = options_.skip_input_zeros}));

  // The arena: every buffer that is neither fed nor constant.
  std::vector<int> arena_buffers;
  std::vector<BufferLifetime> lifetimes;
  for (size_t b = 0; b < lowered.bindings.size(); ++b) {
    const BufferBinding& binding = lowered.bindings[b];
    if (binding.source != BufferBinding::Source::kArena) continue;
    arena_buffers.push_back(static_cast<int>(b));
    lifetimes.push_back(
        {lowered.loops.buffers[b].num_elements *
             static_cast<int64_t>(DTypeSize(lowered.loops.buffers[b].dtype)),
         binding.first_kernel,
         std::max(binding.first_kernel, binding.last_kernel)});
  }
  KILN_ASSIGN_OR_RETURN(const int64_t budget,
                        ResolveMemoryBudget(options_.memory_budget_bytes));
  std::vector<int64_t> offsets;
  KILN_ASSIGN_OR_RETURN(const int64_t arena_bytes,
                        PlanArenaWithinBudget(lowered, arena_buffers, lifetimes,
                                              budget, offsets));
  for (size_t i = 0; i < arena_buffers.size(); ++i) {
    lowered.bindings[arena_buffers[i]].arena_offset = offsets[i];
  }
  ScheduleParts(lowered.bindings, lowered.loops);

  KILN_ASSIGN_OR_RETURN(Engine * engine, Engine::Get());
  // Runs of several threads, profiles and numeric checks call the kernels
  // one by one, so their code exports them: other code, cached apart.
  const bool export_kernels = options_.num_threads > 1 ||
                              options_.profile_kernels ||
                              options_.check_numerics;
  const std::string fingerprint = Fingerprint(
      absl::StrCat(FingerprintText(lowered.loops, engine->target_description()),
                   export_kernels ? "exported kernels\n" : ""));

  std::shared_ptr<CompiledCode> code;
  if (options_.use_memory_cache && !options_.dump.any()) {
    code = CodeCache::Get().Find(fingerprint);
    last_report_.code_from_memory_cache = code != nullptr;
  }
  if (code == nullptr) {
    CompileOptions compile_options;
    // Dumps need the IR, which a cached object does not have.
    compile_options.cache_dir =
        options_.dump.ir || options_.dump.assembly ? "" : options_.cache_dir;
    compile_options.keep_ir_before = compile_options.keep_ir_after =
        options_.dump.ir;
    compile_options.keep_assembly = options_.dump.assembly;
    compile_options.export_kernels = export_kernels;
    KILN_ASSIGN_OR_RETURN(
        std::unique_ptr<CompiledCode> compiled,
        engine->Compile(lowered.loops, fingerprint, compile_options));
    code = std::move(compiled);
    if (options_.use_memory_cache) CodeCache::Get().Insert(fingerprint, code);
  }

  last_report_.num_kernels = static_cast<int>(lowered.loops.kernels.size());
  for (const Kernel& kernel : lowered.loops.kernels) {
    last_report_.kernel_names.push_back(kernel.name);
    last_report_.kernel_chunks.push_back(
        kernel.split.extent > 0 ? kernel.split.chunks : 1);
  }
  for (size_t b = 0; b < lowered.loops.buffers.size(); ++b) {
    last_report_.buffer_names.push_back(lowered.loops.buffers[b].name);
    last_report_.buffer_elements.push_back(
        lowered.loops.buffers[b].num_elements);
  }
  last_report_.arena_bytes = arena_bytes;
  last_report_.code_from_disk_cache = code->loaded_from_disk_cache();
  last_report_.fingerprint = fingerprint;

  if (options_.dump.any()) {
    const std::filesystem::path dir =
        std::filesystem::path(options_.dump_dir) /
        absl::StrCat("program", program_number, "_", fingerprint.substr(0, 8));
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) {
      return absl::UnavailableError(
          absl::StrCat("cannot create dump directory ", dir.string(), ": ",
                       error.message()));
    }
    if (options_.dump.graph) {
      absl::StrAppend(&graph_dump, "\n# fusion plan\n",
                      FusionPlanToString(copy, plan));
      KILN_RETURN_IF_ERROR(WriteFile(dir / "graph.txt", graph_dump));
      KILN_RETURN_IF_ERROR(WriteFile(dir / "graph.dot", given_dot));
      KILN_RETURN_IF_ERROR(
          WriteFile(dir / "fused.dot", FusedGraphToDot(copy, plan)));
    }
    if (options_.dump.kernels) {
      std::string text;
      for (size_t b = 0; b < lowered.loops.buffers.size(); ++b) {
        const BufferInfo& info = lowered.loops.buffers[b];
        const BufferBinding& binding = lowered.bindings[b];
        absl::StrAppend(&text, "b", b, ": ", DTypeName(info.dtype), "[",
                        info.num_elements, "] ", info.name);
        if (binding.source == BufferBinding::Source::kArena) {
          absl::StrAppend(&text, "  arena +", binding.arena_offset,
                          "  kernels ", binding.first_kernel, "..",
                          binding.last_kernel);
        }
        absl::StrAppend(&text, "\n");
      }
      absl::StrAppend(&text, "arena: ", arena_bytes, " bytes\n\n");
      for (const Kernel& kernel : lowered.loops.kernels) {
        absl::StrAppend(&text, KernelToString(kernel, lowered.loops.buffers),
                        "\n");
      }
      KILN_RETURN_IF_ERROR(WriteFile(dir / "kernels.txt", text));
    }
    if (options_.dump.ir) {
      KILN_RETURN_IF_ERROR(WriteFile(dir / "ir_before.ll", code->ir_before()));
      KILN_RETURN_IF_ERROR(WriteFile(dir / "ir_after.ll", code->ir_after()));
    }
    if (options_.dump.assembly) {
      KILN_RETURN_IF_ERROR(WriteFile(dir / "program.s", code->assembly()));
    }
  }

  std::vector<KernelCheck> checks;
  if (options_.check_numerics) checks = KernelChecks(copy, plan, lowered);
  std::unique_ptr<KernelProfile> profile;
  if (options_.profile_kernels && !options_.check_numerics) {
    profile = std::make_unique<KernelProfile>(last_report_.kernel_names,
                                              options_.num_threads);
  }
  return std::make_unique<JitProgram>(
      std::move(code), std::move(lowered), arena_bytes, std::move(leaves),
      static_cast<int>(updates.size()), options_.num_threads, std::move(checks),
      std::move(profile));
}

}  // namespace kiln::jit
