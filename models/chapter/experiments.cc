// The table of the chapter's runs as mnist flags.

#include "models/chapter/experiments.h"

namespace kiln {

std::vector<ChapterExperiment> ChapterExperiments() {
  // The exercises start from the experiment they vary, so that one flag
  // changes at a time: sigmoid's seed and ±0.5 weights for activations
  // compared with sigmoid, leaky relu's small weights for relu.
  std::vector<ChapterExperiment> experiments = {
      {"sigmoid",
       "784-200-10 with sigmoid: the chapter's main experiment",
       "MNIST",
       {"--experiment=sigmoid"}},
      {"leaky_relu",
       "784-200-10 with leaky relu, small initial weights",
       "MNIST",
       {"--experiment=leaky_relu"}},
      {"no_hidden_nonneg",
       "784-10, no hidden layer, weights clipped at zero after each update",
       "MNIST",
       {"--experiment=no_hidden_nonneg"}},
      {"no_activation",
       "exercise: the sigmoid run with no activation, a linear model",
       "MNIST",
       {"--experiment=sigmoid", "--activation=none"}},
      {"tanh",
       "exercise: the sigmoid run with tanh",
       "MNIST",
       {"--experiment=sigmoid", "--activation=tanh"}},
      {"relu",
       "exercise: the leaky relu run with plain relu",
       "MNIST",
       {"--experiment=leaky_relu", "--activation=relu"}},
      {"two_hidden",
       "exercise: two hidden layers, 784-200-100-10, relu then tanh",
       "MNIST",
       {"--experiment=leaky_relu", "--hidden=200,100", "--activation=relu,tanh",
        "--init=he,xavier,xavier"}},
  };
  // Fashion-MNIST with every hidden activation, each from the preset the
  // MNIST run of that activation used.
  struct FashionRun {
    const char* activation;
    const char* in_words;
    const char* preset;
  };
  const FashionRun fashion[] = {
      {"none", "no activation", "sigmoid"},
      {"sigmoid", "sigmoid", "sigmoid"},
      {"tanh", "tanh", "sigmoid"},
      {"relu", "relu", "leaky_relu"},
      {"leaky_relu", "leaky relu", "leaky_relu"},
  };
  for (const FashionRun& run : fashion) {
    experiments.push_back(
        {std::string("fashion_") + run.activation,
         std::string("exercise: Fashion-MNIST, 784-200-10 with ") +
             run.in_words,
         "Fashion-MNIST",
         {std::string("--experiment=") + run.preset, "--dataset=fashion",
          std::string("--activation=") + run.activation}});
  }
  return experiments;
}

}  // namespace kiln
