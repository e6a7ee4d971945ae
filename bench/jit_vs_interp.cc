// Microbenchmarks of the JIT against the interpreter, side by side in one
// process, so that their ratio is measured under the same machine load.
//
//   BM_Op/<op>/<backend>                 each op alone at MNIST-sized shapes
//   BM_ElementwiseChain/<backend>        eight elementwise ops on 100×200
//   BM_MnistForward/<backend>/<dtype>    784-200-10 sigmoid MLP, batch 100:
//                                        loss and accuracy
//   BM_MnistTrainStep/<backend>/<dtype>  the whole SGD step, updates included
//   BM_CompileMnistStep/cold|warm        JIT compile time without and with
//                                        the on-disk object cache
//
// Items are output elements (ops, chain) or samples (MNIST). The step
// benchmarks also report ms_per_epoch: ten steps, the reference workload's
// epoch of 1000 images in batches of 100.
//
//   bazel run -c opt //bench:jit_vs_interp -- --benchmark_filter=Mnist

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ad/builder.h"
#include "ad/executor.h"
#include "ad/interpreter.h"
#include "benchmark/benchmark.h"
#include "jit/jit_executor.h"
#include "models/mlp.h"
#include "ops/base/check.h"

namespace kiln {
namespace {

constexpr int64_t kBatch = 100;
constexpr int64_t kImage = 784;
constexpr int64_t kHidden = 200;
constexpr int64_t kClasses = 10;

// A scratch directory for the object cache of one benchmark.
std::string ScratchDir(absl::string_view name) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      absl::StrCat("kiln_bench_", name, "_", ::getpid());
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::unique_ptr<Executor> MakeExecutor(absl::string_view backend) {
  if (backend == "interp") return std::make_unique<Interpreter>();
  jit::JitOptions options;
  options.cache_dir = "";  // compile times are measured separately
  return std::make_unique<jit::JitExecutor>(options);
}

Tensor Uniform(std::mt19937_64& rng, DType dtype, Shape shape, double low,
               double high) {
  std::uniform_real_distribution<double> uniform(low, high);
  Tensor tensor(dtype, std::move(shape));
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    tensor.Set(i, uniform(rng));
  }
  return tensor;
}

Tensor OneHotRows(std::mt19937_64& rng, DType dtype, int64_t rows,
                  int64_t classes) {
  Tensor tensor(dtype, {rows, classes});
  std::uniform_int_distribution<int64_t> column(0, classes - 1);
  for (int64_t r = 0; r < rows; ++r) tensor.Set(r * classes + column(rng), 1);
  return tensor;
}

// Feeds random values for every input and parameter of `graph`: labels
// for inputs named "labels", one-hot rows for "y", uniform values in
// [0.1, 1] (safe for log and division) otherwise.
FeedMap RandomFeeds(Graph& graph, std::mt19937_64& rng) {
  FeedMap feeds;
  for (const Node& leaf : graph.Leaves()) {
    if (leaf.name() == "labels") {
      Tensor labels(leaf.dtype(), leaf.shape());
      std::uniform_int_distribution<int64_t> label(0, kClasses - 1);
      for (int64_t i = 0; i < labels.num_elements(); ++i) {
        labels.Set(i, label(rng));
      }
      feeds[leaf.name()] = labels;
    } else if (leaf.name() == "y") {
      feeds[leaf.name()] =
          OneHotRows(rng, leaf.dtype(), leaf.shape()[0], leaf.shape()[1]);
    } else {
      feeds[leaf.name()] = Uniform(rng, leaf.dtype(), leaf.shape(), 0.1, 1.0);
    }
  }
  return feeds;
}

// Compiles `outputs` of `graph` and times runs on fixed feeds.
void RunGraph(benchmark::State& state, Executor& executor, Graph& graph,
              const std::vector<Node>& outputs, int64_t items_per_run) {
  absl::StatusOr<std::unique_ptr<Program>> program =
      executor.Compile(graph, outputs);
  if (!program.ok()) {
    state.SkipWithError(std::string(program.status().message()).c_str());
    return;
  }
  std::mt19937_64 rng(1);
  FeedMap feeds = RandomFeeds(graph, rng);
  std::vector<Tensor> values;
  for (auto _ : state) {
    absl::Status status = (*program)->Run(feeds, values);
    if (!status.ok()) {
      state.SkipWithError(std::string(status.message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(values.data());
  }
  state.SetItemsProcessed(state.iterations() * items_per_run);
}

// ---- BM_Op ----

struct OpCase {
  std::string name;
  // Builds the op on inputs of MNIST-sized shapes; returns its node.
  std::function<Node(Graph&)> build;
};

std::vector<OpCase> OpCases() {
  const DType f32 = DType::kF32;
  auto activations = [f32](Graph& g, absl::string_view name = "a") {
    return g.Input(std::string(name), {kBatch, kHidden}, f32);
  };
  auto unary = [&](std::string name, Node (*op)(Node, Location)) {
    return OpCase{name, [=](Graph& g) { return op(activations(g), {}); }};
  };
  auto binary = [&](std::string name, Node (*op)(Node, Node, Location)) {
    return OpCase{name, [=](Graph& g) {
                    return op(activations(g, "a"), activations(g, "b"), {});
                  }};
  };
  auto logits = [f32](Graph& g) {
    return g.Input("s", {kBatch, kClasses}, f32);
  };
  auto targets = [f32](Graph& g) {
    return g.Input("y", {kBatch, kClasses}, f32);
  };
  return {
      binary("add", &Add),
      binary("sub", &Sub),
      binary("mul", &Mul),
      binary("div", &Div),
      unary("neg", &Neg),
      unary("exp", &Exp),
      unary("log", &Log),
      unary("square", &Square),
      unary("sigmoid", &Sigmoid),
      unary("tanh", &Tanh),
      unary("relu", &Relu),
      {"leaky_relu", [=](Graph& g) { return LeakyRelu(activations(g)); }},
      binary("less", &Less),
      binary("greater_equal", &GreaterEqual),
      binary("equal", &Equal),
      {"select",
       [=](Graph& g) {
         return Select(activations(g, "c"), activations(g, "a"),
                       activations(g, "b"));
       }},
      {"transpose",
       [=](Graph& g) { return Transpose(g.Input("w", {kImage, kHidden}, f32)); }},
      {"reshape",
       [=](Graph& g) { return Reshape(activations(g), {kHidden, kBatch}); }},
      {"broadcast",
       [=](Graph& g) {
         return BroadcastTo(g.Input("bias", {kHidden}, f32), {kBatch, kHidden});
       }},
      {"one_hot",
       [=](Graph& g) {
         return OneHot(g.Input("labels", {kBatch}, f32), kClasses);
       }},
      {"matmul",
       [=](Graph& g) {
         return MatMul(g.Input("x", {kBatch, kImage}, f32),
                       g.Input("w", {kImage, kHidden}, f32));
       }},
      {"sum", [=](Graph& g) { return Sum(activations(g), 0); }},
      {"mean", [=](Graph& g) { return Mean(activations(g), 1); }},
      {"max", [=](Graph& g) { return Max(activations(g), 1); }},
      {"argmax", [=](Graph& g) { return Argmax(activations(g), 1); }},
      {"softmax", [=](Graph& g) { return Softmax(logits(g)); }},
      {"log_softmax", [=](Graph& g) { return LogSoftmax(logits(g)); }},
      {"half_mse",
       [=](Graph& g) { return HalfMse(logits(g), targets(g)); }},
      {"sigmoid_cross_entropy",
       [=](Graph& g) { return SigmoidCrossEntropy(logits(g), targets(g)); }},
      {"softmax_cross_entropy",
       [=](Graph& g) { return SoftmaxCrossEntropy(logits(g), targets(g)); }},
      {"accuracy",
       [=](Graph& g) { return Accuracy(logits(g), targets(g)); }},
  };
}

void BM_Op(benchmark::State& state, OpCase op, std::string backend) {
  Graph graph;
  Node output = op.build(graph);
  KILN_CHECK(graph.status().ok()) << graph.status();
  std::unique_ptr<Executor> executor = MakeExecutor(backend);
  RunGraph(state, *executor, graph, {output}, NumElements(output.shape()));
}

// ---- BM_ElementwiseChain ----

void BM_ElementwiseChain(benchmark::State& state, std::string backend) {
  Graph graph;
  Node a = graph.Input("a", {kBatch, kHidden}, DType::kF32);
  Node b = graph.Input("b", {kBatch, kHidden}, DType::kF32);
  // Eight ops, each reading the previous result: what a fused loop does
  // in one pass and the interpreter in eight.
  Node x = a * b;
  x = x + a;
  x = Sigmoid(x);
  x = x - b;
  x = Tanh(x);
  x = x * x;
  x = Relu(x - 0.25);
  std::unique_ptr<Executor> executor = MakeExecutor(backend);
  RunGraph(state, *executor, graph, {x}, kBatch * kHidden);
}

// ---- MNIST ----

MlpSpec MnistSpec() {
  MlpSpec spec;
  spec.hidden = {{kHidden, Activation::kSigmoid}};
  return spec;
}

FeedMap MnistFeeds(const MlpSpec& spec, DType dtype) {
  std::mt19937_64 rng(3);
  FeedMap feeds;
  for (const ParameterInfo& info : MlpParameters(spec)) {
    feeds[info.name] = Uniform(rng, dtype, info.shape, -0.5, 0.5);
  }
  feeds["x"] = Uniform(rng, dtype, {kBatch, kImage}, 0.0, 1.0);
  feeds["y"] = OneHotRows(rng, dtype, kBatch, kClasses);
  return feeds;
}

void BM_MnistForward(benchmark::State& state, std::string backend,
                     DType dtype) {
  const MlpSpec spec = MnistSpec();
  absl::StatusOr<std::unique_ptr<Mlp>> mlp = Mlp::Build(spec, kBatch, dtype);
  KILN_CHECK(mlp.ok()) << mlp.status();
  std::unique_ptr<Executor> executor = MakeExecutor(backend);
  absl::StatusOr<std::unique_ptr<Program>> program = executor->Compile(
      (*mlp)->graph(), {(*mlp)->loss(), (*mlp)->accuracy()});
  KILN_CHECK(program.ok()) << program.status();
  FeedMap feeds = MnistFeeds(spec, dtype);
  std::vector<Tensor> outputs;
  for (auto _ : state) {
    KILN_CHECK((*program)->Run(feeds, outputs).ok());
    benchmark::DoNotOptimize(outputs.data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

struct MnistStep {
  std::unique_ptr<Mlp> mlp;
  std::vector<ParameterUpdate> updates;
};

MnistStep BuildMnistStep(DType dtype) {
  MnistStep step;
  absl::StatusOr<std::unique_ptr<Mlp>> mlp =
      Mlp::Build(MnistSpec(), kBatch, dtype);
  KILN_CHECK(mlp.ok()) << mlp.status();
  step.mlp = *std::move(mlp);
  const std::vector<Node> updated =
      step.mlp->AddSgdStep({.learning_rate = 0.05});
  for (size_t i = 0; i < updated.size(); ++i) {
    step.updates.push_back({step.mlp->parameters()[i], updated[i]});
  }
  return step;
}

void BM_MnistTrainStep(benchmark::State& state, std::string backend,
                       DType dtype) {
  MnistStep step = BuildMnistStep(dtype);
  std::unique_ptr<Executor> executor = MakeExecutor(backend);
  absl::StatusOr<std::unique_ptr<Program>> program =
      executor->Compile(step.mlp->graph(),
                        {step.mlp->loss(), step.mlp->accuracy()}, step.updates);
  KILN_CHECK(program.ok()) << program.status();
  FeedMap feeds = MnistFeeds(MnistSpec(), dtype);
  std::vector<Tensor> outputs;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    KILN_CHECK((*program)->Run(feeds, outputs).ok());
    benchmark::DoNotOptimize(outputs.data());
  }
  const std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - start;
  state.SetItemsProcessed(state.iterations() * kBatch);
  // Wall milliseconds per step, times the ten steps of an epoch.
  state.counters["ms_per_epoch"] =
      10 * elapsed.count() / static_cast<double>(state.iterations());
}

void BM_CompileMnistStep(benchmark::State& state, bool warm) {
  MnistStep step = BuildMnistStep(DType::kF32);
  jit::JitOptions options;
  options.use_memory_cache = false;
  options.cache_dir = ScratchDir(warm ? "warm" : "cold");
  if (warm) {
    // Fill the disk cache once; every timed compile then loads it.
    jit::JitExecutor filler(options);
    KILN_CHECK(filler
                   .Compile(step.mlp->graph(),
                            {step.mlp->loss(), step.mlp->accuracy()},
                            step.updates)
                   .ok());
  } else {
    options.cache_dir = "";
  }
  jit::JitExecutor jit(options);
  for (auto _ : state) {
    absl::StatusOr<std::unique_ptr<Program>> program =
        jit.Compile(step.mlp->graph(),
                    {step.mlp->loss(), step.mlp->accuracy()}, step.updates);
    KILN_CHECK(program.ok()) << program.status();
    KILN_CHECK(jit.last_report().code_from_disk_cache == warm);
  }
  std::filesystem::remove_all(ScratchDir(warm ? "warm" : "cold"));
}

void RegisterAll() {
  const std::vector<std::string> backends = {"interp", "jit"};
  for (const OpCase& op : OpCases()) {
    for (const std::string& backend : backends) {
      benchmark::RegisterBenchmark(
          absl::StrCat("BM_Op/", op.name, "/", backend).c_str(), BM_Op, op,
          backend);
    }
  }
  for (const std::string& backend : backends) {
    benchmark::RegisterBenchmark(
        absl::StrCat("BM_ElementwiseChain/", backend).c_str(),
        BM_ElementwiseChain, backend);
  }
  for (DType dtype : {DType::kF32, DType::kF64}) {
    for (const std::string& backend : backends) {
      const std::string suffix =
          absl::StrCat("/", backend, "/", DTypeName(dtype));
      benchmark::RegisterBenchmark(
          absl::StrCat("BM_MnistForward", suffix).c_str(), BM_MnistForward,
          backend, dtype);
      benchmark::RegisterBenchmark(
          absl::StrCat("BM_MnistTrainStep", suffix).c_str(),
          BM_MnistTrainStep, backend, dtype)
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::RegisterBenchmark("BM_CompileMnistStep/cold",
                               BM_CompileMnistStep, false)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_CompileMnistStep/warm",
                               BM_CompileMnistStep, true)
      ->Unit(benchmark::kMillisecond);
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  kiln::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
