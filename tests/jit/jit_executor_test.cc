// The JIT executor's contract beyond its numbers: caches, dumps, feed
// errors and parameter updates, as users and tools see them.

#include "jit/jit_executor.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ad/builder.h"
#include "ad/executor.h"
#include "ad/interpreter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fresh_directory.h"

namespace kiln::jit {
namespace {

using ::kiln::testing::FreshDirectory;
using ::testing::HasSubstr;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// y = tanh(x·w + b), a small graph with a product, a broadcast and an
// activation.
struct SmallModel {
  Graph graph;
  Node x, w, b, y;

  SmallModel() {
    x = graph.Input("x", {4, 3}, DType::kF64);
    w = graph.Parameter("w", {3, 5}, DType::kF64);
    b = graph.Parameter("b", {5}, DType::kF64);
    y = Tanh(MatMul(x, w) + b);
  }

  FeedMap Feeds() const {
    FeedMap feeds;
    feeds["x"] = Tensor::Full(DType::kF64, {4, 3}, 0.5);
    feeds["w"] = Tensor::Full(DType::kF64, {3, 5}, -0.25);
    feeds["b"] = Tensor::Full(DType::kF64, {5}, 0.125);
    return feeds;
  }
};

JitOptions Options(const std::string& cache_dir, bool memory_cache) {
  JitOptions options;
  options.cache_dir = cache_dir;
  options.use_memory_cache = memory_cache;
  return options;
}

// Code is shared while some program still uses it, and unloaded after.
TEST(JitExecutorTest, SecondCompileInProcessSharesLiveCode) {
  SmallModel model;
  JitExecutor jit(Options("", true));
  absl::StatusOr<std::unique_ptr<Program>> first =
      jit.Compile(model.graph, {model.y});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(jit.last_report().code_from_memory_cache);
  absl::StatusOr<std::unique_ptr<Program>> again =
      jit.Compile(model.graph, {model.y});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(jit.last_report().code_from_memory_cache);

  first->reset();
  again->reset();
  ASSERT_TRUE(jit.Compile(model.graph, {model.y}).ok());
  EXPECT_FALSE(jit.last_report().code_from_memory_cache);
}

TEST(JitExecutorTest, SecondExecutorLoadsFromDiskCache) {
  const std::string cache = FreshDirectory("disk_cache").string();
  SmallModel model;
  JitExecutor first(Options(cache, false));
  absl::StatusOr<std::unique_ptr<Program>> compiled =
      first.Compile(model.graph, {model.y});
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_FALSE(first.last_report().code_from_disk_cache);
  EXPECT_TRUE(
      std::filesystem::exists(std::filesystem::path(cache) /
                              (first.last_report().fingerprint + ".kjit")))
      << "cache entries are named by fingerprint";

  JitExecutor second(Options(cache, false));
  absl::StatusOr<std::unique_ptr<Program>> loaded =
      second.Compile(model.graph, {model.y});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(second.last_report().code_from_disk_cache);
  EXPECT_EQ(second.last_report().fingerprint, first.last_report().fingerprint);

  absl::StatusOr<std::vector<Tensor>> a = (*compiled)->Run(model.Feeds());
  absl::StatusOr<std::vector<Tensor>> b = (*loaded)->Run(model.Feeds());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)[0].ToDoubles(), (*b)[0].ToDoubles());
}

TEST(JitExecutorTest, DifferentShapesGetDifferentFingerprints) {
  SmallModel model;
  JitExecutor jit(Options("", false));
  ASSERT_TRUE(jit.Compile(model.graph, {model.y}).ok());
  const std::string first = jit.last_report().fingerprint;
  Graph other;
  Node x = other.Input("x", {6, 3}, DType::kF64);
  Node w = other.Parameter("w", {3, 5}, DType::kF64);
  Node b = other.Parameter("b", {5}, DType::kF64);
  ASSERT_TRUE(jit.Compile(other, {Tanh(MatMul(x, w) + b)}).ok());
  EXPECT_NE(jit.last_report().fingerprint, first);
}

TEST(JitExecutorTest, DumpsEveryStage) {
  const std::filesystem::path dir = FreshDirectory("dumps");
  SmallModel model;
  JitOptions options = Options("", false);
  absl::StatusOr<DumpOptions> dump = ParseDumpOptions("all");
  ASSERT_TRUE(dump.ok());
  options.dump = *dump;
  options.dump_dir = dir.string();
  JitExecutor jit(options);
  ASSERT_TRUE(jit.Compile(model.graph, {model.y}).ok());

  std::vector<std::filesystem::path> programs;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    programs.push_back(entry.path());
  }
  ASSERT_EQ(programs.size(), 1u);
  const std::filesystem::path program = programs[0];
  EXPECT_NE(ReadFile(program / "graph.txt").find("# fusion plan"),
            std::string::npos);
  EXPECT_NE(ReadFile(program / "graph.txt").find("matmul"), std::string::npos);
  EXPECT_NE(ReadFile(program / "kernels.txt").find("kernel k0_matmul_tanh"),
            std::string::npos)
      << ReadFile(program / "kernels.txt");
  EXPECT_NE(ReadFile(program / "ir_before.ll").find("define"),
            std::string::npos);
  EXPECT_NE(ReadFile(program / "ir_after.ll").find("define"),
            std::string::npos);
  EXPECT_NE(ReadFile(program / "program.s").find("_entry"), std::string::npos);
  EXPECT_NE(ReadFile(program / "graph.dot").find("digraph kiln"),
            std::string::npos);
  // The fused graph boxes the one kernel's nodes under its name.
  const std::string fused = ReadFile(program / "fused.dot");
  EXPECT_NE(fused.find("subgraph cluster_0 {\n"
                       "    label=\"k0: matmul \u2192 tanh\""),
            std::string::npos)
      << fused;
}

TEST(JitExecutorTest, RejectsAnUnknownDump) {
  absl::StatusOr<DumpOptions> dump = ParseDumpOptions("graph,assembly");
  ASSERT_FALSE(dump.ok());
  EXPECT_EQ(dump.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(dump.status().message().find("'assembly'"), std::string::npos)
      << dump.status();
}

// Bad feeds get the interpreter's statuses, word for word.
TEST(JitExecutorTest, RejectsBadFeedsLikeTheInterpreter) {
  SmallModel model;
  JitExecutor jit(Options("", true));
  Interpreter interpreter;
  absl::StatusOr<std::unique_ptr<Program>> compiled =
      jit.Compile(model.graph, {model.y});
  absl::StatusOr<std::unique_ptr<Program>> interpreted =
      interpreter.Compile(model.graph, {model.y});
  ASSERT_TRUE(compiled.ok() && interpreted.ok());

  std::vector<FeedMap> bad(4, model.Feeds());
  bad[0]["z"] = Tensor::Full(DType::kF64, {1}, 0);     // unknown name
  bad[1].erase("w");                                   // missing feed
  bad[2]["x"] = Tensor::Full(DType::kF64, {3, 4}, 0);  // wrong shape
  bad[3]["b"] = Tensor::Full(DType::kF32, {5}, 0);     // wrong dtype
  for (const FeedMap& feeds : bad) {
    absl::StatusOr<std::vector<Tensor>> a = (*compiled)->Run(feeds);
    absl::StatusOr<std::vector<Tensor>> b = (*interpreted)->Run(feeds);
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.status(), b.status());
  }
}

// Updates see the values from before the run, even when one parameter's
// new value is another parameter, and outputs that are parameters show
// their old values.
TEST(JitExecutorTest, UpdatesReadValuesFromBeforeTheRun) {
  Graph graph;
  Node a = graph.Parameter("a", {3}, DType::kF64);
  Node b = graph.Parameter("b", {3}, DType::kF64);
  const std::vector<ParameterUpdate> swap = {{a, b}, {b, a + 1.0}};
  for (bool use_jit : {false, true}) {
    std::unique_ptr<Executor> executor;
    if (use_jit) {
      executor = std::make_unique<JitExecutor>(Options("", false));
    } else {
      executor = std::make_unique<Interpreter>();
    }
    absl::StatusOr<std::unique_ptr<Program>> program =
        executor->Compile(graph, {a}, swap);
    ASSERT_TRUE(program.ok()) << program.status();
    FeedMap feeds;
    feeds["a"] = Tensor::FromValues<double>({3}, {1, 2, 3});
    feeds["b"] = Tensor::FromValues<double>({3}, {10, 20, 30});
    std::vector<Tensor> outputs;
    ASSERT_TRUE((*program)->Run(feeds, outputs).ok());
    EXPECT_EQ(outputs[0].ToDoubles(), (std::vector<double>{1, 2, 3}))
        << executor->name();
    EXPECT_EQ(feeds["a"].ToDoubles(), (std::vector<double>{10, 20, 30}))
        << executor->name();
    EXPECT_EQ(feeds["b"].ToDoubles(), (std::vector<double>{2, 3, 4}))
        << executor->name();
  }
}

// ---- Damaged disk cache ----

void WriteBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Three ways an entry goes bad on disk: cut short by a full disk, a bit
// flipped in the stored code, and an entry of another format version.
std::string Damaged(const std::string& good, int way) {
  std::string bad = good;
  switch (way) {
    case 0:
      bad.resize(good.size() - 1);
      break;
    case 1:
      bad[good.size() - 64] ^= 0x01;
      break;
    default:
      bad[8] ^= 0x40;  // the format version's low byte
      break;
  }
  return bad;
}

TEST(JitExecutorTest, DamagedCacheEntryIsRebuiltAndResultsStayRight) {
  for (int way = 0; way < 3; ++way) {
    SCOPED_TRACE(absl::StrCat("damage ", way));
    const std::filesystem::path cache =
        FreshDirectory(absl::StrCat("damaged_cache_", way));
    SmallModel model;
    JitExecutor first(Options(cache.string(), false));
    absl::StatusOr<std::unique_ptr<Program>> good_program =
        first.Compile(model.graph, {model.y});
    ASSERT_TRUE(good_program.ok()) << good_program.status();
    absl::StatusOr<std::vector<Tensor>> expected =
        (*good_program)->Run(model.Feeds());
    ASSERT_TRUE(expected.ok()) << expected.status();
    const std::filesystem::path entry =
        cache / (first.last_report().fingerprint + ".kjit");
    const std::string good = ReadFile(entry);
    ASSERT_FALSE(good.empty());
    WriteBytes(entry, Damaged(good, way));

    JitExecutor second(Options(cache.string(), false));
    absl::StatusOr<std::unique_ptr<Program>> rebuilt =
        second.Compile(model.graph, {model.y});
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
    EXPECT_FALSE(second.last_report().code_from_disk_cache);
    absl::StatusOr<std::vector<Tensor>> values = (*rebuilt)->Run(model.Feeds());
    ASSERT_TRUE(values.ok()) << values.status();
    EXPECT_EQ((*values)[0].ToDoubles(), (*expected)[0].ToDoubles());
    EXPECT_EQ(ReadFile(entry), good) << "the entry is rewritten whole";

    JitExecutor third(Options(cache.string(), false));
    ASSERT_TRUE(third.Compile(model.graph, {model.y}).ok());
    EXPECT_TRUE(third.last_report().code_from_disk_cache);
  }
}

// ---- Memory budget ----

TEST(JitExecutorTest, ProgramAboveTheMemoryBudgetIsRefusedWithItsFigure) {
  Graph graph;
  Node x = graph.Input("x", {512, 512}, DType::kF64);
  Node w = graph.Parameter("w", {512, 512}, DType::kF64);
  Node y = Tanh(MatMul(x, w));
  JitOptions options = Options("", false);
  options.memory_budget_bytes = 1 << 20;
  JitExecutor jit(options);
  absl::StatusOr<std::unique_ptr<Program>> program = jit.Compile(graph, {y});
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().code(), absl::StatusCode::kResourceExhausted);
  // The arena holds the 2 MiB product; the output's tensor is as large.
  EXPECT_THAT(std::string(program.status().message()),
              HasSubstr("needs 4.0 MiB (4194304 bytes)"));
  EXPECT_THAT(std::string(program.status().message()),
              HasSubstr("budget of 1.0 MiB"));

  options.memory_budget_bytes = 8 << 20;
  JitExecutor roomier(options);
  EXPECT_TRUE(roomier.Compile(graph, {y}).ok());
}

TEST(JitExecutorTest, HugeValidShapeIsRefusedBeforeCodeIsGenerated) {
  Graph graph;
  const int64_t side = int64_t{1} << 20;
  Node a = graph.Fill(1.0, {side, 1}, DType::kF32);
  Node b = graph.Input("b", {1, side}, DType::kF32);
  Node y = Exp(MatMul(a, b));  // 2^40 elements: 4 TiB
  ASSERT_TRUE(graph.status().ok()) << graph.status();
  JitExecutor jit(Options("", false));
  absl::StatusOr<std::unique_ptr<Program>> program = jit.Compile(graph, {y});
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(program.status().message()), HasSubstr("TiB"));
}

// ---- Numeric checks ----

TEST(JitExecutorTest, CheckNumericsNamesTheKernelAndTheNodesLine) {
  Graph graph;
  Node x = graph.Input("x", {4, 3}, DType::kF64);
  Node w = graph.Parameter("w", {3, 2}, DType::kF64);
  const int line = __LINE__ + 1;
  Node logs = Log(MatMul(x, w));
  Node y = SumAll(logs);
  JitOptions options = Options("", false);
  options.check_numerics = true;
  JitExecutor jit(options);
  absl::StatusOr<std::unique_ptr<Program>> program = jit.Compile(graph, {y});
  ASSERT_TRUE(program.ok()) << program.status();

  FeedMap feeds;
  feeds["x"] = Tensor::Full(DType::kF64, {4, 3}, 1.0);
  feeds["w"] = Tensor::FromValues<double>({3, 2}, {1, 1, 1, 1, 1, -5});
  absl::StatusOr<std::vector<Tensor>> values = (*program)->Run(feeds);
  ASSERT_FALSE(values.ok());
  EXPECT_EQ(values.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(values.status().message());
  EXPECT_THAT(message, HasSubstr("check_numerics: kernel k0_matmul_log"));
  EXPECT_THAT(message, HasSubstr("computing log (at "));
  EXPECT_THAT(message, HasSubstr(absl::StrCat("jit_executor_test.cc:", line)));
  // log(1 + 1 - 5) at row 0, column 1.
  EXPECT_THAT(message, HasSubstr("nan at element 1 [0,1] of f64[4,2]"));

  // Finite all through, the same program runs, and agrees with the
  // unchecked one.
  feeds["w"] = Tensor::Full(DType::kF64, {3, 2}, 0.5);
  absl::StatusOr<std::vector<Tensor>> checked = (*program)->Run(feeds);
  ASSERT_TRUE(checked.ok()) << checked.status();
  JitExecutor unchecked(Options("", false));
  absl::StatusOr<std::vector<Tensor>> plain =
      Evaluate(unchecked, graph, {y}, feeds);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*checked)[0].ToDoubles(), (*plain)[0].ToDoubles());
}

// A product whose sums are halved (ops/product_sums.h) is checked after
// each of its two kernels: an overflow in one half's sums is named there,
// though the tanh after it would hide it.
TEST(JitExecutorTest, CheckNumericsNamesTheHalvedSumsOfAProduct) {
  Graph graph;
  Node x = graph.Input("x", {2, 512}, DType::kF32);
  Node w = graph.Parameter("w", {512, 3}, DType::kF32);
  const int line = __LINE__ + 1;
  Node product = MatMul(x, w);
  Node y = SumAll(Tanh(product));
  JitOptions options = Options("", false);
  options.check_numerics = true;
  JitExecutor jit(options);
  FeedMap feeds;
  feeds["x"] = Tensor::Full(DType::kF32, {2, 512}, 1.0);
  feeds["w"] = Tensor::Full(DType::kF32, {512, 3}, 1.0);
  // Two terms of 3e38 in the second half, [256, 512), of row 1's sums.
  feeds["x"].Set(512 + 300, 3e38);
  feeds["x"].Set(512 + 301, 3e38);
  absl::StatusOr<std::vector<Tensor>> values = Evaluate(jit, graph, {y}, feeds);
  ASSERT_FALSE(values.ok());
  const std::string message(values.status().message());
  EXPECT_THAT(message, HasSubstr("check_numerics: kernel k0_matmul_halves, "
                                 "computing the halved sums of matmul (at "));
  EXPECT_THAT(message, HasSubstr(absl::StrCat("jit_executor_test.cc:", line)));
  // The halved sums are [half, row, column]: the second half's row 1.
  EXPECT_THAT(message, HasSubstr("inf at element 9 [1,1,0] of f32[2,2,3]"));
}

TEST(JitExecutorTest, CheckNumericsNamesABadFeed) {
  SmallModel model;
  JitOptions options = Options("", false);
  options.check_numerics = true;
  JitExecutor jit(options);
  FeedMap feeds = model.Feeds();
  feeds["b"].Set(3, std::numeric_limits<double>::infinity());
  absl::StatusOr<std::vector<Tensor>> values =
      Evaluate(jit, model.graph, {model.y}, feeds);
  ASSERT_FALSE(values.ok());
  EXPECT_THAT(std::string(values.status().message()),
              HasSubstr("feed 'b' of parameter f64[5] holds inf at element "
                        "3 [3]"));
}

TEST(JitExecutorTest, NumericsAreNotCheckedByDefault) {
  SmallModel model;
  JitExecutor jit(Options("", false));
  FeedMap feeds = model.Feeds();
  feeds["b"].Set(3, std::numeric_limits<double>::quiet_NaN());
  absl::StatusOr<std::vector<Tensor>> values =
      Evaluate(jit, model.graph, {model.y}, feeds);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_TRUE(std::isnan((*values)[0].At(3)));
}

}  // namespace
}  // namespace kiln::jit
