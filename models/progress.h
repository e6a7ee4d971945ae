// A progress line for long runs: "epoch 120/2000  elapsed 0:12  eta 1:48
// loss 123.456", redrawn in place on stderr.
//
// It is for a person watching a terminal, so it appears only when stderr is
// one (isatty) and the user did not ask for quiet; a log file or a pipe never
// sees it, and results on stdout are never mixed with it. The line is
// redrawn at most ten times a second, so a fast loop does not flood the
// terminal, and always at the last step.
//
//   ProgressLine progress(epochs, ProgressLine::StderrIsTerminal() && !quiet);
//   for (int i = 0; i < epochs; ++i) {
//     double loss = RunEpoch();
//     progress.Clear();                     // before printing a result row
//     std::printf("epoch %d ...\n", i);
//     progress.Update(i + 1, loss);
//   }
//   progress.Clear();

#ifndef KILN_MODELS_PROGRESS_H_
#define KILN_MODELS_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace kiln {

// "0:07", "12:34" or "1:02:03" for a non-negative number of seconds.
std::string FormatDuration(double seconds);

// The text of the line after `done` of `total` steps took `elapsed_seconds`:
// "epoch 3/10  elapsed 0:06  eta 0:14  loss 1.250". The ETA assumes the
// remaining steps take as long as the average so far.
std::string FormatProgress(int64_t done, int64_t total, double elapsed_seconds,
                           double loss);

class ProgressLine {
 public:
  // Whether stderr is a terminal.
  static bool StderrIsTerminal();

  // Counts `total` steps from now. When `enabled` is false every method
  // does nothing. A non-empty `label` starts the line, as in
  // "[tanh 5/12] epoch 3/50 ...".
  ProgressLine(int64_t total, bool enabled, std::string label = "");
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine() { Clear(); }

  // Reports that `done` steps are finished, the last with `loss`.
  void Update(int64_t done, double loss);

  // Erases the line, if one is shown, so that other output starts on a
  // clean line. The next Update draws it again.
  void Clear();

 private:
  void Write(const std::string& text);

  int64_t total_;
  bool enabled_;
  std::string label_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_drawn_;
};

}  // namespace kiln

#endif  // KILN_MODELS_PROGRESS_H_
