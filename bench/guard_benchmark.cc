// What Kiln's numeric safeguards cost on the chapter's training step (the
// 784-200-10 sigmoid MLP, batch 100, f64, with its SGD update), measured
// side by side in one binary so that the ratios survive a noisy machine:
//
//   BM_Step/<backend>                 the step alone;
//   BM_StepAndGuard/<backend>         the step, then the trainer's guard: a
//                                     scan of the loss and of every
//                                     parameter for NaN and infinity;
//   BM_StepCheckingNumerics/<backend> the step compiled with
//                                     check_numerics, which checks every
//                                     result after every kernel (node).
//
//   bazel run -c opt //bench:guard_benchmark
//
// The parameters are fed back at every step, so the values the scans read
// are those a real run holds in its caches.

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ad/executor.h"
#include "ad/interpreter.h"
#include "benchmark/benchmark.h"
#include "jit/jit_executor.h"
#include "models/mlp.h"
#include "ops/base/check.h"
#include "ops/numerics.h"

namespace kiln {
namespace {

constexpr int64_t kBatch = 100;

MlpSpec ChapterSpec() {
  MlpSpec spec;
  spec.hidden = {{200, Activation::kSigmoid}};
  return spec;
}

Tensor Uniform(std::mt19937_64& rng, Shape shape, double low, double high) {
  std::uniform_real_distribution<double> uniform(low, high);
  Tensor tensor(kF64, std::move(shape));
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    tensor.Set(i, uniform(rng));
  }
  return tensor;
}

FeedMap Feeds(const MlpSpec& spec) {
  std::mt19937_64 rng(3);
  FeedMap feeds;
  for (const ParameterInfo& info : MlpParameters(spec)) {
    feeds[info.name] = Uniform(rng, info.shape, -0.5, 0.5);
  }
  feeds["x"] = Uniform(rng, {kBatch, spec.inputs}, 0.0, 1.0);
  Tensor labels(kF64, {kBatch, spec.outputs});
  for (int64_t row = 0; row < kBatch; ++row) {
    labels.Set(row * spec.outputs + row % spec.outputs, 1.0);
  }
  feeds["y"] = std::move(labels);
  return feeds;
}

std::unique_ptr<Executor> MakeExecutor(const std::string& backend,
                                       bool check_numerics) {
  if (backend == "interp") {
    return std::make_unique<Interpreter>(
        InterpreterOptions{.check_numerics = check_numerics});
  }
  absl::StatusOr<jit::JitOptions> options = jit::JitOptions::FromEnvironment();
  KILN_CHECK(options.ok()) << options.status();
  options->check_numerics = check_numerics;
  return std::make_unique<jit::JitExecutor>(*options);
}

// The chapter's step on `backend`, and what each iteration does after it.
void RunSteps(benchmark::State& state, const std::string& backend,
              bool check_numerics, bool guard) {
  const MlpSpec spec = ChapterSpec();
  absl::StatusOr<std::unique_ptr<Mlp>> mlp = Mlp::Build(spec, kBatch, kF64);
  KILN_CHECK(mlp.ok()) << mlp.status();
  // A learning rate too small to move the weights far from their start, so
  // that every iteration does the same work.
  const std::vector<Node> updated = (*mlp)->AddSgdStep({.learning_rate = 1e-6});
  std::vector<ParameterUpdate> updates;
  for (size_t i = 0; i < updated.size(); ++i) {
    updates.push_back({(*mlp)->parameters()[i], updated[i]});
  }
  std::unique_ptr<Executor> executor = MakeExecutor(backend, check_numerics);
  absl::StatusOr<std::unique_ptr<Program>> program = executor->Compile(
      (*mlp)->graph(), {(*mlp)->loss(), (*mlp)->accuracy()}, updates);
  KILN_CHECK(program.ok()) << program.status();

  FeedMap feeds = Feeds(spec);
  const std::vector<ParameterInfo> parameters = MlpParameters(spec);
  std::vector<Tensor> outputs;
  for (auto _ : state) {
    KILN_CHECK((*program)->Run(feeds, outputs).ok());
    if (guard) {
      bool finite = !FindNonFinite(outputs[0]).has_value();
      for (const ParameterInfo& info : parameters) {
        finite = finite && !FindNonFinite(feeds.at(info.name)).has_value();
      }
      KILN_CHECK(finite);
    }
    benchmark::DoNotOptimize(outputs.data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_Step(benchmark::State& state, std::string backend) {
  RunSteps(state, backend, /*check_numerics=*/false, /*guard=*/false);
}

void BM_StepAndGuard(benchmark::State& state, std::string backend) {
  RunSteps(state, backend, /*check_numerics=*/false, /*guard=*/true);
}

void BM_StepCheckingNumerics(benchmark::State& state, std::string backend) {
  RunSteps(state, backend, /*check_numerics=*/true, /*guard=*/false);
}

void RegisterAll() {
  for (const std::string backend : {"jit", "interp"}) {
    for (auto [name, function] :
         {std::pair{"BM_Step", &BM_Step},
          std::pair{"BM_StepAndGuard", &BM_StepAndGuard},
          std::pair{"BM_StepCheckingNumerics", &BM_StepCheckingNumerics}}) {
      benchmark::RegisterBenchmark(absl::StrCat(name, "/", backend).c_str(),
                                   function, backend)
          ->Unit(benchmark::kMicrosecond);
    }
  }
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
