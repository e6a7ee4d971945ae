// The engine's failure modes: malformed modules, link errors, targets that
// lack a feature the code needs and damaged cache entries all come back as
// statuses, and damaged entries are rebuilt into good ones.

#include "jit/engine.h"


#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jit/loop_ir.h"
#include "jit/object_cache.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "tests/fresh_directory.h"

namespace kiln::jit {
namespace {

using ::kiln::testing::FreshDirectory;
using ::testing::HasSubstr;

Engine& HostEngine() {
  absl::StatusOr<Engine*> engine = Engine::Get();
  EXPECT_TRUE(engine.ok()) << engine.status();
  return **engine;
}

// out[i] = exp(in[i]) over `n` f32 elements, `lanes` at a time, then one at
// a time for the rest.
LoopProgram VectorExp(int64_t n, int lanes, bool vector_math_library) {
  LoopProgram program;
  program.vector_math_library = vector_math_library;
  program.buffers = {{DType::kF32, n, "in"}, {DType::kF32, n, "out"}};
  Kernel kernel{.name = "exp", .buffers_read = {0}, .buffers_written = {1}};
  const Var i = NewVar(kernel);
  const Var rest = NewVar(kernel);
  auto body = [](Var v, int width) {
    return std::vector<StmtPtr>{Store(
        1, Index(v),
        Unary(UnaryOp::kExp, Load(0, Index(v), ScalarKind::kF32, width)))};
  };
  const int64_t vector_end = n - n % lanes;
  kernel.body = Block({For(i, 0, vector_end, lanes, body(i, lanes)),
                       For(rest, vector_end, n, 1, body(rest, 1))});
  program.kernels.push_back(std::move(kernel));
  return program;
}

std::vector<float> Inputs(int64_t n) {
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = -4.0f + 0.01f * i;
  return x;
}

std::vector<float> RunExp(const CompiledCode& code,
                          const std::vector<float>& x) {
  std::vector<float> out(x.size(), -1);
  char* table[] = {reinterpret_cast<char*>(const_cast<float*>(x.data())),
                   reinterpret_cast<char*>(out.data())};
  code.entry()(table);
  return out;
}

// Exact comparison with the C library, which exact-math programs promise.
::testing::AssertionResult IsExactExp(const std::vector<float>& out,
                                      const std::vector<float>& x) {
  for (size_t i = 0; i < x.size(); ++i) {
    if (out[i] != std::exp(x[i])) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << out[i] << " != exp(" << x[i]
             << ") = " << std::exp(x[i]);
    }
  }
  return ::testing::AssertionSuccess();
}

// ---- Malformed modules and link errors ----

// An empty function `void <name>(ptr buffer_table, ptr part)` with the
// entry's signature, for a test to fill in.
llvm::Function* AddEntry(llvm::Module& module, const std::string& name) {
  llvm::LLVMContext& context = module.getContext();
  llvm::Type* pointer = llvm::PointerType::get(context, 0);
  auto* type = llvm::FunctionType::get(llvm::Type::getVoidTy(context),
                                       {pointer, pointer},
                                       /*isVarArg=*/false);
  return llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, name,
                                module);
}

TEST(EngineFailureTest, ModuleFailingTheVerifierIsInternalError) {
  llvm::LLVMContext context;
  llvm::Module module("unterminated", context);
  llvm::Function* entry = AddEntry(module, "kiln_unterminated_entry");
  // A block with no terminator: the verifier rejects it, and code
  // generation would crash on it.
  llvm::BasicBlock::Create(context, "body", entry);

  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      HostEngine().CompileModule(module, "kiln_unterminated_entry", {});
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(code.status().message(), HasSubstr("verifier"));
  EXPECT_THAT(code.status().message(), HasSubstr("terminator"));
}

TEST(EngineFailureTest, CallToAnUndefinedFunctionIsALinkErrorStatus) {
  llvm::LLVMContext context;
  llvm::Module module("undefined_call", context);
  llvm::Function* entry = AddEntry(module, "kiln_undefined_call_entry");
  llvm::FunctionCallee missing = module.getOrInsertFunction(
      "kiln_function_nothing_defines",
      llvm::FunctionType::get(llvm::Type::getVoidTy(context), false));
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(context, "body", entry));
  builder.CreateCall(missing);
  builder.CreateRetVoid();

  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      HostEngine().CompileModule(module, "kiln_undefined_call_entry", {});
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(code.status().message()),
              HasSubstr("kiln_function_nothing_defines"));
}

TEST(EngineFailureTest, ModuleWithoutItsEntryIsAStatus) {
  llvm::LLVMContext context;
  llvm::Module module("no_entry", context);
  llvm::Function* other = AddEntry(module, "kiln_some_other_function");
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(context, "body", other));
  builder.CreateRetVoid();

  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      HostEngine().CompileModule(module, "kiln_no_entry_entry", {});
  ASSERT_FALSE(code.ok());
  EXPECT_THAT(std::string(code.status().message()),
              HasSubstr("kiln_no_entry_entry"));
}

// ---- Targets ----

TEST(EngineTargetTest, UnknownCpuIsInvalidArgument) {
  absl::StatusOr<std::unique_ptr<Engine>> engine =
      Engine::Create("no-such-cpu");
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(engine.status().message(), HasSubstr("no-such-cpu"));
}

// x86-64 is the baseline every x86-64 host runs: exact-math code compiled
// for it is correct here.
TEST(EngineTargetTest, BaselineCpuCompilesCodeThatRunsHere) {
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create("x86-64");
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_THAT((*engine)->target_description(), HasSubstr("cpu x86-64"));
  const std::vector<float> x = Inputs(100);
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      (*engine)->Compile(VectorExp(100, 4, false), "baseline_exp", {});
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_TRUE(IsExactExp(RunExp(**code, x), x));
}

// A 64-byte vector of exp goes to libmvec's AVX-512 variant, which takes its
// argument in a zmm register: on a CPU without AVX-512 that is refused at
// compile time instead of dying of an illegal instruction at run time.
TEST(EngineTargetTest, AvxFiveTwelveVectorMathOnBaselineCpuIsRefused) {
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create("x86-64");
  ASSERT_TRUE(engine.ok()) << engine.status();
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      (*engine)->Compile(VectorExp(64, 16, true), "wide_exp", {});
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(code.status().message(), HasSubstr("_ZGVeN16v_expf"));
  EXPECT_THAT(code.status().message(), HasSubstr("avx512f"));
  EXPECT_THAT(code.status().message(), HasSubstr("x86-64"));
}

// The SSE variant needs nothing x86-64 lacks, so it compiles and runs.
TEST(EngineTargetTest, SseVectorMathOnBaselineCpuRuns) {
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create("x86-64");
  ASSERT_TRUE(engine.ok()) << engine.status();
  const std::vector<float> x = Inputs(64);
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      (*engine)->Compile(VectorExp(64, 4, true), "narrow_exp", {});
  ASSERT_TRUE(code.ok()) << code.status();
  const std::vector<float> out = RunExp(**code, x);
  for (size_t i = 0; i < x.size(); ++i) {
    // libmvec is accurate to a few units in the last place.
    EXPECT_NEAR(out[i], std::exp(x[i]), 4e-7 * std::exp(x[i])) << i;
  }
}

TEST(EngineTest, ExportedKernelsRunOneByOne) {
  const std::vector<float> x = Inputs(50);
  absl::StatusOr<std::unique_ptr<CompiledCode>> code = HostEngine().Compile(
      VectorExp(50, 8, false), "exported_exp", {.export_kernels = true});
  ASSERT_TRUE(code.ok()) << code.status();
  ASSERT_EQ((*code)->kernels().size(), 1u);
  std::vector<float> out(x.size(), -1);
  char* table[] = {reinterpret_cast<char*>(const_cast<float*>(x.data())),
                   reinterpret_cast<char*>(out.data())};
  const RunPart whole;
  (*code)->kernels()[0](table, &whole);
  EXPECT_TRUE(IsExactExp(out, x));
}

// ---- Damaged cache entries ----

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Each way an entry goes bad, applied to a good entry.
struct Damage {
  const char* name;
  std::string (*apply)(const std::string& good);
};

const Damage kDamages[] = {
    {"truncated",
     [](const std::string& good) { return good.substr(0, good.size() / 2); }},
    {"bit_flipped_in_the_code",
     [](const std::string& good) {
       std::string bad = good;
       bad[bad.size() - bad.size() / 3] ^= 0x04;
       return bad;
     }},
    {"written_by_another_format_version",
     [](const std::string& good) {
       std::string bad = good;
       bad[8] = static_cast<char>(kObjectCacheFormatVersion + 7);
       return bad;
     }},
    {"raw_object_of_an_older_release",
     [](const std::string& good) {
       // What releases before the entry format wrote: the bare object.
       return good.substr(
           good.find("\x7f"
                     "ELF"));
     }},
};

class DamagedEntryTest : public ::testing::TestWithParam<Damage> {};

TEST_P(DamagedEntryTest, IsIgnoredAndRebuilt) {
  const std::string cache_dir = FreshDirectory(GetParam().name).string();
  const std::string key = "damaged0123";
  const std::string path =
      absl::StrCat(cache_dir, "/", key, kObjectCacheSuffix);
  const std::vector<float> x = Inputs(300);
  const CompileOptions options{.cache_dir = cache_dir};
  {
    absl::StatusOr<std::unique_ptr<CompiledCode>> first =
        HostEngine().Compile(VectorExp(300, 8, false), key, options);
    ASSERT_TRUE(first.ok()) << first.status();
  }
  const std::string good = ReadBytes(path);
  ASSERT_GT(good.size(), kObjectCacheHeaderBytes);
  WriteBytes(path, GetParam().apply(good));

  // The damaged entry is not used; the code is compiled afresh and right.
  absl::StatusOr<std::unique_ptr<CompiledCode>> rebuilt =
      HostEngine().Compile(VectorExp(300, 8, false), key, options);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_FALSE((*rebuilt)->loaded_from_disk_cache());
  EXPECT_TRUE(IsExactExp(RunExp(**rebuilt, x), x));

  // The entry is rewritten whole, and the next compilation uses it.
  EXPECT_EQ(ReadBytes(path), good);
  absl::StatusOr<std::unique_ptr<CompiledCode>> reloaded =
      HostEngine().Compile(VectorExp(300, 8, false), key, options);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_TRUE((*reloaded)->loaded_from_disk_cache());
  EXPECT_TRUE(IsExactExp(RunExp(**reloaded, x), x));
}

INSTANTIATE_TEST_SUITE_P(EngineTest, DamagedEntryTest,
                         ::testing::ValuesIn(kDamages),
                         [](const ::testing::TestParamInfo<Damage>& info) {
                           return std::string(info.param.name);
                         });

// An entry another target compiled, copied under this target's name, is
// intact but foreign: it is refused and rebuilt for this target.
TEST(EngineTest, EntryOfAnotherTargetIsRebuilt) {
  const std::string cache_dir = FreshDirectory("foreign_entry").string();
  const std::string key = "foreign0123";
  const std::string path =
      absl::StrCat(cache_dir, "/", key, kObjectCacheSuffix);
  const std::vector<float> x = Inputs(40);
  absl::StatusOr<std::unique_ptr<Engine>> baseline = Engine::Create("x86-64");
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  ASSERT_TRUE(
      (*baseline)
          ->Compile(VectorExp(40, 4, false), key, {.cache_dir = cache_dir})
          .ok());
  const std::string foreign = ReadBytes(path);

  absl::StatusOr<std::unique_ptr<CompiledCode>> code = HostEngine().Compile(
      VectorExp(40, 4, false), key, {.cache_dir = cache_dir});
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_FALSE((*code)->loaded_from_disk_cache());
  EXPECT_TRUE(IsExactExp(RunExp(**code, x), x));
  EXPECT_NE(ReadBytes(path), foreign);
}

}  // namespace
}  // namespace kiln::jit
