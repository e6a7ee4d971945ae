// gnuplot scripts for the chapter report's plots, and running them.
//
// Every plot is a script in the report's plots/ folder that reads CSV files
// from its data/ folder, with paths relative to the report folder, so a
// reader can edit a script and rerun it there by hand:
//
//   cd chapter_report && gnuplot plots/loss_mnist.gp
//
// Scripts pick the cairo PNG terminal when gnuplot has it (smooth lines,
// UTF-8 text) and the plain PNG terminal otherwise.
//
//   LinePanel loss{.title = "loss", .xlabel = "epoch", .ylabel = "loss",
//                  .series = {{"data/sigmoid_epochs.csv", 1, 2, "sigmoid"}}};
//   std::string script = LinePlotScript("plots/loss.png", {loss});
//   KILN_RETURN_IF_ERROR(WriteFileAtomically(dir + "/plots/loss.gp", script));
//   KILN_RETURN_IF_ERROR(RunGnuplot(dir, "plots/loss.gp"));

#ifndef KILN_MODELS_CHAPTER_GNUPLOT_H_
#define KILN_MODELS_CHAPTER_GNUPLOT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace kiln {

// One line: column `y` against column `x` (1-based) of a CSV file whose
// first row is a header.
struct Series {
  std::string csv;
  int x = 1;
  int y = 2;
  std::string title;
  // gnuplot's dash type: 1 solid, 2 dashed, 3 dotted, 4 dash-dot, 5
  // dash-dot-dot. Curves that may coincide (relu and leaky relu train almost
  // alike) take different patterns, so that one does not hide the other.
  int dash_type = 1;
};

struct LinePanel {
  std::string title;
  std::string xlabel;
  std::string ylabel;
  std::vector<Series> series;
  bool log_y = false;
  // Draws the x and y axes through zero, for function plots.
  bool zero_axes = false;
  // Where the key goes, in gnuplot's words: "outside right top box" keeps
  // it off the curves when there are many.
  std::string key = "top left box opaque";
};

// A script drawing `panels` side by side into `png`.
std::string LinePlotScript(const std::string& png,
                           const std::vector<LinePanel>& panels);

// One image of a montage: block `index` (0-based, blocks separated by two
// blank lines) of a CSV file of matrices, each row a line of the image.
struct MontagePanel {
  std::string csv;
  int index = 0;
  std::string title;
};

struct Montage {
  std::string title;
  int columns = 10;
  // The matrices' size; row 0 is drawn at the top, so MNIST comes out
  // upright.
  int rows_per_image = 28;
  int columns_per_image = 28;
  std::vector<MontagePanel> panels;
  // The value range mapped from white to black, shared by every panel.
  double low = 0;
  double high = 1;
};

// A script drawing `montage`'s images in a grid into `png`.
std::string MontageScript(const std::string& png, const Montage& montage);

// Runs `gnuplot SCRIPT` with `report_dir` as gnuplot's working directory.
// Fails with NotFound, naming the Debian package, when gnuplot is missing.
absl::Status RunGnuplot(const std::string& report_dir,
                        const std::string& script);

// `text` as a gnuplot double-quoted string.
std::string GnuplotQuote(const std::string& text);

}  // namespace kiln

#endif  // KILN_MODELS_CHAPTER_GNUPLOT_H_
