// Trainer: minibatch SGD for an Mlp on any executor.
//
// The loop is the chapter's: batches in data order without shuffling; each
// batch's loss and predictions come from its forward pass before its update;
// the epoch's loss is the sum over its samples of the per-sample loss, and
// its train accuracy counts those same in-training predictions. The test
// set is evaluated after every `eval_every`-th epoch (counting from 0) and
// after the last.
//
//   absl::StatusOr<std::unique_ptr<Trainer>> trainer =
//       Trainer::Create(config, data, interpreter);
//   absl::Status done = (*trainer)->Train([](const EpochMetrics& m) {
//     std::printf("%d %.3f\n", m.epoch, m.loss);
//   });

#ifndef KILN_MODELS_TRAINER_H_
#define KILN_MODELS_TRAINER_H_

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "ad/executor.h"
#include "models/initializer.h"
#include "models/mlp.h"
#include "ops/tensor.h"

namespace kiln {

struct TrainerConfig {
  MlpSpec spec;
  // One per weight matrix, in layer order.
  std::vector<InitScheme> init;
  uint32_t seed = 3;
  double learning_rate = 0.05;
  int64_t batch = 100;
  int epochs = 2000;
  int eval_every = 200;
  DType dtype = kF64;
  std::optional<double> clip_min;
};

// Samples as rows: images [N, inputs] and targets [N, outputs].
struct TrainingData {
  Tensor train_inputs, train_targets;
  Tensor test_inputs, test_targets;
};

struct EpochMetrics {
  int epoch = 0;
  // Sum over the epoch's samples of the per-sample loss.
  double loss = 0;
  double train_accuracy = 0;
  double test_accuracy = 0;
};

class Trainer {
 public:
  // Checks the configuration against the data (batch size, shapes, dtypes,
  // one init scheme per weight), draws the initial weights and compiles the
  // step and evaluation programs on `executor`. The data must outlive the
  // trainer.
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(
      const TrainerConfig& config, const TrainingData& data,
      Executor& executor);

  // Runs every epoch, calling `on_evaluation` after each evaluated epoch.
  absl::Status Train(
      const std::function<void(const EpochMetrics&)>& on_evaluation);

  // The current parameters by name.
  FeedMap parameters() const;

  // Accuracy of the current parameters on the test set.
  absl::StatusOr<double> TestAccuracy();

 private:
  Trainer(const TrainerConfig& config, const TrainingData& data)
      : config_(config), data_(data) {}
  absl::Status Compile(Executor& executor);
  absl::Status InitializeParameters();
  void SliceBatches();
  absl::StatusOr<EpochMetrics> RunEpoch(int epoch);

  TrainerConfig config_;
  const TrainingData& data_;
  std::unique_ptr<Mlp> step_model_, eval_model_;
  std::unique_ptr<Program> step_, evaluate_;
  // The parameters, and during a step also the batch as "x" and "y".
  FeedMap feeds_;
  std::vector<Tensor> batch_inputs_, batch_targets_;
};

// The rows [begin, begin + count) of `tensor`, as a new tensor.
Tensor SliceRows(const Tensor& tensor, int64_t begin, int64_t count);

}  // namespace kiln

#endif  // KILN_MODELS_TRAINER_H_
