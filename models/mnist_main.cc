// mnist: trains an MLP on MNIST or Fashion-MNIST and reports per-epoch
// metrics, reproducing a textbook chapter's experiments on activation
// functions.
//
//   bazel run //models:mnist -- --experiment=leaky_relu --dtype=f32
//
// With no flags it runs the chapter's main experiment: 784-200-10 with
// sigmoid, seed 3, 2000 epochs. Each evaluation prints one row on stdout:
//   epoch   200  loss    123.456  train_acc 0.912  test_acc 0.850
// Errors print one line on stderr and exit non-zero before any work starts.

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "ad/interpreter.h"
#include "jit/jit_executor.h"
#include "models/command_line.h"
#include "models/data/mnist.h"
#include "models/trainer.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

std::vector<FlagSpec> Flags() {
  return {
      {"data_dir", ".data", "directory holding mnist/ and fashion-mnist/"},
      {"dataset", "mnist", "mnist or fashion"},
      {"train_limit", "1000", "train on the first N training images"},
      {"hidden", "200", "comma list of hidden layer widths, empty for none"},
      {"activation", "sigmoid",
       "comma list, one per hidden layer: none, sigmoid, tanh, relu, "
       "leaky_relu"},
      {"leaky_gamma", "0.01", "slope of leaky relu below zero"},
      {"init", "uniform:-0.5:0.5",
       "comma list of uniform:LOW:HIGH, xavier or he, one per weight matrix "
       "(one entry applies to all)"},
      {"seed", "3", "seed of the NumPy-compatible random stream"},
      {"lr", "0.05", "SGD learning rate"},
      {"batch", "100", "minibatch size"},
      {"epochs", "2000", "number of epochs"},
      {"eval_every", "200", "evaluate after epochs divisible by this"},
      {"dtype", "f64", "f32 or f64"},
      {"backend", "jit", "executor: jit (compiled) or interp (reference)"},
      {"dump", "",
       "jit only: comma list of graph, kernels, ir, asm (or all) to write "
       "for each compiled program"},
      {"dump_dir", "kiln_dump", "where --dump writes"},
      {"clip_min", "", "if set, weights below it are raised to it after "
                       "each update"},
      {"experiment", "sigmoid",
       "preset: sigmoid, leaky_relu or no_hidden_nonneg; explicit flags "
       "override it"},
      {"metrics_out", "", "CSV file for epoch,loss,train_acc,test_acc"},
  };
}

// The chapter's three experiments, as flag values.
absl::Status ApplyExperiment(CommandLine& flags) {
  const std::string& name = flags.Get("experiment");
  if (name == "sigmoid") {
    flags.SetDefault("hidden", "200");
    flags.SetDefault("activation", "sigmoid");
    flags.SetDefault("seed", "3");
    flags.SetDefault("init", "uniform:-0.5:0.5");
  } else if (name == "leaky_relu") {
    flags.SetDefault("hidden", "200");
    flags.SetDefault("activation", "leaky_relu");
    flags.SetDefault("seed", "1");
    flags.SetDefault("init", "uniform:-0.01:0.01,uniform:-0.1:0.1");
  } else if (name == "no_hidden_nonneg") {
    flags.SetDefault("hidden", "");
    flags.SetDefault("activation", "");
    flags.SetDefault("seed", "3");
    flags.SetDefault("init", "uniform:-0.5:0.5");
    flags.SetDefault("clip_min", "0");
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown --experiment=", name,
        "; expected sigmoid, leaky_relu or no_hidden_nonneg"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<HiddenLayer>> ParseHidden(
    const CommandLine& flags) {
  std::vector<HiddenLayer> layers;
  const std::string& widths = flags.Get("hidden");
  const std::string& activations = flags.Get("activation");
  std::vector<std::string> width_list, activation_list;
  if (!widths.empty()) width_list = absl::StrSplit(widths, ',');
  if (!activations.empty()) activation_list = absl::StrSplit(activations, ',');
  if (width_list.size() != activation_list.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--hidden lists ", width_list.size(), " layers but --activation lists ",
        activation_list.size(), " activations"));
  }
  for (size_t i = 0; i < width_list.size(); ++i) {
    HiddenLayer layer;
    if (!absl::SimpleAtoi(width_list[i], &layer.width) || layer.width <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--hidden: '", width_list[i], "' is not a positive width"));
    }
    KILN_ASSIGN_OR_RETURN(layer.activation,
                          ParseActivation(activation_list[i]));
    layers.push_back(layer);
  }
  return layers;
}

absl::StatusOr<DType> ParseDType(const std::string& text) {
  if (text == "f32") return kF32;
  if (text == "f64") return kF64;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown --dtype=", text, "; expected f32 or f64"));
}

// Everything the run needs, checked before any data is read.
struct RunOptions {
  TrainerConfig config;
  std::string data_dir;
  int64_t train_limit = 0;
  std::string metrics_out;
  std::string backend;
  jit::DumpOptions dump;
  std::string dump_dir;
};

absl::Status CheckPositive(absl::string_view flag, double value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, " must be positive, got ", value));
}

absl::StatusOr<TrainerConfig> ParseTrainerConfig(const CommandLine& flags) {
  TrainerConfig config;
  KILN_ASSIGN_OR_RETURN(config.spec.hidden, ParseHidden(flags));
  KILN_ASSIGN_OR_RETURN(config.spec.leaky_gamma,
                        flags.GetDouble("leaky_gamma"));
  KILN_ASSIGN_OR_RETURN(config.init, ParseInitSchemes(flags.Get("init")));
  const size_t weights = config.spec.hidden.size() + 1;
  if (config.init.size() == 1) config.init.resize(weights, config.init[0]);
  if (config.init.size() != weights) {
    return absl::InvalidArgumentError(
        absl::StrCat("--init lists ", config.init.size(),
                     " schemes but the model has ", weights,
                     " weight matrices"));
  }
  KILN_ASSIGN_OR_RETURN(int64_t seed, flags.GetInt("seed"));
  if (seed < 0 || seed > 0xffffffffLL) {
    return absl::InvalidArgumentError(
        absl::StrCat("--seed must be in [0, 2^32), got ", seed));
  }
  config.seed = static_cast<uint32_t>(seed);
  KILN_ASSIGN_OR_RETURN(config.learning_rate, flags.GetDouble("lr"));
  KILN_RETURN_IF_ERROR(CheckPositive("lr", config.learning_rate));
  KILN_ASSIGN_OR_RETURN(config.batch, flags.GetInt("batch"));
  KILN_RETURN_IF_ERROR(CheckPositive("batch", config.batch));
  KILN_ASSIGN_OR_RETURN(int64_t epochs, flags.GetInt("epochs"));
  if (epochs < 0 || epochs > 10'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--epochs must be in [0, 1e7], got ", epochs));
  }
  config.epochs = static_cast<int>(epochs);
  KILN_ASSIGN_OR_RETURN(int64_t eval_every, flags.GetInt("eval_every"));
  KILN_RETURN_IF_ERROR(CheckPositive("eval_every", eval_every));
  config.eval_every = static_cast<int>(std::min<int64_t>(eval_every, 1 << 30));
  KILN_ASSIGN_OR_RETURN(config.dtype, ParseDType(flags.Get("dtype")));
  if (!flags.Get("clip_min").empty()) {
    KILN_ASSIGN_OR_RETURN(config.clip_min, flags.GetDouble("clip_min"));
  }
  return config;
}

absl::StatusOr<RunOptions> ParseRunOptions(const CommandLine& flags) {
  RunOptions options;
  KILN_ASSIGN_OR_RETURN(options.config, ParseTrainerConfig(flags));
  KILN_ASSIGN_OR_RETURN(options.train_limit, flags.GetInt("train_limit"));
  KILN_RETURN_IF_ERROR(CheckPositive("train_limit", options.train_limit));
  if (options.config.batch > options.train_limit) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--batch=", options.config.batch, " is larger than the ",
        options.train_limit, " training samples (--train_limit)"));
  }
  if (options.train_limit % options.config.batch != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--train_limit=", options.train_limit,
        " is not a multiple of --batch=", options.config.batch));
  }
  options.backend = flags.Get("backend");
  if (options.backend != "interp" && options.backend != "jit") {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown --backend=", options.backend, "; expected jit or interp"));
  }
  absl::StatusOr<jit::DumpOptions> dump = jit::ParseDumpOptions(
      flags.Get("dump"));
  if (!dump.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--dump: ", dump.status().message()));
  }
  if (dump->any() && options.backend != "jit") {
    return absl::InvalidArgumentError("--dump needs --backend=jit");
  }
  options.dump = *dump;
  options.dump_dir = flags.Get("dump_dir");
  KILN_ASSIGN_OR_RETURN(options.data_dir,
                        DatasetDirectory(flags.Get("data_dir"),
                                         flags.Get("dataset")));
  options.metrics_out = flags.Get("metrics_out");
  return options;
}

absl::StatusOr<TrainingData> LoadData(const RunOptions& options) {
  const DType dtype = options.config.dtype;
  KILN_ASSIGN_OR_RETURN(Dataset train,
                        LoadDataset(options.data_dir, Split::kTrain,
                                    options.train_limit, dtype));
  KILN_ASSIGN_OR_RETURN(Dataset test,
                        LoadDataset(options.data_dir, Split::kTest, 0, dtype));
  return TrainingData{std::move(train.images), std::move(train.labels_one_hot),
                      std::move(test.images), std::move(test.labels_one_hot)};
}

absl::Status Run(const RunOptions& options) {
  KILN_ASSIGN_OR_RETURN(TrainingData data, LoadData(options));
  std::unique_ptr<Executor> executor;
  if (options.backend == "jit") {
    KILN_ASSIGN_OR_RETURN(jit::JitOptions jit_options,
                          jit::JitOptions::FromEnvironment());
    if (options.dump.any()) {
      jit_options.dump = options.dump;
      jit_options.dump_dir = options.dump_dir;
    }
    executor = std::make_unique<jit::JitExecutor>(std::move(jit_options));
  } else {
    executor = std::make_unique<Interpreter>();
  }
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                        Trainer::Create(options.config, data, *executor));

  std::ofstream csv;
  if (!options.metrics_out.empty()) {
    csv.open(options.metrics_out);
    if (!csv) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot write --metrics_out=", options.metrics_out));
    }
    csv << "epoch,loss,train_acc,test_acc\n";
  }
  return trainer->Train([&](const EpochMetrics& m) {
    std::printf("epoch %5d  loss %10.3f  train_acc %.3f  test_acc %.3f\n",
                m.epoch, m.loss, m.train_accuracy, m.test_accuracy);
    std::fflush(stdout);
    if (csv.is_open()) {
      csv << absl::StrFormat("%d,%.17g,%.17g,%.17g\n", m.epoch, m.loss,
                             m.train_accuracy, m.test_accuracy)
          << std::flush;
    }
  });
}

int Main(int argc, char** argv) {
  CommandLine flags(Flags());
  absl::Status parsed = flags.Parse(argc, argv);
  if (parsed.ok() && flags.help_requested()) {
    std::printf("Usage: mnist [--flag=value ...]\n\n%s", flags.Usage().c_str());
    return 0;
  }
  if (parsed.ok()) parsed = ApplyExperiment(flags);
  absl::StatusOr<RunOptions> options =
      parsed.ok() ? ParseRunOptions(flags) : absl::StatusOr<RunOptions>(parsed);
  if (!options.ok()) {
    std::fprintf(stderr, "mnist: %s\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }
  absl::Status done = Run(*options);
  if (!done.ok()) {
    std::fprintf(stderr, "mnist: %s\n", done.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) { return kiln::Main(argc, argv); }
