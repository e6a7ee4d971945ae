// report.md, one section per function, in the order a reader meets them.

#include "models/chapter/report_markdown.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace kiln {
namespace {

std::string ResultsTable(const std::vector<RunResult>& results) {
  std::string text =
      "| experiment | data | architecture | final loss | train acc | "
      "test acc | training time | ms per epoch | with evaluations |\n"
      "|---|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const RunResult& r : results) {
    const EpochMetrics& last = r.epochs.back();
    absl::StrAppendFormat(
        &text,
        "| %s | %s | `%s` | %.3f | %.3f | %.4f | %.2f s | %.1f | %.1f s |\n",
        r.experiment.name, r.experiment.dataset, r.architecture, last.loss,
        last.train_accuracy, r.evaluations.back().test_accuracy,
        r.train_seconds, 1000 * r.train_seconds / r.epochs.size(),
        r.loop_seconds);
  }
  return text;
}

std::string Commands(const std::vector<RunResult>& results) {
  std::string text;
  for (const RunResult& r : results) {
    absl::StrAppend(&text, "- **", r.experiment.name,
                    "**: ", r.experiment.description, ".\n  `", r.command,
                    "`\n");
  }
  return text;
}

// A table of images with their captions above, `per_row` to a row.
std::string ImageTable(const std::string& name,
                       const std::vector<std::string>& captions,
                       size_t per_row) {
  std::string text;
  for (size_t begin = 0; begin < captions.size(); begin += per_row) {
    const size_t end = std::min(captions.size(), begin + per_row);
    std::vector<std::string> heads, images;
    for (size_t i = begin; i < end; ++i) {
      heads.push_back(captions[i]);
      images.push_back(
          absl::StrFormat("![%s](images/%s_%02d.png)", captions[i], name, i));
    }
    const std::vector<std::string> rules(end - begin, "---");
    absl::StrAppend(&text, "| ", absl::StrJoin(heads, " | "), " |\n|",
                    absl::StrJoin(rules, "|"), "|\n| ",
                    absl::StrJoin(images, " | "), " |\n\n");
  }
  return text;
}

std::string ActivationSection() {
  std::string text =
      "## Activation functions and their derivatives\n\n"
      "Each derivative is computed by Kiln's autodiff: the curve is a graph "
      "`y = act(x)` over 401 points, and `Grad(SumAll(y), {x})` gives "
      "`act'(x)` at every point, through the same backward rules training "
      "uses. Leaky relu is drawn with \u03b3 = 0.1 so that its slope below "
      "zero is visible; the experiments use \u03b3 = 0.01.\n\n";
  for (const char* name : {"sigmoid", "tanh", "relu", "leaky_relu"}) {
    absl::StrAppend(&text, "![", name, "](plots/activation_", name,
                    ".png)\n\n");
  }
  return text;
}

std::string DataSection(const ReportPictures& pictures) {
  return absl::StrCat(
      "## The data\n\n### The first 20 MNIST training digits\n\n"
      "![digits](plots/mnist_digits.png)\n\n"
      "The same digits as images of their own, each under its label:\n\n",
      ImageTable("mnist_digits", pictures.digit_labels, 10),
      "### The first 10 Fashion-MNIST training items\n\n"
      "![clothes](plots/fashion_items.png)\n\n",
      ImageTable("fashion_items", pictures.fashion_classes, 5));
}

std::string CurvesSection(const std::vector<RunResult>& results) {
  bool mnist = false, fashion = false, sigmoid = false, linear = false;
  for (const RunResult& r : results) {
    (r.experiment.dataset == "MNIST" ? mnist : fashion) = true;
    sigmoid |= r.experiment.name == "sigmoid";
    linear |= r.experiment.name == "no_activation";
  }
  std::string text =
      "## Training curves\n\nLoss (log scale) is summed over each epoch's "
      "training samples; test accuracy is measured on the whole test set "
      "at each evaluation.\n\n";
  if (mnist) {
    absl::StrAppend(&text, "### MNIST, overlaid\n\n",
                    "![MNIST curves](plots/curves_mnist.png)\n\n");
  }
  if (sigmoid && linear) {
    absl::StrAppend(&text, "### No activation against sigmoid\n\n",
                    "![no activation against sigmoid]"
                    "(plots/curves_no_activation_vs_sigmoid.png)\n\n");
  }
  if (fashion) {
    absl::StrAppend(&text, "### Fashion-MNIST, overlaid\n\n",
                    "![Fashion-MNIST curves](plots/curves_fashion.png)\n\n");
  }
  absl::StrAppend(&text, "### Each run\n\n");
  for (const RunResult& r : results) {
    absl::StrAppend(&text, "![", r.experiment.name, "](plots/curves_",
                    r.experiment.name, ".png)\n\n");
  }
  return text;
}

std::string WeightsSection() {
  std::vector<std::string> classes;
  for (int digit = 0; digit < 10; ++digit) {
    classes.push_back(absl::StrCat("class ", digit));
  }
  return absl::StrCat(
      "## What no_hidden_nonneg learned\n\n"
      "With no hidden layer, output k is a weighted sum of the pixels, and "
      "clipping keeps every weight at zero or above, so column k of the "
      "784\u00d710 weight matrix, drawn as a 28\u00d728 image, shows which "
      "pixels speak for digit k. Darker is a larger weight; all ten share "
      "one scale.\n\n![weights](plots/weights.png)\n\n",
      ImageTable("weights", classes, 5));
}

}  // namespace

std::string ReportMarkdown(const ChapterOptions& options,
                           const std::vector<RunResult>& results,
                           const ReportPictures& pictures) {
  const int eval_every = results.empty() ? 0 : results.front().eval_every;
  std::string text = absl::StrCat(
      "# Activation functions: the chapter's experiments on Kiln\n\n",
      "Every run trained ", options.epochs,
      " epochs of minibatch SGD on the first 1000 training images (batch "
      "100, learning rate 0.05, f64) on Kiln's JIT, in one process, and "
      "was tested on all 10000 test images every ",
      eval_every, " epochs and after the last.\n\n## Results\n\n",
      ResultsTable(results),
      "\nFinal loss is the last epoch's loss summed over its 1000 samples; "
      "train accuracy counts that epoch's predictions made during "
      "training; training time is the wall-clock time of the training "
      "steps, forward, backward and update, and ms per epoch divides it by "
      "the epochs; the last column adds the test evaluations. The machine "
      "may be shared, so times are what this run measured, not a "
      "benchmark.\n\nEach row reruns on its own with:\n\n",
      Commands(results), "\n", ActivationSection(), DataSection(pictures),
      CurvesSection(results));
  if (pictures.has_weights) absl::StrAppend(&text, WeightsSection());
  absl::StrAppend(
      &text,
      "## Files\n\n`data/` holds the CSV file behind every plot, "
      "`plots/` the gnuplot scripts and the PNGs they drew (rerun one with "
      "`gnuplot plots/NAME.gp` in this folder), and `images/` the PNGs "
      "written with libpng.\n");
  return text;
}

}  // namespace kiln
