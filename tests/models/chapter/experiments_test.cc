// Every run of the chapter is a valid mnist command line: the flags parse,
// the names are unique, and the exercises vary what they say they vary.

#include "models/chapter/experiments.h"

#include <set>

#include "gtest/gtest.h"
#include "models/training_options.h"

namespace kiln {
namespace {

TEST(ChapterExperimentsTest, EveryRunParsesAsMnistFlags) {
  std::set<std::string> names;
  for (const ChapterExperiment& experiment : ChapterExperiments()) {
    EXPECT_TRUE(names.insert(experiment.name).second) << experiment.name;
    absl::StatusOr<TrainingOptions> options =
        TrainingOptionsFromArgs(experiment.flags);
    EXPECT_TRUE(options.ok()) << experiment.name << ": " << options.status();
  }
  // Three experiments, four MNIST exercises, five Fashion-MNIST runs.
  EXPECT_EQ(names.size(), 12u);
}

TEST(ChapterExperimentsTest, ExercisesChangeTheActivationOfTheirPreset) {
  std::map<std::string, MlpSpec> specs;
  for (const ChapterExperiment& experiment : ChapterExperiments()) {
    specs[experiment.name] =
        TrainingOptionsFromArgs(experiment.flags)->config.spec;
  }
  EXPECT_EQ(ArchitectureString(specs["no_activation"]),
            "784-200:none-10:softmax_cross_entropy");
  EXPECT_EQ(ArchitectureString(specs["two_hidden"]),
            "784-200:relu-100:tanh-10:softmax_cross_entropy");
  EXPECT_EQ(ArchitectureString(specs["no_hidden_nonneg"]),
            "784-10:softmax_cross_entropy");
  EXPECT_EQ(ArchitectureString(specs["fashion_leaky_relu"]),
            "784-200:leaky_relu(0.01)-10:softmax_cross_entropy");
}

TEST(ChapterExperimentsTest, FashionRunsReadFashionMnist) {
  int fashion = 0;
  for (const ChapterExperiment& experiment : ChapterExperiments()) {
    TrainingOptions options = *TrainingOptionsFromArgs(experiment.flags);
    const bool is_fashion = experiment.dataset == "Fashion-MNIST";
    EXPECT_EQ(options.dataset, is_fashion ? "fashion" : "mnist")
        << experiment.name;
    fashion += is_fashion;
  }
  EXPECT_EQ(fashion, 5);
}

}  // namespace
}  // namespace kiln
