// Script text for line plots and image montages. Scripts are plain text
// in the report folder, so everything here is string building.

#include "models/chapter/gnuplot.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "models/subprocess.h"

namespace kiln {
namespace {

// The terminal, chosen when the script runs.
std::string TerminalLines(int width, int height) {
  return absl::StrFormat(
      "set encoding utf8\n"
      "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
      "  set terminal pngcairo noenhanced size %d,%d font \"DejaVu Sans,11\"\n"
      "} else {\n"
      "  set terminal png noenhanced size %d,%d\n"
      "}\n",
      width, height, width, height);
}

std::string PanelLines(const LinePanel& panel) {
  std::string text = absl::StrCat(
      "set key ", panel.key, "\n", "set title ", GnuplotQuote(panel.title),
      "\n", "set xlabel ", GnuplotQuote(panel.xlabel), "\n", "set ylabel ",
      GnuplotQuote(panel.ylabel), "\n",
      panel.log_y ? "set logscale y\n" : "unset logscale y\n",
      panel.zero_axes ? "set xzeroaxis lt -1\nset yzeroaxis lt -1\n"
                      : "unset xzeroaxis\nunset yzeroaxis\n");
  std::vector<std::string> plots;
  for (const Series& series : panel.series) {
    plots.push_back(absl::StrCat(
        GnuplotQuote(series.csv), " skip 1 using ", series.x, ":", series.y,
        " with lines lw 2",
        series.dash_type == 1 ? "" : absl::StrCat(" dt ", series.dash_type),
        " title ", GnuplotQuote(series.title)));
  }
  absl::StrAppend(&text, "plot ", absl::StrJoin(plots, ", \\\n     "), "\n");
  return text;
}

}  // namespace

std::string GnuplotQuote(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

std::string LinePlotScript(const std::string& png,
                           const std::vector<LinePanel>& panels) {
  // A key outside the plot takes room from it; the picture widens instead.
  int width = 0;
  for (const LinePanel& panel : panels) {
    width += absl::StartsWith(panel.key, "outside") ? 800 : 640;
  }
  std::string script = absl::StrCat(
      "# Drawn by the chapter report; rerun in the report folder with\n",
      "#   gnuplot ", png.substr(0, png.size() - 4), ".gp\n",
      TerminalLines(width, 480), "set output ", GnuplotQuote(png), "\n",
      "set datafile separator \",\"\n", "set grid\n");
  if (panels.size() > 1) {
    absl::StrAppend(&script, "set multiplot layout 1,", panels.size(), "\n");
  }
  for (const LinePanel& panel : panels) {
    absl::StrAppend(&script, PanelLines(panel));
  }
  if (panels.size() > 1) absl::StrAppend(&script, "unset multiplot\n");
  return script;
}

std::string MontageScript(const std::string& png, const Montage& montage) {
  const int count = static_cast<int>(montage.panels.size());
  const int columns = std::max(1, std::min(montage.columns, count));
  const int rows = (count + columns - 1) / columns;
  std::string script = absl::StrCat(
      "# Drawn by the chapter report; rerun in the report folder with\n",
      "#   gnuplot ", png.substr(0, png.size() - 4), ".gp\n",
      TerminalLines(130 * columns, 150 * rows + 50), "set output ",
      GnuplotQuote(png), "\n", "set datafile separator \",\"\n",
      "unset key\nunset tics\nunset border\nunset colorbox\n",
      "set palette gray negative\n",
      absl::StrFormat("set cbrange [%.17g:%.17g]\n", montage.low, montage.high),
      "set size ratio -1\n",
      absl::StrFormat("set xrange [-0.5:%d.5]\n",
                      montage.columns_per_image - 1),
      // Reversed, so that row 0 of each matrix is at the top.
      absl::StrFormat("set yrange [%d.5:-0.5]\n", montage.rows_per_image - 1),
      "set multiplot layout ", rows, ",", columns, " title ",
      GnuplotQuote(montage.title), "\n");
  for (const MontagePanel& panel : montage.panels) {
    absl::StrAppend(&script, "set title ", GnuplotQuote(panel.title), "\n",
                    "plot ", GnuplotQuote(panel.csv), " index ", panel.index,
                    " matrix with image\n");
  }
  absl::StrAppend(&script, "unset multiplot\n");
  return script;
}

absl::Status RunGnuplot(const std::string& report_dir,
                        const std::string& script) {
  absl::Status ran = RunProgram(
      {"gnuplot", "-e", absl::StrCat("cd ", GnuplotQuote(report_dir)), script});
  if (absl::IsNotFound(ran)) {
    return absl::NotFoundError(
        absl::StrCat(ran.message(),
                     "; install Debian's gnuplot-nox (./kiln setup) to "
                     "draw ",
                     script));
  }
  return ran;
}

}  // namespace kiln
