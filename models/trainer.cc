#include "models/trainer.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/checkpoint/mlp_checkpoint.h"
#include "ops/base/status_macros.h"
#include "ops/numerics.h"

namespace kiln {
namespace {

absl::Status Invalid(auto&&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(parts...));
}

absl::Status ValidateConfig(const TrainerConfig& config,
                            const TrainingData& data) {
  const int64_t samples = data.train_inputs.shape()[0];
  if (config.batch <= 0 || config.batch > samples) {
    return Invalid("batch ", config.batch, " must be between 1 and the ",
                   samples, " training samples");
  }
  if (samples % config.batch != 0) {
    return Invalid("the ", samples,
                   " training samples do not split into whole batches of ",
                   config.batch);
  }
  if (!(config.learning_rate > 0)) {
    return Invalid("learning rate must be positive, got ",
                   config.learning_rate);
  }
  if (config.epochs < 0 || config.eval_every <= 0) {
    return Invalid("epochs must be non-negative and eval_every positive");
  }
  const size_t weights = config.spec.hidden.size() + 1;
  if (config.init.size() != weights) {
    return Invalid("the model has ", weights, " weight matrices but ",
                   config.init.size(), " init schemes were given");
  }
  for (const Tensor* tensor : {&data.train_inputs, &data.train_targets,
                               &data.test_inputs, &data.test_targets}) {
    if (tensor->dtype() != config.dtype || tensor->rank() != 2) {
      return Invalid("data must be ", DTypeName(config.dtype),
                     " matrices, got ", DTypeName(tensor->dtype()),
                     ShapeToString(tensor->shape()));
    }
  }
  return absl::OkStatus();
}

// Rounds a fraction of `rows` back to the count it was computed from.
int64_t CountOf(double fraction, int64_t rows) {
  return std::llround(fraction * rows);
}

}  // namespace

Tensor SliceRows(const Tensor& tensor, int64_t begin, int64_t count) {
  Shape shape = tensor.shape();
  KILN_CHECK(begin >= 0 && count > 0 && begin + count <= shape[0])
      << "rows " << begin << "+" << count << " of " << shape[0];
  shape[0] = count;
  Tensor slice(tensor.dtype(), shape);
  const size_t row_bytes = tensor.num_bytes() / tensor.shape()[0];
  std::memcpy(slice.raw_data(),
              static_cast<const char*>(tensor.raw_data()) + begin * row_bytes,
              count * row_bytes);
  return slice;
}

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::Create(
    const TrainerConfig& config, const TrainingData& data, Executor& executor) {
  KILN_RETURN_IF_ERROR(ValidateConfig(config, data));
  std::unique_ptr<Trainer> trainer(new Trainer(config, data, executor));
  KILN_RETURN_IF_ERROR(trainer->Compile(executor));
  KILN_RETURN_IF_ERROR(trainer->InitializeParameters());
  trainer->SliceBatches();
  return trainer;
}

absl::Status Trainer::Compile(Executor& executor) {
  // The step graph outputs the batch's loss and accuracy and updates every
  // parameter in place; the evaluation graph outputs the accuracy over the
  // test set.
  KILN_ASSIGN_OR_RETURN(step_model_,
                        Mlp::Build(config_.spec, config_.batch, config_.dtype));
  const std::vector<Node> updated =
      step_model_->AddSgdStep({config_.learning_rate, config_.clip_min});
  std::vector<ParameterUpdate> updates;
  for (size_t i = 0; i < updated.size(); ++i) {
    updates.push_back({step_model_->parameters()[i], updated[i]});
  }
  KILN_ASSIGN_OR_RETURN(
      step_, executor.Compile(step_model_->graph(),
                              {step_model_->loss(), step_model_->accuracy()},
                              updates));

  KILN_ASSIGN_OR_RETURN(
      eval_model_,
      Mlp::Build(config_.spec, data_.test_inputs.shape()[0], config_.dtype));
  KILN_ASSIGN_OR_RETURN(evaluate_, executor.Compile(eval_model_->graph(),
                                                    {eval_model_->accuracy()}));
  return absl::OkStatus();
}

absl::Status Trainer::InitializeParameters() {
  NumpyRandom random(config_.seed);
  size_t weight_index = 0;
  for (const ParameterInfo& info : MlpParameters(config_.spec)) {
    feeds_[info.name] =
        info.is_weight
            ? InitialWeights(random, config_.init[weight_index++],
                             info.shape[0], info.shape[1], config_.dtype)
            : Tensor(config_.dtype, info.shape);
  }
  return absl::OkStatus();
}

void Trainer::SliceBatches() {
  const int64_t samples = data_.train_inputs.shape()[0];
  for (int64_t begin = 0; begin < samples; begin += config_.batch) {
    batch_inputs_.push_back(
        SliceRows(data_.train_inputs, begin, config_.batch));
    batch_targets_.push_back(
        SliceRows(data_.train_targets, begin, config_.batch));
  }
}

absl::StatusOr<EpochMetrics> Trainer::RunEpoch(int epoch) {
  EpochMetrics metrics;
  metrics.epoch = epoch;
  int64_t correct = 0;
  std::vector<Tensor> outputs;
  for (size_t b = 0; b < batch_inputs_.size(); ++b) {
    // Lend the batch to the feeds for this step; it comes back afterwards
    // whatever happens.
    feeds_["x"] = std::move(batch_inputs_[b]);
    feeds_["y"] = std::move(batch_targets_[b]);
    absl::Status ran = step_->Run(feeds_, outputs);
    batch_inputs_[b] = std::move(feeds_["x"]);
    batch_targets_[b] = std::move(feeds_["y"]);
    if (!ran.ok()) {
      return absl::Status(ran.code(), absl::StrCat("epoch ", epoch, ", batch ",
                                                   b, ": ", ran.message()));
    }
    KILN_RETURN_IF_ERROR(CheckStepIsFinite(epoch, b, outputs[0]));
    metrics.loss += outputs[0].At(0) * config_.batch;
    correct += CountOf(outputs[1].At(0), config_.batch);
  }
  metrics.train_accuracy =
      static_cast<double>(correct) / data_.train_inputs.shape()[0];
  return metrics;
}

std::vector<std::string> Trainer::NonFiniteParameters() const {
  std::vector<std::string> bad;
  for (const ParameterInfo& info : MlpParameters(config_.spec)) {
    const Tensor& parameter = feeds_.at(info.name);
    if (std::optional<NonFiniteValue> value = FindNonFinite(parameter)) {
      bad.push_back(absl::StrCat("parameter '", info.name, "' holds ",
                                 DescribeNonFinite(*value, parameter.shape())));
    }
  }
  return bad;
}

absl::Status Trainer::CheckStepIsFinite(int epoch, size_t batch,
                                        const Tensor& loss) const {
  std::vector<std::string> bad;
  if (std::optional<NonFiniteValue> value = FindNonFinite(loss)) {
    bad.push_back(absl::StrCat("the loss is ", value->value));
  }
  for (std::string& parameter : NonFiniteParameters()) {
    bad.push_back(std::move(parameter));
  }
  if (bad.empty()) return absl::OkStatus();
  return absl::AbortedError(
      absl::StrCat("training stopped at epoch ", epoch, ", batch ", batch,
                   " of ", batch_inputs_.size(),
                   " (both counted from 0): ", absl::StrJoin(bad, "; ")));
}

absl::Status Trainer::SetParameter(const std::string& name, Tensor value) {
  auto found = feeds_.find(name);
  if (name == "x" || name == "y" || found == feeds_.end()) {
    return Invalid("the model has no parameter '", name, "'");
  }
  if (value.dtype() != found->second.dtype() ||
      value.shape() != found->second.shape()) {
    return Invalid("parameter '", name, "' is ",
                   DTypeName(found->second.dtype()),
                   ShapeToString(found->second.shape()), ", not ",
                   DTypeName(value.dtype()), ShapeToString(value.shape()));
  }
  found->second = std::move(value);
  return absl::OkStatus();
}

FeedMap Trainer::parameters() const {
  FeedMap parameters;
  for (const ParameterInfo& info : MlpParameters(config_.spec)) {
    parameters[info.name] = feeds_.at(info.name);
  }
  return parameters;
}

absl::StatusOr<double> Trainer::TestAccuracy() {
  // The test set is copied into the evaluation feeds once; each evaluation
  // copies only the parameters, which are far smaller.
  if (!test_feeds_.contains("x")) {
    test_feeds_["x"] = data_.test_inputs;
    test_feeds_["y"] = data_.test_targets;
  }
  for (const ParameterInfo& info : MlpParameters(config_.spec)) {
    test_feeds_[info.name] = feeds_.at(info.name);
  }
  KILN_ASSIGN_OR_RETURN(std::vector<Tensor> outputs,
                        evaluate_->Run(test_feeds_));
  const int64_t rows = data_.test_inputs.shape()[0];
  return static_cast<double>(CountOf(outputs[0].At(0), rows)) / rows;
}

absl::Status Trainer::Train(const EpochCallback& on_evaluation,
                            const EpochCallback& on_epoch) {
  const int64_t end = epochs_completed_ + config_.epochs;
  while (epochs_completed_ < end) {
    const int epoch = static_cast<int>(epochs_completed_);
    const auto start = std::chrono::steady_clock::now();
    KILN_ASSIGN_OR_RETURN(EpochMetrics metrics, RunEpoch(epoch));
    metrics.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    ++epochs_completed_;
    if (epoch % config_.eval_every == 0 || epochs_completed_ == end) {
      absl::StatusOr<double> accuracy = TestAccuracy();
      if (!accuracy.ok()) {
        return absl::Status(accuracy.status().code(),
                            absl::StrCat("testing after epoch ", epoch, ": ",
                                         accuracy.status().message()));
      }
      metrics.test_accuracy = *accuracy;
      on_evaluation(metrics);
    }
    if (on_epoch) on_epoch(metrics);
  }
  return absl::OkStatus();
}

absl::StatusOr<EpochMetrics> Trainer::Evaluate() {
  const int64_t rows = data_.train_inputs.shape()[0];
  if (evaluate_train_ == nullptr) {
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<Mlp> model,
                          Mlp::Build(config_.spec, rows, config_.dtype));
    KILN_ASSIGN_OR_RETURN(
        evaluate_train_,
        executor_.Compile(model->graph(), {model->loss(), model->accuracy()}));
  }
  FeedMap feeds = parameters();
  feeds["x"] = data_.train_inputs;
  feeds["y"] = data_.train_targets;
  KILN_ASSIGN_OR_RETURN(std::vector<Tensor> outputs,
                        evaluate_train_->Run(feeds));
  EpochMetrics metrics;
  metrics.epoch = static_cast<int>(epochs_completed_);
  metrics.loss = outputs[0].At(0) * rows;
  metrics.train_accuracy =
      static_cast<double>(CountOf(outputs[1].At(0), rows)) / rows;
  KILN_ASSIGN_OR_RETURN(metrics.test_accuracy, TestAccuracy());
  return metrics;
}

absl::Status Trainer::SaveCheckpoint(const std::string& path) const {
  // A diverged model must not replace a good checkpoint.
  if (std::vector<std::string> bad = NonFiniteParameters(); !bad.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("not saving ", path, ": ", absl::StrJoin(bad, "; ")));
  }
  MlpCheckpoint checkpoint;
  checkpoint.parameters = parameters();
  checkpoint.epochs_completed = epochs_completed_;
  std::vector<std::string> init;
  for (const InitScheme& scheme : config_.init) {
    init.push_back(scheme.ToString());
  }
  checkpoint.notes = loaded_notes_;
  checkpoint.notes["learning_rate"] = absl::StrCat(config_.learning_rate);
  checkpoint.notes["batch"] = absl::StrCat(config_.batch);
  checkpoint.notes["seed"] = absl::StrCat(config_.seed);
  checkpoint.notes["init"] = absl::StrJoin(init, ",");
  checkpoint.notes["train_samples"] =
      absl::StrCat(data_.train_inputs.shape()[0]);
  // A clip bound of the loaded run does not describe this one.
  checkpoint.notes.erase("clip_min");
  if (config_.clip_min.has_value()) {
    checkpoint.notes["clip_min"] = absl::StrCat(*config_.clip_min);
  }
  return SaveMlpCheckpoint(path, config_.spec, config_.dtype, checkpoint);
}

absl::Status Trainer::LoadCheckpoint(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(MlpCheckpoint checkpoint,
                        LoadMlpCheckpoint(path, config_.spec, config_.dtype));
  if (checkpoint.epochs_completed > (int64_t{1} << 30)) {
    return Invalid(path, ": epochs_completed ", checkpoint.epochs_completed,
                   " is beyond what the trainer counts");
  }
  for (auto& [name, tensor] : checkpoint.parameters) {
    feeds_[name] = std::move(tensor);
  }
  epochs_completed_ = checkpoint.epochs_completed;
  loaded_notes_ = std::move(checkpoint.notes);
  return absl::OkStatus();
}

}  // namespace kiln
