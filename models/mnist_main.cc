// mnist: trains an MLP on MNIST or Fashion-MNIST and reports per-epoch
// metrics, reproducing a textbook chapter's experiments on activation
// functions.
//
//   bazel run //models:mnist -- --experiment=leaky_relu --dtype=f32
//
// With no flags it runs the chapter's main experiment: 784-200-10 with
// sigmoid, seed 3, 2000 epochs. Each evaluation prints one row on stdout:
//   epoch   200  loss    123.456  train_acc 0.912  test_acc 0.850
// Checkpoints: --save=PATH writes the trained parameters as safetensors,
// --load=PATH starts from them (the epoch count continues), and --load with
// --epochs=0 evaluates a saved model, printing one row:
//   evaluate  epochs_completed 100  loss    98.765  train_acc 0.950  ...
// While it trains, a progress line on stderr shows the epoch, the elapsed
// time, the time left and the loss, when stderr is a terminal and --quiet is
// not given. --dump=DIR writes the graphs and the compiled code.
// Errors print one line on stderr and exit non-zero before any work starts.

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "models/command_line.h"
#include "models/graph_dump.h"
#include "models/progress.h"
#include "models/trainer.h"
#include "models/training_options.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

void PrintRow(const EpochMetrics& m) {
  std::printf("epoch %5d  loss %10.3f  train_acc %.3f  test_acc %.3f\n",
              m.epoch, m.loss, m.train_accuracy, m.test_accuracy);
  std::fflush(stdout);
}

// The --metrics_out file, with a header row; a closed stream when not asked.
absl::StatusOr<std::ofstream> OpenMetrics(const std::string& path) {
  std::ofstream csv;
  if (path.empty()) return csv;
  csv.open(path);
  if (!csv) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write --metrics_out=", path));
  }
  csv << "epoch,loss,train_acc,test_acc\n";
  return csv;
}

// Trains with a progress line and one row per evaluation.
absl::Status TrainAndReport(const TrainingOptions& options, Trainer& trainer) {
  KILN_ASSIGN_OR_RETURN(std::ofstream csv, OpenMetrics(options.metrics_out));
  const int64_t first_epoch = trainer.epochs_completed();
  ProgressLine progress(options.config.epochs,
                        !options.quiet && ProgressLine::StderrIsTerminal());
  absl::Status trained = trainer.Train(
      [&](const EpochMetrics& m) {
        progress.Clear();
        PrintRow(m);
        if (csv.is_open()) {
          csv << absl::StrFormat("%d,%.17g,%.17g,%.17g\n", m.epoch, m.loss,
                                 m.train_accuracy, m.test_accuracy)
              << std::flush;
        }
      },
      [&](const EpochMetrics& m) {
        progress.Update(m.epoch + 1 - first_epoch, m.loss);
      });
  progress.Clear();
  return trained;
}

absl::Status Run(const TrainingOptions& options) {
  KILN_ASSIGN_OR_RETURN(TrainingData data, LoadTrainingData(options));
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Executor> executor,
                        MakeExecutor(options));
  if (!options.dump_dir.empty()) {
    KILN_RETURN_IF_ERROR(WriteModelGraphs(options.config, options.dump_dir));
  }
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                        Trainer::Create(options.config, data, *executor));
  if (!options.dump_dir.empty()) {
    KILN_RETURN_IF_ERROR(RenderDotFiles(options.dump_dir));
  }
  if (!options.load_path.empty()) {
    KILN_RETURN_IF_ERROR(trainer->LoadCheckpoint(options.load_path));
  }

  if (options.config.epochs > 0) {
    KILN_RETURN_IF_ERROR(TrainAndReport(options, *trainer));
  } else {
    KILN_ASSIGN_OR_RETURN(EpochMetrics m, trainer->Evaluate());
    std::printf(
        "evaluate  epochs_completed %d  loss %10.3f  train_acc %.3f  "
        "test_acc %.3f\n",
        m.epoch, m.loss, m.train_accuracy, m.test_accuracy);
  }
  if (!options.save_path.empty()) {
    KILN_RETURN_IF_ERROR(trainer->SaveCheckpoint(options.save_path));
  }
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  CommandLine flags(TrainingFlags());
  absl::Status parsed = EnterBuildWorkingDirectory();
  if (parsed.ok()) parsed = flags.Parse(argc, argv);
  if (parsed.ok() && flags.help_requested()) {
    std::printf("Usage: mnist [--flag=value ...]\n\n%s", flags.Usage().c_str());
    return 0;
  }
  if (parsed.ok()) parsed = ApplyExperiment(flags);
  absl::StatusOr<TrainingOptions> options =
      parsed.ok() ? ParseTrainingOptions(flags)
                  : absl::StatusOr<TrainingOptions>(parsed);
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
