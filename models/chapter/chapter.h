// The chapter report: every experiment and exercise of the chapter on
// activation functions, trained on the JIT in one process, written up as a
// folder a person opens and reads.
//
// The folder holds
//   report.md    the results table and every picture, linked;
//   data/        the CSV files behind every plot: each run's per-epoch loss
//                and accuracy and its test evaluations, the activation
//                samples, the images as matrices;
//   plots/       one gnuplot script per plot, and the PNG it drew;
//   images/      the digits, the clothes and the learned weights as PNGs
//                written with libpng.
//
//   ChapterOptions options{.data_root = ".data", .out_dir = "report",
//                          .epochs = 50};
//   KILN_RETURN_IF_ERROR(WriteChapterReport(options, [](const RunResult& r) {
//     std::printf("%s done\n", r.experiment.name.c_str());
//   }));

#ifndef KILN_MODELS_CHAPTER_CHAPTER_H_
#define KILN_MODELS_CHAPTER_CHAPTER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "models/chapter/experiments.h"
#include "models/trainer.h"

namespace kiln {

struct ChapterOptions {
  // The directory holding mnist/ and fashion-mnist/.
  std::string data_root = ".data";
  std::string out_dir = "chapter_report";
  int epochs = 2000;
  // Test evaluations happen every this many epochs; 0 picks epochs / 25.
  int eval_every = 0;
  // Experiment names to run; empty for all.
  std::vector<std::string> only;
  // Whether to hide the progress line a terminal would show.
  bool quiet = false;
};

// What one training run produced.
struct RunResult {
  ChapterExperiment experiment;
  // ArchitectureString of the model, and the command that reruns the run.
  std::string architecture;
  std::string command;
  // Every epoch (without test accuracy), and every evaluated one.
  std::vector<EpochMetrics> epochs;
  std::vector<EpochMetrics> evaluations;
  // Wall-clock seconds of the training steps (the sum of the epochs'
  // EpochMetrics::seconds), and of the whole loop with test evaluations.
  double train_seconds = 0;
  double loop_seconds = 0;
  // Wall-clock seconds to build and compile the programs.
  double compile_seconds = 0;
  // The test set was evaluated every this many epochs, and after the last.
  int eval_every = 1;
  // The parameters after the last epoch.
  FeedMap parameters;
};

// Runs the selected experiments and writes the folder. `on_run` is called
// after each run. Fails with InvalidArgument for an unknown name in `only`
// or bad epochs, and with the underlying error when data, training, gnuplot
// or a file fails; whatever was written until then stays.
absl::Status WriteChapterReport(
    const ChapterOptions& options,
    const std::function<void(const RunResult&)>& on_run = nullptr);

}  // namespace kiln

#endif  // KILN_MODELS_CHAPTER_CHAPTER_H_
