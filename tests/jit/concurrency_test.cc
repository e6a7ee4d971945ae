// Four threads compile and run four different programs, 100 times each, at
// once: every result must be the one a single thread gets. The threads
// share the engine, the in-memory code cache and one disk cache directory,
// and each thread runs the programs in its own rotation, so that the same
// program is compiled, loaded from disk and found in memory on several
// threads at the same time. Run under --config=tsan, this is the check that
// the JIT has no data races.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ad/autodiff.h"
#include "ad/builder.h"
#include "ad/executor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jit/jit_executor.h"
#include "tests/fresh_directory.h"

namespace kiln::jit {
namespace {

using ::kiln::testing::FreshDirectory;

constexpr int kThreads = 4;
constexpr int kRunsPerProgram = 100;

// One program: a graph, what to compute from it, and how to feed it.
struct TestProgram {
  std::unique_ptr<Graph> graph = std::make_unique<Graph>();
  std::vector<Node> outputs;
  std::vector<ParameterUpdate> updates;
  std::function<FeedMap()> feeds;
};

Tensor Ramp(DType dtype, Shape shape, double scale) {
  Tensor tensor(dtype, shape);
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    tensor.Set(i, scale * (((i * 7) % 13) - 6));
  }
  return tensor;
}

// A training step of a small MLP: products, a broadcast bias, a sigmoid,
// the fused softmax cross-entropy and in-place parameter updates.
TestProgram TrainingStep() {
  TestProgram p;
  Graph& g = *p.graph;
  Node x = g.Input("x", {8, 6}, kF64);
  Node y = g.Input("y", {8, 3}, kF64);
  Node w1 = g.Parameter("w1", {6, 5}, kF64);
  Node b1 = g.Parameter("b1", {5}, kF64);
  Node w2 = g.Parameter("w2", {5, 3}, kF64);
  Node loss = SoftmaxCrossEntropy(MatMul(Sigmoid(MatMul(x, w1) + b1), w2), y);
  Gradients grads = Grad(loss, {w1, b1, w2});
  p.outputs = {loss};
  for (Node w : {w1, b1, w2}) p.updates.push_back({w, w - grads[w] * 0.1});
  p.feeds = [] {
    Tensor labels(kF64, {8, 3});
    for (int64_t row = 0; row < 8; ++row) labels.Set(row * 3 + row % 3, 1.0);
    return FeedMap{{"x", Ramp(kF64, {8, 6}, 0.1)},
                   {"y", labels},
                   {"w1", Ramp(kF64, {6, 5}, 0.05)},
                   {"b1", Ramp(kF64, {5}, 0.01)},
                   {"w2", Ramp(kF64, {5, 3}, -0.07)}};
  };
  return p;
}

// Row-wise normalisations and a reduction in f32.
TestProgram Rowwise() {
  TestProgram p;
  Graph& g = *p.graph;
  Node x = g.Input("x", {7, 9}, kF32);
  p.outputs = {Softmax(x), Sum(LogSoftmax(x * 2.0), -1), Max(x, 0, true)};
  p.feeds = [] { return FeedMap{{"x", Ramp(kF32, {7, 9}, 0.3)}}; };
  return p;
}

// Broadcasts, comparisons and selection in f64.
TestProgram Selection() {
  TestProgram p;
  Graph& g = *p.graph;
  Node a = g.Input("a", {4, 1, 6}, kF64);
  Node b = g.Input("b", {5, 1}, kF64);
  Node mixed = Select(Greater(a, b), Tanh(a - b), Exp(b) * 0.5);
  p.outputs = {mixed, Mean(mixed, 1)};
  p.feeds = [] {
    return FeedMap{{"a", Ramp(kF64, {4, 1, 6}, 0.2)},
                   {"b", Ramp(kF64, {5, 1}, 0.15)}};
  };
  return p;
}

// A long elementwise chain and a transpose in f32.
TestProgram Elementwise() {
  TestProgram p;
  Graph& g = *p.graph;
  Node x = g.Input("x", {33, 17}, kF32);
  Node chain = Relu(Log(Square(x) + 1.0) - 0.25) / (Sigmoid(x) + 0.5);
  p.outputs = {Transpose(chain), SumAll(chain)};
  p.feeds = [] { return FeedMap{{"x", Ramp(kF32, {33, 17}, 0.125)}}; };
  return p;
}

// Compiles and runs `program` once with `options`: the outputs, then the
// updated parameters. An error becomes a message in `error`.
std::vector<std::vector<double>> CompileAndRun(const TestProgram& program,
                                               const JitOptions& options,
                                               std::string& error) {
  JitExecutor jit(options);
  absl::StatusOr<std::unique_ptr<Program>> compiled =
      jit.Compile(*program.graph, program.outputs, program.updates);
  if (!compiled.ok()) {
    error = compiled.status().ToString();
    return {};
  }
  FeedMap feeds = program.feeds();
  std::vector<Tensor> outputs;
  if (absl::Status ran = (*compiled)->Run(feeds, outputs); !ran.ok()) {
    error = ran.ToString();
    return {};
  }
  std::vector<std::vector<double>> values;
  for (const Tensor& output : outputs) values.push_back(output.ToDoubles());
  for (const ParameterUpdate& update : program.updates) {
    values.push_back(feeds.at(update.parameter.name()).ToDoubles());
  }
  return values;
}

// The three ways a compilation finds its code, in turn: in memory, in the
// disk cache, or generated afresh.
JitOptions OptionsFor(int run, const std::string& cache) {
  JitOptions options;
  options.use_memory_cache = run % 3 == 0;
  options.cache_dir = run % 3 == 2 ? "" : cache;
  return options;
}

// Each thread runs every program in turn, 25 times each: 100 runs of each
// program in all, 400 compilations.
TEST(JitConcurrencyTest, FourThreadsCompileAndRunFourProgramsAHundredTimes) {
  std::vector<TestProgram> programs;
  programs.push_back(TrainingStep());
  programs.push_back(Rowwise());
  programs.push_back(Selection());
  programs.push_back(Elementwise());
  for (const TestProgram& program : programs) {
    ASSERT_TRUE(program.graph->status().ok()) << program.graph->status();
  }
  const std::string cache = FreshDirectory("concurrency_cache").string();

  // What one thread alone computes, without any cache.
  std::vector<std::vector<std::vector<double>>> expected;
  for (const TestProgram& program : programs) {
    std::string error;
    expected.push_back(CompileAndRun(program, OptionsFor(2, ""), error));
    ASSERT_TRUE(error.empty()) << error;
  }

  // The graphs are shared: compiling only reads a graph, so several threads
  // may compile the same one at once.
  std::vector<std::vector<std::string>> failures(kThreads);
  std::vector<int> runs(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int run = 0; run < kRunsPerProgram; ++run) {
        const int which = (t + run) % kThreads;
        std::string error;
        std::vector<std::vector<double>> values =
            CompileAndRun(programs[which], OptionsFor(run, cache), error);
        ++runs[t];
        if (!error.empty() || values != expected[which]) {
          failures[t].push_back(
              absl::StrCat("thread ", t, " run ", run, " program ", which, ": ",
                           error.empty() ? "wrong values" : error));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  int total = 0;
  for (int t = 0; t < kThreads; ++t) {
    total += runs[t];
    EXPECT_THAT(failures[t], ::testing::IsEmpty());
  }
  EXPECT_EQ(total, kThreads * kRunsPerProgram);
  EXPECT_TRUE(std::filesystem::exists(cache)) << "the disk cache was used";
}

}  // namespace
}  // namespace kiln::jit
