// The MNIST training step under the JIT: the same parameters as under the
// interpreter after many steps, a handful of fused kernels, and no weight
// gradient in memory.

#include <cmath>
#include <cstring>
#include <limits>
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

// Images like MNIST's: about `zeros` of the pixels exactly zero, the rest
// uniform in (0, 1].
Tensor SparseImages(std::mt19937_64& rng, DType dtype, int64_t rows,
                    int64_t pixels, double zeros) {
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  Tensor images(dtype, {rows, pixels});
  for (int64_t i = 0; i < images.num_elements(); ++i) {
    images.Set(i, uniform(rng) < zeros ? 0.0 : 1.0 - uniform(rng));
  }
  return images;
}

// The inputs of one step: dense images (zeros = 0) or sparse ones.
FeedMap Batch(const MlpSpec& spec, DType dtype, std::mt19937_64& rng,
              double zeros) {
  FeedMap batch;
  batch["x"] = zeros > 0
                   ? SparseImages(rng, dtype, 100, spec.inputs, zeros)
                   : RandomTensor(rng, dtype, {100, spec.inputs}, 0.0, 1.0);
  batch["y"] = RandomOneHot(rng, dtype, {100, spec.outputs});
  return batch;
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
                        int steps, double tolerance, double zeros = 0) {
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
    FeedMap batch = Batch(spec, dtype, rng, zeros);
    reference_feeds["x"] = feeds["x"] = batch["x"];
    reference_feeds["y"] = feeds["y"] = batch["y"];
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

// MNIST-like inputs take the zero-skipping products.
TEST(MnistStepTest, SameParametersAsInterpreterOnSparseInputs) {
  ExpectSameTraining(SigmoidSpec(), DType::kF64, {.learning_rate = 0.05}, 30,
                     1e-12, /*zeros=*/0.8);
  ExpectSameTraining(SigmoidSpec(), DType::kF32, {.learning_rate = 0.05}, 30,
                     1e-5, /*zeros=*/0.8);
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
  EXPECT_EQ(report.num_kernels, 12) << names;
  EXPECT_EQ(CountSubstring(names, "matmul_sub_update"), 2) << names;
  // The first layer's product, 784 terms for each of 100 rows, sums in
  // halves (ops/product_sums.h): a kernel for the halves' sums, then one
  // adding them through the sigmoid.
  EXPECT_EQ(CountSubstring(names, "_matmul_halves\n"), 1) << names;
  EXPECT_EQ(CountSubstring(names, "_matmul_sigmoid\n"), 1) << names;
  // The halves' kernel and the first layer's weight update, the first of
  // the two updates, both divide into two chunks, the update at the
  // halves' row, so that each thread writes the weights it reads.
  auto first_ending_with = [&](const std::string& suffix) {
    for (size_t k = 0; k < report.kernel_names.size(); ++k) {
      if (report.kernel_names[k].ends_with(suffix)) return k;
    }
    return report.kernel_names.size();
  };
  const size_t halves = first_ending_with("_matmul_halves");
  const size_t first_update = first_ending_with("_matmul_sub_update");
  ASSERT_LT(halves, report.kernel_names.size()) << names;
  ASSERT_LT(first_update, report.kernel_names.size()) << names;
  EXPECT_EQ(report.kernel_chunks[halves], 2) << names;
  EXPECT_EQ(report.kernel_chunks[first_update], 2) << names;

  // No product the size of a weight is ever stored: the weight gradients
  // go from the accumulators straight into the updates.
  for (const ParameterInfo& info : MlpParameters(spec)) {
    if (!info.is_weight) continue;
    for (size_t b = 0; b < report.buffer_names.size(); ++b) {
      if (report.buffer_elements[b] == NumElements(info.shape)) {
        EXPECT_EQ(report.buffer_names[b].find("matmul"), std::string::npos)
            << report.buffer_names[b] << " is the size of " << info.name << "\n"
            << names;
      }
    }
  }
}

// ---- Bit-for-bit agreement between the JIT's own configurations ----

// The parameters and outputs after `steps` steps of the JIT with `options`,
// from fixed initial parameters and batches.
struct Trained {
  FeedMap parameters;
  std::vector<Tensor> outputs;
};

Trained TrainWithJit(const MlpSpec& spec, DType dtype, JitOptions options,
                     int steps, double zeros, FeedMap initial = {}) {
  Step step = BuildStep(spec, dtype);
  JitExecutor jit(std::move(options));
  absl::StatusOr<std::unique_ptr<Program>> program =
      jit.Compile(step.mlp->graph(), {step.mlp->loss(), step.mlp->accuracy()},
                  step.updates);
  EXPECT_TRUE(program.ok()) << program.status();
  Trained trained;
  if (!program.ok()) return trained;
  std::mt19937_64 rng(11);
  FeedMap feeds = InitialFeeds(spec, dtype, rng);
  for (auto& [name, value] : initial) feeds[name] = value;
  for (int s = 0; s < steps; ++s) {
    FeedMap batch = Batch(spec, dtype, rng, zeros);
    feeds["x"] = batch["x"];
    feeds["y"] = batch["y"];
    absl::Status status = (*program)->Run(feeds, trained.outputs);
    EXPECT_TRUE(status.ok()) << status;
  }
  for (const ParameterInfo& info : MlpParameters(spec)) {
    trained.parameters[info.name] = feeds[info.name];
  }
  return trained;
}

::testing::AssertionResult SameBits(const Tensor& a, const Tensor& b) {
  if (a.num_bytes() != b.num_bytes()) {
    return ::testing::AssertionFailure() << "sizes differ";
  }
  if (std::memcmp(a.raw_data(), b.raw_data(), a.num_bytes()) != 0) {
    for (int64_t i = 0; i < a.num_elements(); ++i) {
      if (std::memcmp(
              static_cast<const char*>(a.raw_data()) + i * DTypeSize(a.dtype()),
              static_cast<const char*>(b.raw_data()) + i * DTypeSize(a.dtype()),
              DTypeSize(a.dtype())) != 0) {
        return ::testing::AssertionFailure()
               << "element " << i << ": " << a.At(i) << " vs " << b.At(i);
      }
    }
  }
  return ::testing::AssertionSuccess();
}

void ExpectSameBits(const Trained& a, const Trained& b) {
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    EXPECT_TRUE(SameBits(a.outputs[i], b.outputs[i])) << "output " << i;
  }
  for (const auto& [name, value] : a.parameters) {
    EXPECT_TRUE(SameBits(value, b.parameters.at(name))) << name;
  }
}

JitOptions WithThreads(int threads, bool skip_zeros = true) {
  JitOptions options = TestOptions();
  options.num_threads = threads;
  options.skip_input_zeros = skip_zeros;
  return options;
}

// Kernels divide their outputs between the threads, never a sum, so any
// thread count gives the one-thread bits, on sparse inputs (the
// zero-skipping products) and dense ones (the plain products).
TEST(MnistStepTest, AnyThreadCountGivesTheSameBits) {
  for (DType dtype : {DType::kF32, DType::kF64}) {
    for (double zeros : {0.0, 0.8}) {
      const Trained one =
          TrainWithJit(SigmoidSpec(), dtype, WithThreads(1), 20, zeros);
      for (int threads : {2, 3}) {
        SCOPED_TRACE(::testing::Message()
                     << DTypeName(dtype) << ", " << zeros << " zeros, "
                     << threads << " threads");
        ExpectSameBits(one, TrainWithJit(SigmoidSpec(), dtype,
                                         WithThreads(threads), 20, zeros));
      }
    }
  }
}

// Without a hidden layer the sparse product has 10 columns, less than a
// vector, so every row ends in a masked vector: a wider store would spill
// into the next row, which a chunk of another thread, or one computed
// before, may already hold.
TEST(MnistStepTest, NarrowSparseProductsGiveTheSameBitsOnAnyThreadCount) {
  const MlpSpec no_hidden;
  for (DType dtype : {DType::kF32, DType::kF64}) {
    const Trained one =
        TrainWithJit(no_hidden, dtype, WithThreads(1), 20, /*zeros=*/0.8);
    for (int threads : {2, 3}) {
      SCOPED_TRACE(::testing::Message()
                   << DTypeName(dtype) << ", " << threads << " threads");
      ExpectSameBits(one, TrainWithJit(no_hidden, dtype, WithThreads(threads),
                                       20, /*zeros=*/0.8));
    }
  }
}

TEST(MnistStepTest, SkippingInputZerosGivesThePlainProductsBits) {
  for (DType dtype : {DType::kF32, DType::kF64}) {
    SCOPED_TRACE(DTypeName(dtype));
    ExpectSameBits(
        TrainWithJit(SigmoidSpec(), dtype, WithThreads(1, false), 20, 0.8),
        TrainWithJit(SigmoidSpec(), dtype, WithThreads(1, true), 20, 0.8));
  }
}

// With an infinite weight, 0·inf is NaN: the plain product's NaNs must
// survive, so the step falls back to it rather than skip those terms.
TEST(MnistStepTest, NonFiniteWeightsKeepThePlainProductsNaNs) {
  const MlpSpec spec = SigmoidSpec();
  std::mt19937_64 rng(2);
  FeedMap initial = InitialFeeds(spec, DType::kF32, rng);
  Tensor& weights = initial["hidden1.weight"];
  weights.Set(400 * 200 + 7, std::numeric_limits<double>::infinity());
  const Trained plain =
      TrainWithJit(spec, DType::kF32, WithThreads(1, false), 1, 0.8, initial);
  ASSERT_FALSE(plain.outputs.empty());
  EXPECT_TRUE(std::isnan(plain.outputs[0].At(0))) << "the loss";
  for (int threads : {1, 2}) {
    SCOPED_TRACE(::testing::Message() << threads << " threads");
    ExpectSameBits(
        plain, TrainWithJit(spec, DType::kF32, WithThreads(threads, true), 1,
                            0.8, initial));
  }
}

}  // namespace
}  // namespace kiln::jit
