// The training command's flags, the chapter's experiment presets, and the
// checked options they turn into.
//
// Both the `mnist` command and the `chapter` report describe a run the same
// way, as mnist flags, so that every experiment in the report can be rerun
// by hand with the command line it prints:
//
//   absl::StatusOr<TrainingOptions> options = TrainingOptionsFromArgs(
//       {"--experiment=sigmoid", "--activation=tanh", "--epochs=50"});
//   KILN_ASSIGN_OR_RETURN(TrainingData data, LoadTrainingData(*options));
//   KILN_ASSIGN_OR_RETURN(std::unique_ptr<Executor> executor,
//                         MakeExecutor(*options));
//
// Presets (--experiment) fill in flags the user did not set, so an explicit
// flag always wins. Every check that needs no data happens while parsing,
// so a bad flag fails before any file is read.

#ifndef KILN_MODELS_TRAINING_OPTIONS_H_
#define KILN_MODELS_TRAINING_OPTIONS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ad/executor.h"
#include "models/command_line.h"
#include "models/trainer.h"

namespace kiln {

// The flag table of the mnist command.
std::vector<FlagSpec> TrainingFlags();

// The names --experiment accepts: "sigmoid", "leaky_relu" and
// "no_hidden_nonneg".
std::vector<std::string> ExperimentNames();

// Sets the defaults of the preset named by --experiment. Fails with
// InvalidArgument on an unknown name.
absl::Status ApplyExperiment(CommandLine& flags);

// Everything a run needs, checked before any data is read.
struct TrainingOptions {
  TrainerConfig config;
  // The data set's own directory, such as DATA/mnist.
  std::string data_dir;
  // "mnist" or "fashion".
  std::string dataset;
  int64_t train_limit = 0;
  std::string metrics_out;
  // "jit" or "interp".
  std::string backend;
  // Threads of each JIT-compiled step, 1 to 64; 0 leaves it to
  // KILN_THREADS (default 1). Results do not depend on it.
  int threads = 0;
  // Where --dump writes the graphs, IR and assembly; empty for no dump.
  std::string dump_dir;
  // Checkpoints to read before training and write after it; empty for none.
  std::string load_path;
  std::string save_path;
  bool quiet = false;
  // Check every tensor for NaN and infinity (see InterpreterOptions and
  // jit::JitOptions).
  bool check_numerics = false;
};

// Parses flags after ApplyExperiment. Fails with InvalidArgument naming the
// flag and its value.
absl::StatusOr<TrainingOptions> ParseTrainingOptions(const CommandLine& flags);

// Parse, preset and check in one step, for flags given as strings such as
// "--epochs=50" (no program name). --help is refused: it is for people.
absl::StatusOr<TrainingOptions> TrainingOptionsFromArgs(
    const std::vector<std::string>& args);

// The training split (its first train_limit samples) and the whole test
// split, in the configured dtype.
absl::StatusOr<TrainingData> LoadTrainingData(const TrainingOptions& options);

// The executor --backend names, with --dump applied to the JIT and
// --check_numerics to either.
absl::StatusOr<std::unique_ptr<Executor>> MakeExecutor(
    const TrainingOptions& options);

}  // namespace kiln

#endif  // KILN_MODELS_TRAINING_OPTIONS_H_
