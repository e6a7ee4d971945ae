// chapter: runs every experiment and exercise of the chapter on activation
// functions on the JIT and writes a report folder with report.md, plots and
// images (see models/chapter/chapter.h).
//
//   bazel run //models/chapter -- --data_dir=$PWD/.data --epochs=50
//
// Each finished run prints one row on stdout:
//   sigmoid           MNIST          loss   518.435  test_acc 0.7610  12.3 s
// and the last line names the report. A terminal on stderr shows a progress
// line per run unless --quiet is given.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "models/chapter/chapter.h"
#include "models/command_line.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

std::vector<FlagSpec> Flags() {
  return {
      {"data_dir", ".data", "directory holding mnist/ and fashion-mnist/"},
      {"out", "chapter_report", "the report folder to write"},
      {"epochs", "2000", "epochs per run"},
      {"eval_every", "0",
       "evaluate the test set every N epochs; 0 picks epochs / 25"},
      {"only", "", "comma list of runs to do; empty for all"},
      {"quiet", "false", "hides the progress line", /*boolean=*/true},
  };
}

absl::StatusOr<ChapterOptions> ParseOptions(const CommandLine& flags) {
  ChapterOptions options;
  options.data_root = flags.Get("data_dir");
  options.out_dir = flags.Get("out");
  KILN_ASSIGN_OR_RETURN(int64_t epochs, flags.GetInt("epochs"));
  KILN_ASSIGN_OR_RETURN(int64_t eval_every, flags.GetInt("eval_every"));
  if (epochs < 1 || epochs > 10'000'000 || eval_every < 0 ||
      eval_every > epochs) {
    return absl::InvalidArgumentError(
        "--epochs must be in [1, 1e7] and --eval_every in [0, epochs]");
  }
  options.epochs = static_cast<int>(epochs);
  options.eval_every = static_cast<int>(eval_every);
  if (!flags.Get("only").empty()) {
    options.only = absl::StrSplit(flags.Get("only"), ',');
  }
  KILN_ASSIGN_OR_RETURN(options.quiet, flags.GetBool("quiet"));
  return options;
}

void PrintRun(const RunResult& run) {
  std::printf("%-18s %-14s loss %9.3f  test_acc %.4f  %7.1f s\n",
              run.experiment.name.c_str(), run.experiment.dataset.c_str(),
              run.epochs.back().loss, run.evaluations.back().test_accuracy,
              run.train_seconds);
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  CommandLine flags(Flags());
  absl::Status parsed = EnterBuildWorkingDirectory();
  if (parsed.ok()) parsed = flags.Parse(argc, argv);
  if (parsed.ok() && flags.help_requested()) {
    std::printf("Usage: chapter [--flag=value ...]\n\n%s",
                flags.Usage().c_str());
    return 0;
  }
  absl::StatusOr<ChapterOptions> options =
      parsed.ok() ? ParseOptions(flags)
                  : absl::StatusOr<ChapterOptions>(parsed);
  if (!options.ok()) {
    std::fprintf(stderr, "chapter: %s\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }
  absl::Status done = WriteChapterReport(*options, PrintRun);
  if (!done.ok()) {
    std::fprintf(stderr, "chapter: %s\n", done.ToString().c_str());
    return 1;
  }
  std::printf("report: %s/report.md\n", options->out_dir.c_str());
  return 0;
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) { return kiln::Main(argc, argv); }
