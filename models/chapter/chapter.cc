// The chapter report in order: activation plots, sample images, the
// training runs with their data and curves, the overlays, the weights of
// no_hidden_nonneg, and report.md last, once every picture exists.

#include "models/chapter/chapter.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ad/interpreter.h"
#include "models/chapter/activation_curves.h"
#include "models/chapter/gnuplot.h"
#include "models/chapter/png.h"
#include "models/chapter/report_markdown.h"
#include "ops/base/atomic_file.h"
#include "models/data/mnist.h"
#include "models/progress.h"
#include "models/training_options.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

absl::Status WriteText(const std::string& dir, const std::string& relative,
                       const std::string& text) {
  return WriteFileAtomically(absl::StrCat(dir, "/", relative), text);
}

// Writes plots/NAME.gp and runs it, drawing plots/NAME.png.
absl::Status Plot(const std::string& dir, const std::string& name,
                  const std::string& script) {
  const std::string relative = absl::StrCat("plots/", name, ".gp");
  KILN_RETURN_IF_ERROR(WriteText(dir, relative, script));
  return RunGnuplot(dir, relative);
}

// ---- Activation functions ------------------------------------------------

struct ActivationPlot {
  const char* name;
  Activation activation;
  double gamma;
  const char* title;
};

// Leaky relu is drawn with γ = 0.1 rather than the experiments' 0.01, so
// that the slope below zero is visible at this scale.
constexpr ActivationPlot kActivationPlots[] = {
    {"sigmoid", Activation::kSigmoid, 0, "sigmoid"},
    {"tanh", Activation::kTanh, 0, "tanh"},
    {"relu", Activation::kRelu, 0, "relu"},
    {"leaky_relu", Activation::kLeakyRelu, 0.1, "leaky relu, \u03b3 = 0.1"},
};

absl::Status WriteActivationPlot(const std::string& dir,
                                 const ActivationPlot& plot,
                                 Executor& executor) {
  KILN_ASSIGN_OR_RETURN(
      ActivationCurve curve,
      SampleActivation(plot.activation, plot.gamma, {-4, 4, 401}, executor));
  std::string csv = "x,value,derivative\n";
  for (size_t i = 0; i < curve.x.size(); ++i) {
    absl::StrAppendFormat(&csv, "%.17g,%.17g,%.17g\n", curve.x[i],
                          curve.value[i], curve.derivative[i]);
  }
  const std::string data = absl::StrCat("data/activation_", plot.name, ".csv");
  KILN_RETURN_IF_ERROR(WriteText(dir, data, csv));
  const std::string f = plot.activation == Activation::kLeakyRelu
                            ? "leaky relu"
                            : std::string(plot.name);
  LinePanel panel{
      .title = absl::StrCat(plot.title,
                            ": the function and its derivative from Kiln's "
                            "autodiff"),
      .xlabel = "x",
      .ylabel = "y",
      .series = {{data, 1, 2, absl::StrCat(f, "(x)")},
                 {data, 1, 3, absl::StrCat(f, "'(x), by Grad"),
                  /*dash_type=*/2}},
      .zero_axes = true};
  return Plot(
      dir, absl::StrCat("activation_", plot.name),
      LinePlotScript(absl::StrCat("plots/activation_", plot.name, ".png"),
                     {panel}));
}

absl::Status WriteActivationPlots(const std::string& dir) {
  Interpreter interpreter;
  for (const ActivationPlot& plot : kActivationPlots) {
    KILN_RETURN_IF_ERROR(WriteActivationPlot(dir, plot, interpreter));
  }
  return absl::OkStatus();
}

// ---- Images --------------------------------------------------------------

constexpr const char* kFashionClasses[] = {
    "t-shirt", "trouser", "pullover", "dress", "coat",
    "sandal",  "shirt",   "sneaker",  "bag",   "ankle boot",
};

// Matrices as CSV blocks separated by two blank lines, gnuplot's "index".
std::string MatrixCsv(const std::vector<GrayImage>& images) {
  std::string csv;
  for (const GrayImage& image : images) {
    for (int64_t row = 0; row < image.height; ++row) {
      std::vector<std::string> cells;
      for (int64_t col = 0; col < image.width; ++col) {
        cells.push_back(
            absl::StrFormat("%.6g", image.values[row * image.width + col]));
      }
      absl::StrAppend(&csv, absl::StrJoin(cells, ","), "\n");
    }
    csv += "\n\n";
  }
  return csv;
}

// Writes images/NAME_00.png ..., data/NAME.csv and the montage plot NAME.
absl::Status WriteImageSet(const std::string& dir, const std::string& name,
                           const std::vector<GrayImage>& images,
                           const std::vector<std::string>& titles,
                           Montage montage) {
  for (size_t i = 0; i < images.size(); ++i) {
    KILN_RETURN_IF_ERROR(
        WriteGrayPng(absl::StrFormat("%s/images/%s_%02d.png", dir, name, i),
                     images[i], {.scale = 4}));
  }
  const std::string data = absl::StrCat("data/", name, ".csv");
  KILN_RETURN_IF_ERROR(WriteText(dir, data, MatrixCsv(images)));
  for (size_t i = 0; i < images.size(); ++i) {
    montage.panels.push_back({data, static_cast<int>(i), titles[i]});
  }
  return Plot(dir, name,
              MontageScript(absl::StrCat("plots/", name, ".png"), montage));
}

// The first `count` training images of a data set and their labels.
absl::StatusOr<Dataset> FirstImages(const std::string& data_root,
                                    const std::string& name, int count) {
  KILN_ASSIGN_OR_RETURN(std::string dir, DatasetDirectory(data_root, name));
  return LoadDataset(dir, Split::kTrain, count, kF64);
}

std::vector<GrayImage> ImagesOf(const Dataset& dataset) {
  std::vector<GrayImage> images;
  const std::vector<double> values = dataset.images.ToDoubles();
  const int64_t size = dataset.image_rows * dataset.image_cols;
  for (size_t i = 0; i < dataset.labels.size(); ++i) {
    images.push_back({dataset.image_cols, dataset.image_rows,
                      std::vector<double>(values.begin() + i * size,
                                          values.begin() + (i + 1) * size)});
  }
  return images;
}

// Draws the first digits and clothes, and records what they are.
absl::Status WriteSampleImages(const std::string& dir,
                               const std::string& data_root,
                               ReportPictures& pictures) {
  KILN_ASSIGN_OR_RETURN(Dataset digits, FirstImages(data_root, "mnist", 20));
  for (uint8_t label : digits.labels) {
    pictures.digit_labels.push_back(absl::StrCat(label));
  }
  KILN_RETURN_IF_ERROR(WriteImageSet(
      dir, "mnist_digits", ImagesOf(digits), pictures.digit_labels,
      {.title = "The first 20 MNIST training digits and their labels"}));

  KILN_ASSIGN_OR_RETURN(Dataset clothes, FirstImages(data_root, "fashion", 10));
  for (uint8_t label : clothes.labels) {
    pictures.fashion_classes.push_back(kFashionClasses[label]);
  }
  return WriteImageSet(
      dir, "fashion_items", ImagesOf(clothes), pictures.fashion_classes,
      {.title = "The first 10 Fashion-MNIST training items and their classes",
       .columns = 5});
}

// The ten columns of no_hidden_nonneg's 784×10 weights as 28×28 images,
// on one scale from 0 to the largest weight.
absl::Status WriteWeightImages(const std::string& dir, const Tensor& weights) {
  const std::vector<double> values = weights.ToDoubles();
  const double largest = *std::max_element(values.begin(), values.end());
  const double scale = largest > 0 ? largest : 1;
  std::vector<GrayImage> images(10, GrayImage{28, 28, {}});
  std::vector<std::string> titles;
  for (int digit = 0; digit < 10; ++digit) {
    for (int pixel = 0; pixel < 784; ++pixel) {
      images[digit].values.push_back(values[pixel * 10 + digit] / scale);
    }
    titles.push_back(absl::StrCat("class ", digit));
  }
  return WriteImageSet(
      dir, "weights", images, titles,
      {.title = absl::StrFormat("no_hidden_nonneg: the weights into each "
                                "output, black = %.3g",
                                largest),
       .columns = 5});
}

// ---- Training runs -------------------------------------------------------

// Data sets by directory, loaded once for every run that uses them.
class DataCache {
 public:
  absl::StatusOr<const TrainingData*> Get(const TrainingOptions& options) {
    const std::string key =
        absl::StrCat(options.data_dir, "|", options.train_limit, "|",
                     DTypeName(options.config.dtype));
    auto found = cache_.find(key);
    if (found != cache_.end()) return found->second.get();
    KILN_ASSIGN_OR_RETURN(TrainingData data, LoadTrainingData(options));
    auto& slot = cache_[key];
    slot = std::make_unique<TrainingData>(std::move(data));
    return slot.get();
  }

 private:
  std::map<std::string, std::unique_ptr<TrainingData>> cache_;
};

struct RunContext {
  const ChapterOptions& options;
  int eval_every;
  DataCache& data;
  std::unique_ptr<Executor>& executor;
  int index;
  int total;
};

std::vector<std::string> RunFlags(const ChapterExperiment& experiment,
                                  const RunContext& context) {
  std::vector<std::string> flags = experiment.flags;
  flags.push_back(absl::StrCat("--epochs=", context.options.epochs));
  flags.push_back(absl::StrCat("--eval_every=", context.eval_every));
  return flags;
}

absl::StatusOr<RunResult> RunExperiment(const ChapterExperiment& experiment,
                                        RunContext& context) {
  std::vector<std::string> flags = RunFlags(experiment, context);
  RunResult result{
      .experiment = experiment,
      .command = absl::StrCat("./kiln train ", absl::StrJoin(flags, " ")),
      .eval_every = context.eval_every};
  flags.push_back(absl::StrCat("--data_dir=", context.options.data_root));
  KILN_ASSIGN_OR_RETURN(TrainingOptions options,
                        TrainingOptionsFromArgs(flags));
  result.architecture = ArchitectureString(options.config.spec);
  KILN_ASSIGN_OR_RETURN(const TrainingData* data, context.data.Get(options));
  if (context.executor == nullptr) {
    KILN_ASSIGN_OR_RETURN(context.executor, MakeExecutor(options));
  }

  Clock::time_point start = Clock::now();
  KILN_ASSIGN_OR_RETURN(
      std::unique_ptr<Trainer> trainer,
      Trainer::Create(options.config, *data, *context.executor));
  result.compile_seconds = SecondsSince(start);

  ProgressLine progress(
      options.config.epochs,
      !context.options.quiet && ProgressLine::StderrIsTerminal(),
      absl::StrCat(experiment.name, " ", context.index, "/", context.total));
  start = Clock::now();
  KILN_RETURN_IF_ERROR(trainer->Train(
      [&](const EpochMetrics& m) { result.evaluations.push_back(m); },
      [&](const EpochMetrics& m) {
        result.epochs.push_back(m);
        result.train_seconds += m.seconds;
        progress.Update(m.epoch + 1, m.loss);
      }));
  result.loop_seconds = SecondsSince(start);
  progress.Clear();
  result.parameters = trainer->parameters();
  return result;
}

absl::Status WriteRunData(const std::string& dir, const RunResult& result) {
  std::string epochs = "epoch,loss,train_acc\n";
  for (const EpochMetrics& m : result.epochs) {
    absl::StrAppendFormat(&epochs, "%d,%.17g,%.17g\n", m.epoch, m.loss,
                          m.train_accuracy);
  }
  std::string evaluations = "epoch,loss,train_acc,test_acc\n";
  for (const EpochMetrics& m : result.evaluations) {
    absl::StrAppendFormat(&evaluations, "%d,%.17g,%.17g,%.17g\n", m.epoch,
                          m.loss, m.train_accuracy, m.test_accuracy);
  }
  const std::string& name = result.experiment.name;
  KILN_RETURN_IF_ERROR(
      WriteText(dir, absl::StrCat("data/", name, "_epochs.csv"), epochs));
  return WriteText(dir, absl::StrCat("data/", name, "_evaluations.csv"),
                   evaluations);
}

// Loss and test accuracy of `runs`, side by side, as plots/NAME.png.
absl::Status WriteCurves(const std::string& dir, const std::string& name,
                         const std::string& title,
                         const std::vector<const RunResult*>& runs) {
  if (runs.empty()) return absl::OkStatus();
  LinePanel loss{.title = absl::StrCat(title, ": training loss"),
                 .xlabel = "epoch",
                 .ylabel = "loss, summed over the epoch's samples",
                 .log_y = true,
                 .key = "outside right top box"};
  LinePanel accuracy{.title = absl::StrCat(title, ": test accuracy"),
                     .xlabel = "epoch",
                     .ylabel = "fraction of test images right",
                     .key = "outside right top box"};
  constexpr int kDashTypes = 5;
  for (size_t i = 0; i < runs.size(); ++i) {
    const std::string& run_name = runs[i]->experiment.name;
    const int dash_type = 1 + static_cast<int>(i % kDashTypes);
    loss.series.push_back({absl::StrCat("data/", run_name, "_epochs.csv"), 1, 2,
                           run_name, dash_type});
    accuracy.series.push_back(
        {absl::StrCat("data/", run_name, "_evaluations.csv"), 1, 4, run_name,
         dash_type});
  }
  return Plot(
      dir, name,
      LinePlotScript(absl::StrCat("plots/", name, ".png"), {loss, accuracy}));
}

absl::Status WriteOverlays(const std::string& dir,
                           const std::vector<RunResult>& results) {
  std::vector<const RunResult*> mnist, fashion, linear_vs_sigmoid;
  for (const RunResult& result : results) {
    (result.experiment.dataset == "MNIST" ? mnist : fashion).push_back(&result);
    if (result.experiment.name == "sigmoid" ||
        result.experiment.name == "no_activation") {
      linear_vs_sigmoid.push_back(&result);
    }
  }
  KILN_RETURN_IF_ERROR(WriteCurves(dir, "curves_mnist", "MNIST", mnist));
  KILN_RETURN_IF_ERROR(
      WriteCurves(dir, "curves_fashion", "Fashion-MNIST", fashion));
  if (linear_vs_sigmoid.size() < 2) return absl::OkStatus();
  return WriteCurves(dir, "curves_no_activation_vs_sigmoid",
                     "no activation against sigmoid", linear_vs_sigmoid);
}

// ---- The whole report ----------------------------------------------------

absl::StatusOr<std::vector<ChapterExperiment>> SelectExperiments(
    const ChapterOptions& options) {
  std::vector<ChapterExperiment> all = ChapterExperiments();
  if (options.only.empty()) return all;
  std::vector<ChapterExperiment> selected;
  std::vector<std::string> known;
  for (const ChapterExperiment& experiment : all) {
    known.push_back(experiment.name);
  }
  for (const std::string& name : options.only) {
    auto found = std::find(known.begin(), known.end(), name);
    if (found == known.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown experiment '", name, "'; expected one of ",
                       absl::StrJoin(known, ", ")));
    }
    selected.push_back(all[found - known.begin()]);
  }
  return selected;
}

absl::Status MakeFolders(const std::string& dir) {
  for (const char* sub : {"data", "plots", "images"}) {
    std::error_code error;
    std::filesystem::create_directories(absl::StrCat(dir, "/", sub), error);
    if (error) {
      return absl::UnavailableError(
          absl::StrCat("cannot create ", dir, "/", sub, ": ", error.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status RunAll(const ChapterOptions& options,
                    const std::vector<ChapterExperiment>& experiments,
                    const std::function<void(const RunResult&)>& on_run,
                    std::vector<RunResult>& results) {
  DataCache data;
  std::unique_ptr<Executor> executor;
  const int eval_every = options.eval_every > 0
                             ? options.eval_every
                             : std::max(1, options.epochs / 25);
  for (size_t i = 0; i < experiments.size(); ++i) {
    RunContext context{options,
                       eval_every,
                       data,
                       executor,
                       static_cast<int>(i + 1),
                       static_cast<int>(experiments.size())};
    KILN_ASSIGN_OR_RETURN(RunResult result,
                          RunExperiment(experiments[i], context));
    KILN_RETURN_IF_ERROR(WriteRunData(options.out_dir, result));
    KILN_RETURN_IF_ERROR(WriteCurves(
        options.out_dir, absl::StrCat("curves_", result.experiment.name),
        result.experiment.name, {&result}));
    if (on_run) on_run(result);
    results.push_back(std::move(result));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteChapterReport(
    const ChapterOptions& options,
    const std::function<void(const RunResult&)>& on_run) {
  if (options.epochs < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the chapter needs at least one epoch, got ", options.epochs));
  }
  KILN_ASSIGN_OR_RETURN(std::vector<ChapterExperiment> experiments,
                        SelectExperiments(options));
  const std::string& dir = options.out_dir;
  KILN_RETURN_IF_ERROR(MakeFolders(dir));
  KILN_RETURN_IF_ERROR(WriteActivationPlots(dir));
  ReportPictures pictures;
  KILN_RETURN_IF_ERROR(WriteSampleImages(dir, options.data_root, pictures));

  std::vector<RunResult> results;
  KILN_RETURN_IF_ERROR(RunAll(options, experiments, on_run, results));
  KILN_RETURN_IF_ERROR(WriteOverlays(dir, results));
  for (const RunResult& result : results) {
    if (result.experiment.name != "no_hidden_nonneg") continue;
    KILN_RETURN_IF_ERROR(
        WriteWeightImages(dir, result.parameters.at("output.weight")));
    pictures.has_weights = true;
  }
  return WriteText(dir, "report.md",
                   ReportMarkdown(options, results, pictures));
}

}  // namespace kiln
