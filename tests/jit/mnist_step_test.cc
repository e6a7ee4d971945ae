// The MNIST training step under the JIT: the same parameters as under the
// interpreter after many steps, a handful of fused kernels, and no weight
// gradient in memory.

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ad/executor.h"
#include "ad/interpreter.h"
#include "gtest/gtest.h"
#include "jit/jit_executor.h"
#include "models/mlp.h"
#include "tests/ad/test_util.h"

namespace kiln::jit {
namespace {

using ::kiln::testing::RandomOneHot;
using ::kiln::testing::RandomTensor;

struct Step {
  std::unique_ptr<Mlp> mlp;
  std::vector<ParameterUpdate> updates;
};

Step BuildStep(const MlpSpec& spec, DType dtype, SgdOptions sgd = {}) {
  Step step;
  absl::StatusOr<std::unique_ptr<Mlp>> mlp = Mlp::Build(spec, 100, dtype);
  EXPECT_TRUE(mlp.ok()) << mlp.status();
  step.mlp = *std::move(mlp);
  const std::vector<Node> updated = step.mlp->AddSgdStep(sgd);
  for (size_t i = 0; i < updated.size(); ++i) {
    step.updates.push_back({step.mlp->parameters()[i], updated[i]});
  }
  return step;
}

JitOptions TestOptions() {
  JitOptions options;
  options.use_memory_cache = false;
  return options;
}

FeedMap InitialFeeds(const MlpSpec& spec, DType dtype, std::mt19937_64& rng) {
  FeedMap feeds;
  for (const ParameterInfo& info : MlpParameters(spec)) {
    feeds[info.name] = RandomTensor(rng, dtype, info.shape, -0.1, 0.1);
  }
  return feeds;
}

// Runs `steps` steps on fresh random batches with both executors, and
// checks the parameters and outputs agree within `tolerance`, relative to
// each tensor's largest magnitude.
void ExpectSameTraining(const MlpSpec& spec, DType dtype, SgdOptions sgd,
                        int steps, double tolerance) {
  Step interpreted = BuildStep(spec, dtype, sgd);
  Step compiled = BuildStep(spec, dtype, sgd);
  Interpreter interpreter;
  JitExecutor jit(TestOptions());
  absl::StatusOr<std::unique_ptr<Program>> reference = interpreter.Compile(
      interpreted.mlp->graph(),
      {interpreted.mlp->loss(), interpreted.mlp->accuracy()},
      interpreted.updates);
  ASSERT_TRUE(reference.ok()) << reference.status();
  absl::StatusOr<std::unique_ptr<Program>> program = jit.Compile(
      compiled.mlp->graph(), {compiled.mlp->loss(), compiled.mlp->accuracy()},
      compiled.updates);
  ASSERT_TRUE(program.ok()) << program.status();

  std::mt19937_64 rng(7);
  FeedMap reference_feeds = InitialFeeds(spec, dtype, rng);
  FeedMap feeds = reference_feeds;
  std::vector<Tensor> reference_outputs, outputs;
  for (int step = 0; step < steps; ++step) {
    Tensor x = RandomTensor(rng, dtype, {100, spec.inputs}, 0.0, 1.0);
    Tensor y = RandomOneHot(rng, dtype, {100, spec.outputs});
    reference_feeds["x"] = feeds["x"] = x;
    reference_feeds["y"] = feeds["y"] = y;
    ASSERT_TRUE((*reference)->Run(reference_feeds, reference_outputs).ok());
    absl::Status status = (*program)->Run(feeds, outputs);
    ASSERT_TRUE(status.ok()) << status;
  }
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_NEAR(outputs[0].At(0), reference_outputs[0].At(0),
              tolerance * std::abs(reference_outputs[0].At(0)))
      << "loss";
  EXPECT_EQ(outputs[1].At(0), reference_outputs[1].At(0)) << "accuracy";
  for (const ParameterInfo& info : MlpParameters(spec)) {
    const Tensor& expected = reference_feeds[info.name];
    const Tensor& actual = feeds[info.name];
    double scale = 0;
    for (int64_t i = 0; i < expected.num_elements(); ++i) {
      scale = std::max(scale, std::abs(expected.At(i)));
    }
    double worst = 0;
    for (int64_t i = 0; i < expected.num_elements(); ++i) {
      worst = std::max(worst, std::abs(expected.At(i) - actual.At(i)));
    }
    EXPECT_LE(worst, tolerance * scale) << info.name;
  }
}

int CountSubstring(const std::string& text, const std::string& part) {
  int count = 0;
  for (size_t at = text.find(part); at != std::string::npos;
       at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

MlpSpec SigmoidSpec() {
  MlpSpec spec;
  spec.hidden = {{200, Activation::kSigmoid}};
  return spec;
}

TEST(MnistStepTest, SameParametersAsInterpreterAfter50StepsF64) {
  ExpectSameTraining(SigmoidSpec(), DType::kF64, {.learning_rate = 0.05}, 50,
                     1e-12);
}

TEST(MnistStepTest, SameParametersAsInterpreterAfter50StepsF32) {
  ExpectSameTraining(SigmoidSpec(), DType::kF32, {.learning_rate = 0.05}, 50,
                     1e-5);
}

TEST(MnistStepTest, LeakyReluAndClippedNoHiddenAgree) {
  MlpSpec leaky;
  leaky.hidden = {{200, Activation::kLeakyRelu}};
  ExpectSameTraining(leaky, DType::kF64, {.learning_rate = 0.05}, 20, 1e-12);
  MlpSpec no_hidden;
  ExpectSameTraining(no_hidden, DType::kF64,
                     {.learning_rate = 0.05, .clip_min = 0.0}, 20, 1e-12);
}

TEST(MnistStepTest, TwoHiddenLayersAgree) {
  MlpSpec spec;
  spec.hidden = {{200, Activation::kRelu}, {100, Activation::kTanh}};
  ExpectSameTraining(spec, DType::kF64, {.learning_rate = 0.05}, 10, 1e-12);
}

// The step is a few fused loops, and the weight gradients exist only in
// registers: each is folded into its update.
TEST(MnistStepTest, FusesIntoFewKernelsWithoutWeightGradients) {
  const MlpSpec spec = SigmoidSpec();
  Step step = BuildStep(spec, DType::kF32);
  JitExecutor jit(TestOptions());
  absl::StatusOr<std::unique_ptr<Program>> program =
      jit.Compile(step.mlp->graph(), {step.mlp->loss(), step.mlp->accuracy()},
                  step.updates);
  ASSERT_TRUE(program.ok()) << program.status();
  const CompileReport& report = jit.last_report();
  std::string names;
  for (const std::string& name : report.kernel_names) names += name + "\n";
  EXPECT_EQ(report.num_kernels, 11) << names;
  EXPECT_EQ(CountSubstring(names, "matmul_sub_update"), 2) << names;

  // No product the size of a weight is ever stored: the weight gradients
  // go from the accumulators straight into the updates.
  for (const ParameterInfo& info : MlpParameters(spec)) {
    if (!info.is_weight) continue;
    for (size_t b = 0; b < report.buffer_names.size(); ++b) {
      if (report.buffer_elements[b] == NumElements(info.shape)) {
        EXPECT_EQ(report.buffer_names[b].find("matmul"), std::string::npos)
            << report.buffer_names[b] << " is the size of " << info.name
            << "\n" << names;
      }
    }
  }
}

}  // namespace
}  // namespace kiln::jit
