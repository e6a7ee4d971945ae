// The runs of the chapter on activation functions: its three experiments
// and the exercises that follow them, each written as flags of the mnist
// command so that any row of the report can be rerun by hand.
//
//   for (const ChapterExperiment& experiment : ChapterExperiments()) {
//     // ./kiln train <experiment.flags...> reproduces the run
//   }

#ifndef KILN_MODELS_CHAPTER_EXPERIMENTS_H_
#define KILN_MODELS_CHAPTER_EXPERIMENTS_H_

#include <string>
#include <vector>

namespace kiln {

struct ChapterExperiment {
  // Short and file-name safe: "sigmoid", "fashion_relu".
  std::string name;
  // What the run shows, for the report.
  std::string description;
  // "MNIST" or "Fashion-MNIST".
  std::string dataset;
  // The mnist command's flags, without --epochs and --data_dir.
  std::vector<std::string> flags;
};

// In report order: the experiments, the MNIST exercises, then Fashion-MNIST
// with each hidden activation.
std::vector<ChapterExperiment> ChapterExperiments();

}  // namespace kiln

#endif  // KILN_MODELS_CHAPTER_EXPERIMENTS_H_
