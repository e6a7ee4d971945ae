// kiln_step_timer: a peer-harness worker (see timing_worker.h) that trains
// the chapter's 784-200-10 sigmoid MLP with Kiln, one epoch per request unit:
// ten SGD steps on the first 1000 MNIST training images in batches of 100,
// in file order, parameters updated in place, no evaluation.
//
//   kiln_step_timer --data_dir=.data --backend=jit --dtype=f32 --threads=2

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ad/executor.h"
#include "ad/interpreter.h"
#include "bench/peers/timing_worker.h"
#include "jit/jit_executor.h"
#include "models/command_line.h"
#include "models/data/mnist.h"
#include "models/initializer.h"
#include "models/mlp.h"
#include "models/numpy_random.h"
#include "models/trainer.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

constexpr int64_t kTrainImages = 1000;
constexpr int64_t kBatch = 100;

std::vector<FlagSpec> Flags() {
  return {
      {"data_dir", ".data", "directory holding mnist/"},
      {"backend", "jit", "jit or interp"},
      {"dtype", "f32", "f32 or f64"},
      {"threads", "1", "threads of the JIT's compiled step"},
      {"skip_zeros", "1",
       "1: the JIT skips the input's zeros in its products; 0: it does not"},
  };
}

// What one epoch needs: the compiled step, its feeds and the batches.
struct Training {
  std::unique_ptr<Executor> executor;
  std::unique_ptr<Mlp> mlp;
  std::unique_ptr<Program> step;
  FeedMap feeds;
  std::vector<Tensor> batch_images, batch_targets;
  std::vector<Tensor> outputs;
};

absl::StatusOr<std::unique_ptr<Executor>> MakeExecutor(
    const std::string& backend, int64_t threads, bool skip_zeros) {
  if (backend == "interp") return std::make_unique<Interpreter>();
  if (backend != "jit") {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown --backend=", backend, "; expected jit or interp"));
  }
  KILN_ASSIGN_OR_RETURN(jit::JitOptions options,
                        jit::JitOptions::FromEnvironment());
  options.num_threads = static_cast<int>(threads);
  options.skip_input_zeros = skip_zeros;
  return std::make_unique<jit::JitExecutor>(std::move(options));
}

absl::Status Prepare(const CommandLine& flags, Training& training) {
  const std::string& dtype_name = flags.Get("dtype");
  if (dtype_name != "f32" && dtype_name != "f64") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown --dtype=", dtype_name, "; expected f32 or f64"));
  }
  const DType dtype = dtype_name == "f32" ? kF32 : kF64;
  KILN_ASSIGN_OR_RETURN(int64_t threads, flags.GetInt("threads"));
  if (threads < 1 || threads > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threads must be in [1, 64], got ", threads));
  }
  const std::string& skip_zeros = flags.Get("skip_zeros");
  if (skip_zeros != "0" && skip_zeros != "1") {
    return absl::InvalidArgumentError(
        absl::StrCat("--skip_zeros must be 0 or 1, got ", skip_zeros));
  }
  KILN_ASSIGN_OR_RETURN(
      training.executor,
      MakeExecutor(flags.Get("backend"), threads, skip_zeros == "1"));

  KILN_ASSIGN_OR_RETURN(std::string dir,
                        DatasetDirectory(flags.Get("data_dir"), "mnist"));
  KILN_ASSIGN_OR_RETURN(Dataset train,
                        LoadDataset(dir, Split::kTrain, kTrainImages, dtype));
  for (int64_t begin = 0; begin < kTrainImages; begin += kBatch) {
    training.batch_images.push_back(SliceRows(train.images, begin, kBatch));
    training.batch_targets.push_back(
        SliceRows(train.labels_one_hot, begin, kBatch));
  }

  // The chapter's sigmoid experiment: seed 3, weights uniform on ±0.5.
  MlpSpec spec;
  spec.hidden = {{200, Activation::kSigmoid}};
  KILN_ASSIGN_OR_RETURN(training.mlp, Mlp::Build(spec, kBatch, dtype));
  const std::vector<Node> updated =
      training.mlp->AddSgdStep({.learning_rate = 0.05});
  std::vector<ParameterUpdate> updates;
  for (size_t i = 0; i < updated.size(); ++i) {
    updates.push_back({training.mlp->parameters()[i], updated[i]});
  }
  KILN_ASSIGN_OR_RETURN(
      training.step,
      training.executor->Compile(
          training.mlp->graph(),
          {training.mlp->loss(), training.mlp->accuracy()}, updates));
  NumpyRandom random(3);
  const InitScheme uniform{InitScheme::Kind::kUniform, -0.5, 0.5};
  for (const ParameterInfo& info : MlpParameters(spec)) {
    training.feeds[info.name] =
        info.is_weight ? InitialWeights(random, uniform, info.shape[0],
                                        info.shape[1], dtype)
                       : Tensor(dtype, info.shape);
  }
  return absl::OkStatus();
}

// Ten steps; the batches are lent to the feeds and given back.
absl::Status RunEpoch(Training& training) {
  for (size_t b = 0; b < training.batch_images.size(); ++b) {
    training.feeds["x"] = std::move(training.batch_images[b]);
    training.feeds["y"] = std::move(training.batch_targets[b]);
    absl::Status ran = training.step->Run(training.feeds, training.outputs);
    training.batch_images[b] = std::move(training.feeds["x"]);
    training.batch_targets[b] = std::move(training.feeds["y"]);
    KILN_RETURN_IF_ERROR(ran);
  }
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  CommandLine flags(Flags());
  absl::Status status = flags.Parse(argc, argv);
  if (status.ok() && flags.help_requested()) {
    std::printf("Usage: kiln_step_timer [--flag=value ...]\n\n%s",
                flags.Usage().c_str());
    return 0;
  }
  Training training;
  if (status.ok()) status = Prepare(flags, training);
  if (!status.ok()) {
    std::fprintf(stderr, "kiln_step_timer: %s\n", status.ToString().c_str());
    return 2;
  }
  return bench::ServeTimingRequests([&] {
    absl::Status ran = RunEpoch(training);
    if (!ran.ok()) {
      std::fprintf(stderr, "kiln_step_timer: %s\n", ran.ToString().c_str());
      std::exit(1);
    }
  });
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) { return kiln::Main(argc, argv); }
