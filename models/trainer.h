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
//
// Checkpoints. SaveCheckpoint writes the parameters and the number of epochs
// completed to a safetensors file (models/checkpoint/mlp_checkpoint.h), and
// LoadCheckpoint puts them back, so that training resumes where it stopped:
// since the loop has no other state (no shuffling, no momentum), N epochs,
// a save, a load and M more epochs give bit for bit the metrics of N + M
// epochs straight. Epoch numbers count from the first epoch of the saved
// run, and Train always runs `config.epochs` more. Notes that another
// program put in a loaded checkpoint's metadata (its origin, a licence) are
// written back by the next save; the trainer's own settings replace those
// of the run that saved it.
//
//   KILN_RETURN_IF_ERROR(trainer->LoadCheckpoint("model.safetensors"));
//   KILN_RETURN_IF_ERROR(trainer->Train(print_row));
//   KILN_RETURN_IF_ERROR(trainer->SaveCheckpoint("model.safetensors"));
//
// Guards. After every step the trainer checks the batch's loss and every
// parameter for NaN and infinity, and stops at the first bad one with
// kAborted, naming the epoch, the batch and each bad tensor with its first
// bad element. A run that diverges thus ends at the batch where it did,
// before anything is reported or saved from it; the parameters it leaves
// are the bad ones, for inspection, and SaveCheckpoint refuses to write
// them over a good checkpoint.

#ifndef KILN_MODELS_TRAINER_H_
#define KILN_MODELS_TRAINER_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
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
  // Wall-clock seconds of the epoch's training steps; the test evaluation
  // is not counted.
  double seconds = 0;
};

class Trainer {
 public:
  using EpochCallback = std::function<void(const EpochMetrics&)>;

  // Checks the configuration against the data (batch size, shapes, dtypes,
  // one init scheme per weight), draws the initial weights and compiles the
  // step and evaluation programs on `executor`. The data and the executor
  // must outlive the trainer.
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(
      const TrainerConfig& config, const TrainingData& data,
      Executor& executor);

  // Runs `config.epochs` more epochs, calling `on_evaluation` after each
  // evaluated epoch and `on_epoch`, if given, after every epoch (its test
  // accuracy is 0 on epochs that were not evaluated).
  absl::Status Train(const EpochCallback& on_evaluation,
                     const EpochCallback& on_epoch = nullptr);

  // The current parameters measured without training: the summed loss and
  // the accuracy over the whole training set from one forward pass, and the
  // test accuracy. `epoch` is the number of epochs completed.
  absl::StatusOr<EpochMetrics> Evaluate();

  // Writes the parameters, the architecture, the dtype, the epochs
  // completed, the training settings and the notes of the checkpoint last
  // loaded to `path`, atomically: a file already there is replaced whole
  // or, on error, left as it was.
  absl::Status SaveCheckpoint(const std::string& path) const;

  // Replaces the parameters with the checkpoint's and continues the epoch
  // count from it. The checkpoint must be of this trainer's architecture and
  // dtype; on any error the trainer is unchanged.
  absl::Status LoadCheckpoint(const std::string& path);

  // Replaces the value of the parameter called `name`, between epochs or
  // batches, for surgery on a model (pruning, perturbation, an injected
  // fault). Fails with kInvalidArgument if there is no such parameter or
  // `value` has another shape or dtype.
  absl::Status SetParameter(const std::string& name, Tensor value);

  // Epochs trained so far, counting those of a loaded checkpoint.
  int64_t epochs_completed() const { return epochs_completed_; }

  // The current parameters by name.
  FeedMap parameters() const;

  // Accuracy of the current parameters on the test set.
  absl::StatusOr<double> TestAccuracy();

 private:
  Trainer(const TrainerConfig& config, const TrainingData& data,
          Executor& executor)
      : config_(config), data_(data), executor_(executor) {}
  absl::Status Compile(Executor& executor);
  absl::Status InitializeParameters();
  void SliceBatches();
  absl::StatusOr<EpochMetrics> RunEpoch(int epoch);
  // The guard run after every step: fails if `loss` or any parameter holds
  // a value that is not finite.
  absl::Status CheckStepIsFinite(int epoch, size_t batch,
                                 const Tensor& loss) const;
  // Each parameter that holds NaN or infinity, described with its first bad
  // element.
  std::vector<std::string> NonFiniteParameters() const;

  TrainerConfig config_;
  const TrainingData& data_;
  Executor& executor_;
  std::unique_ptr<Mlp> step_model_, eval_model_;
  std::unique_ptr<Program> step_, evaluate_;
  // Compiled on the first Evaluate: loss and accuracy over the training set.
  std::unique_ptr<Program> evaluate_train_;
  int64_t epochs_completed_ = 0;
  // The metadata notes of the checkpoint last loaded, kept for the next
  // save.
  std::map<std::string, std::string, std::less<>> loaded_notes_;
  // The parameters, and during a step also the batch as "x" and "y".
  FeedMap feeds_;
  // The test set and a copy of the parameters, for evaluations.
  FeedMap test_feeds_;
  std::vector<Tensor> batch_inputs_, batch_targets_;
};

// The rows [begin, begin + count) of `tensor`, as a new tensor.
Tensor SliceRows(const Tensor& tensor, int64_t begin, int64_t count);

}  // namespace kiln

#endif  // KILN_MODELS_TRAINER_H_
