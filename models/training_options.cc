// The mnist flag table and its parsing, split by concern (model, schedule,
// data, outputs) so that each check sits next to the flags it reads.

#include "models/training_options.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ad/interpreter.h"
#include "jit/jit_executor.h"
#include "ops/base/atomic_file.h"
#include "models/data/mnist.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

absl::Status Invalid(auto&&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(parts...));
}

absl::StatusOr<std::vector<HiddenLayer>> ParseHidden(const CommandLine& flags) {
  std::vector<HiddenLayer> layers;
  const std::string& widths = flags.Get("hidden");
  const std::string& activations = flags.Get("activation");
  std::vector<std::string> width_list, activation_list;
  if (!widths.empty()) width_list = absl::StrSplit(widths, ',');
  if (!activations.empty()) activation_list = absl::StrSplit(activations, ',');
  if (width_list.size() != activation_list.size()) {
    return Invalid("--hidden lists ", width_list.size(),
                   " layers but --activation lists ", activation_list.size(),
                   " activations");
  }
  for (size_t i = 0; i < width_list.size(); ++i) {
    HiddenLayer layer;
    if (!absl::SimpleAtoi(width_list[i], &layer.width) || layer.width <= 0) {
      return Invalid("--hidden: '", width_list[i], "' is not a positive width");
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
  return Invalid("unknown --dtype=", text, "; expected f32 or f64");
}

absl::Status CheckPositive(absl::string_view flag, double value) {
  if (value > 0) return absl::OkStatus();
  return Invalid("--", flag, " must be positive, got ", value);
}

absl::Status ParseInit(const CommandLine& flags, TrainerConfig& config) {
  KILN_ASSIGN_OR_RETURN(config.init, ParseInitSchemes(flags.Get("init")));
  const size_t weights = config.spec.hidden.size() + 1;
  if (config.init.size() == 1) config.init.resize(weights, config.init[0]);
  if (config.init.size() != weights) {
    return Invalid("--init lists ", config.init.size(),
                   " schemes but the model has ", weights, " weight matrices");
  }
  return absl::OkStatus();
}

absl::Status ParseSchedule(const CommandLine& flags, TrainerConfig& config) {
  KILN_ASSIGN_OR_RETURN(config.learning_rate, flags.GetDouble("lr"));
  KILN_RETURN_IF_ERROR(CheckPositive("lr", config.learning_rate));
  KILN_ASSIGN_OR_RETURN(config.batch, flags.GetInt("batch"));
  KILN_RETURN_IF_ERROR(CheckPositive("batch", config.batch));
  KILN_ASSIGN_OR_RETURN(int64_t epochs, flags.GetInt("epochs"));
  if (epochs < 0 || epochs > 10'000'000) {
    return Invalid("--epochs must be in [0, 1e7], got ", epochs);
  }
  config.epochs = static_cast<int>(epochs);
  KILN_ASSIGN_OR_RETURN(int64_t eval_every, flags.GetInt("eval_every"));
  KILN_RETURN_IF_ERROR(CheckPositive("eval_every", eval_every));
  config.eval_every = static_cast<int>(std::min<int64_t>(eval_every, 1 << 30));
  return absl::OkStatus();
}

absl::StatusOr<TrainerConfig> ParseTrainerConfig(const CommandLine& flags) {
  TrainerConfig config;
  KILN_ASSIGN_OR_RETURN(config.spec.hidden, ParseHidden(flags));
  KILN_ASSIGN_OR_RETURN(config.spec.leaky_gamma,
                        flags.GetDouble("leaky_gamma"));
  KILN_RETURN_IF_ERROR(ParseInit(flags, config));
  KILN_ASSIGN_OR_RETURN(int64_t seed, flags.GetInt("seed"));
  if (seed < 0 || seed > 0xffffffffLL) {
    return Invalid("--seed must be in [0, 2^32), got ", seed);
  }
  config.seed = static_cast<uint32_t>(seed);
  KILN_RETURN_IF_ERROR(ParseSchedule(flags, config));
  KILN_ASSIGN_OR_RETURN(config.dtype, ParseDType(flags.Get("dtype")));
  if (!flags.Get("clip_min").empty()) {
    KILN_ASSIGN_OR_RETURN(config.clip_min, flags.GetDouble("clip_min"));
  }
  return config;
}

absl::Status ParseDataOptions(const CommandLine& flags,
                              TrainingOptions& options) {
  KILN_ASSIGN_OR_RETURN(options.train_limit, flags.GetInt("train_limit"));
  KILN_RETURN_IF_ERROR(CheckPositive("train_limit", options.train_limit));
  if (options.config.batch > options.train_limit) {
    return Invalid("--batch=", options.config.batch, " is larger than the ",
                   options.train_limit, " training samples (--train_limit)");
  }
  if (options.train_limit % options.config.batch != 0) {
    return Invalid("--train_limit=", options.train_limit,
                   " is not a multiple of --batch=", options.config.batch);
  }
  options.dataset = flags.Get("dataset");
  KILN_ASSIGN_OR_RETURN(
      options.data_dir,
      DatasetDirectory(flags.Get("data_dir"), options.dataset));
  return absl::OkStatus();
}

// --backend, --dump, --threads, --save, --load, --quiet and
// --check_numerics.
absl::Status ParseOutputOptions(const CommandLine& flags,
                                TrainingOptions& options) {
  options.backend = flags.Get("backend");
  if (options.backend != "interp" && options.backend != "jit") {
    return Invalid("unknown --backend=", options.backend,
                   "; expected jit or interp");
  }
  options.dump_dir = flags.Get("dump");
  if (!options.dump_dir.empty() && options.backend != "jit") {
    return Invalid("--dump needs --backend=jit");
  }
  if (flags.WasSet("threads")) {
    KILN_ASSIGN_OR_RETURN(int64_t threads, flags.GetInt("threads"));
    if (threads < 1 || threads > 64) {
      return Invalid("--threads must be in [1, 64], got ", threads);
    }
    if (options.backend != "jit")
      return Invalid("--threads needs --backend=jit");
    options.threads = static_cast<int>(threads);
  }
  options.metrics_out = flags.Get("metrics_out");
  options.load_path = flags.Get("load");
  options.save_path = flags.Get("save");
  // A run that would fail to save its result fails now, not after training.
  if (!options.save_path.empty()) {
    if (absl::Status writable = CheckWritableDestination(options.save_path);
        !writable.ok()) {
      return Invalid("--save=", options.save_path, ": ", writable.message());
    }
  }
  KILN_ASSIGN_OR_RETURN(options.quiet, flags.GetBool("quiet"));
  KILN_ASSIGN_OR_RETURN(options.check_numerics,
                        flags.GetBool("check_numerics"));
  return absl::OkStatus();
}

}  // namespace

std::vector<FlagSpec> TrainingFlags() {
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
      {"epochs", "2000",
       "number of epochs to train; 0 with --load evaluates the checkpoint"},
      {"eval_every", "200", "evaluate after epochs divisible by this"},
      {"dtype", "f64", "f32 or f64"},
      {"backend", "jit", "executor: jit (compiled) or interp (reference)"},
      {"threads", "1",
       "jit only: threads per training step (1-64, default KILN_THREADS or "
       "1); results are bit-identical for any count"},
      {"dump", "",
       "jit only: directory to write the forward, gradient and fused graphs "
       "(dot and svg) and each compiled program's LLVM IR and assembly"},
      {"clip_min", "",
       "if set, weights below it are raised to it after "
       "each update"},
      {"experiment", "sigmoid",
       "preset: sigmoid, leaky_relu or no_hidden_nonneg; explicit flags "
       "override it"},
      {"metrics_out", "", "CSV file for epoch,loss,train_acc,test_acc"},
      {"load", "",
       "safetensors checkpoint to start from; training continues its epoch "
       "count"},
      {"save", "",
       "safetensors file to write the parameters to after training; an "
       "existing file is replaced atomically"},
      {"quiet", "false",
       "hides the progress line that a terminal on stderr shows",
       /*boolean=*/true},
      {"check_numerics", "false",
       "checks every tensor for NaN and infinity after every kernel and "
       "stops at the op that made the first one (slower)",
       /*boolean=*/true},
  };
}

std::vector<std::string> ExperimentNames() {
  return {"sigmoid", "leaky_relu", "no_hidden_nonneg"};
}

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
    return Invalid("unknown --experiment=", name, "; expected ",
                   absl::StrJoin(ExperimentNames(), ", "));
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainingOptions> ParseTrainingOptions(const CommandLine& flags) {
  TrainingOptions options;
  KILN_ASSIGN_OR_RETURN(options.config, ParseTrainerConfig(flags));
  KILN_RETURN_IF_ERROR(ParseDataOptions(flags, options));
  KILN_RETURN_IF_ERROR(ParseOutputOptions(flags, options));
  return options;
}

absl::StatusOr<TrainingOptions> TrainingOptionsFromArgs(
    const std::vector<std::string>& args) {
  std::vector<const char*> argv = {"mnist"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  CommandLine flags(TrainingFlags());
  KILN_RETURN_IF_ERROR(flags.Parse(static_cast<int>(argv.size()), argv.data()));
  if (flags.help_requested()) return Invalid("--help is not a training flag");
  KILN_RETURN_IF_ERROR(ApplyExperiment(flags));
  return ParseTrainingOptions(flags);
}

absl::StatusOr<TrainingData> LoadTrainingData(const TrainingOptions& options) {
  const DType dtype = options.config.dtype;
  KILN_ASSIGN_OR_RETURN(
      Dataset train,
      LoadDataset(options.data_dir, Split::kTrain, options.train_limit, dtype));
  KILN_ASSIGN_OR_RETURN(Dataset test,
                        LoadDataset(options.data_dir, Split::kTest, 0, dtype));
  return TrainingData{std::move(train.images), std::move(train.labels_one_hot),
                      std::move(test.images), std::move(test.labels_one_hot)};
}

absl::StatusOr<std::unique_ptr<Executor>> MakeExecutor(
    const TrainingOptions& options) {
  if (options.backend == "interp") {
    return std::make_unique<Interpreter>(
        InterpreterOptions{.check_numerics = options.check_numerics});
  }
  KILN_ASSIGN_OR_RETURN(jit::JitOptions jit_options,
                        jit::JitOptions::FromEnvironment());
  jit_options.check_numerics = options.check_numerics;
  if (!options.dump_dir.empty()) {
    KILN_ASSIGN_OR_RETURN(jit_options.dump, jit::ParseDumpOptions("all"));
    jit_options.dump_dir = options.dump_dir;
  }
  if (options.threads > 0) jit_options.num_threads = options.threads;
  return std::make_unique<jit::JitExecutor>(std::move(jit_options));
}

}  // namespace kiln
