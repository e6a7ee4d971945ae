// The trainer runs the chapter's loop: it learns, it is deterministic, and
// it refuses configurations that do not fit the data.

#include "models/trainer.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include "ad/interpreter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jit/jit_executor.h"
#include "ops/base/atomic_file.h"
#include "models/checkpoint/mlp_checkpoint.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

// Two Gaussian blobs in 6 dimensions, one per class, one-hot targets.
TrainingData Blobs(DType dtype) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, 0.5);
  auto make = [&](int64_t rows, Tensor& inputs, Tensor& targets) {
    inputs = Tensor(dtype, {rows, 6});
    targets = Tensor(dtype, {rows, 2});
    for (int64_t i = 0; i < rows; ++i) {
      const int label = i % 2;
      for (int j = 0; j < 6; ++j) {
        inputs.Set(i * 6 + j, (label ? 1.0 : -1.0) * (j % 3 == 0) + noise(rng));
      }
      targets.Set(i * 2 + label, 1.0);
    }
  };
  TrainingData data;
  make(40, data.train_inputs, data.train_targets);
  make(20, data.test_inputs, data.test_targets);
  return data;
}

TrainerConfig SmallConfig() {
  TrainerConfig config;
  config.spec = {.inputs = 6, .hidden = {{5, Activation::kTanh}}, .outputs = 2};
  config.init = {{InitScheme::Kind::kUniform, -0.5, 0.5},
                 {InitScheme::Kind::kXavier}};
  config.batch = 10;
  config.epochs = 30;
  config.eval_every = 10;
  config.learning_rate = 0.5;
  return config;
}

std::vector<EpochMetrics> TrainAll(const TrainerConfig& config,
                                   const TrainingData& data) {
  Interpreter interpreter;
  absl::StatusOr<std::unique_ptr<Trainer>> trainer =
      Trainer::Create(config, data, interpreter);
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  std::vector<EpochMetrics> rows;
  if (!trainer.ok()) return rows;
  absl::Status done =
      (*trainer)->Train([&](const EpochMetrics& m) { rows.push_back(m); });
  EXPECT_TRUE(done.ok()) << done;
  return rows;
}

TEST(TrainerTest, LearnsSeparableBlobs) {
  TrainingData data = Blobs(kF64);
  std::vector<EpochMetrics> rows = TrainAll(SmallConfig(), data);
  ASSERT_EQ(rows.size(), 4u);  // epochs 0, 10, 20 and the last, 29
  EXPECT_EQ(rows.back().epoch, 29);
  EXPECT_LT(rows.back().loss, rows.front().loss / 2);
  EXPECT_GE(rows.back().train_accuracy, 0.95);
  EXPECT_GE(rows.back().test_accuracy, 0.9);
}

TEST(TrainerTest, SameConfigGivesIdenticalMetrics) {
  TrainingData data = Blobs(kF32);
  TrainerConfig config = SmallConfig();
  config.dtype = kF32;
  std::vector<EpochMetrics> first = TrainAll(config, data);
  std::vector<EpochMetrics> second = TrainAll(config, data);
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].loss, second[i].loss);
    EXPECT_EQ(first[i].test_accuracy, second[i].test_accuracy);
  }
}

TEST(TrainerTest, RejectsBatchLargerThanTheData) {
  TrainingData data = Blobs(kF64);
  TrainerConfig config = SmallConfig();
  config.batch = 41;
  Interpreter interpreter;
  absl::Status status = Trainer::Create(config, data, interpreter).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("batch 41"));
}

TEST(TrainerTest, RejectsWrongNumberOfInitSchemes) {
  TrainingData data = Blobs(kF64);
  TrainerConfig config = SmallConfig();
  config.init.pop_back();
  Interpreter interpreter;
  absl::Status status = Trainer::Create(config, data, interpreter).status();
  EXPECT_THAT(status.message(),
              HasSubstr("2 weight matrices but 1 init schemes"));
}

TEST(TrainerTest, RejectsDataOfAnotherDtype) {
  TrainingData data = Blobs(kF32);
  Interpreter interpreter;
  absl::Status status =
      Trainer::Create(SmallConfig(), data, interpreter).status();
  EXPECT_THAT(status.message(), HasSubstr("data must be f64"));
}

// ---- Guards ----

// A NaN pixel in the third batch poisons that step's loss and every
// parameter the step updates; training stops right there.
TEST(TrainerGuardTest, NaNInABatchStopsTrainingNamingEpochBatchAndTensors) {
  TrainingData data = Blobs(kF64);
  data.train_inputs.Set(25 * 6 + 4, std::nan(""));  // row 25: batch 2
  Interpreter interpreter;
  absl::StatusOr<std::unique_ptr<Trainer>> trainer =
      Trainer::Create(SmallConfig(), data, interpreter);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  int evaluations = 0;
  absl::Status done =
      (*trainer)->Train([&](const EpochMetrics&) { ++evaluations; });
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(done.message(),
              HasSubstr("training stopped at epoch 0, batch 2 of 4"));
  EXPECT_THAT(done.message(), HasSubstr("the loss is nan"));
  EXPECT_THAT(done.message(),
              HasSubstr("parameter 'hidden1.weight' holds nan at element"));
  EXPECT_EQ(evaluations, 0) << "nothing is reported from a diverged epoch";
}

// Gradient descent on a squared error with a learning rate far too large
// multiplies the error at every step, until it overflows a few epochs in;
// the guard names the epoch and batch where it did.
TEST(TrainerGuardTest, DivergingRunStopsAtTheFirstInfinity) {
  TrainingData data = Blobs(kF32);
  TrainerConfig config = SmallConfig();
  config.dtype = kF32;
  config.spec.hidden.clear();
  config.spec.head = OutputHead::kIdentityMse;
  config.init = {{InitScheme::Kind::kXavier}};
  config.learning_rate = 3;
  config.epochs = 1000;
  config.eval_every = 1;
  Interpreter interpreter;
  absl::StatusOr<std::unique_ptr<Trainer>> trainer =
      Trainer::Create(config, data, interpreter);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  std::vector<int> evaluated;
  absl::Status done = (*trainer)->Train(
      [&](const EpochMetrics& m) { evaluated.push_back(m.epoch); });
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(done.message(), HasSubstr("training stopped at epoch "));
  // The squared error overflows before the weights do.
  EXPECT_THAT(done.message(), HasSubstr("the loss is inf"));
  // Mid-training: some epochs ran and were reported, far from all.
  EXPECT_GE(evaluated.size(), 2u);
  EXPECT_LT(evaluated.size(), 100u);
}

TEST(TrainerGuardTest, ExecutorErrorsNameEpochAndBatch) {
  TrainingData data = Blobs(kF64);
  data.train_inputs.Set(35 * 6, std::numeric_limits<double>::infinity());
  Interpreter checked({.check_numerics = true});
  absl::StatusOr<std::unique_ptr<Trainer>> trainer =
      Trainer::Create(SmallConfig(), data, checked);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  absl::Status done = (*trainer)->Train([](const EpochMetrics&) {});
  ASSERT_FALSE(done.ok());
  EXPECT_THAT(done.message(), HasSubstr("epoch 0, batch 3: check_numerics: "
                                        "feed 'x' of input f64[10,6] holds "
                                        "inf at element 30 [5,0]"));
}

TEST(TrainerTest, SliceRowsCopiesTheRequestedRows) {
  Tensor t = Tensor::FromValues<double>({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor slice = SliceRows(t, 1, 2);
  EXPECT_EQ(slice.shape(), (Shape{2, 2}));
  EXPECT_EQ(slice.ToDoubles(), (std::vector<double>{3, 4, 5, 6}));
}

// Checkpoint tests run on both executors: the CLI trains on the JIT, and the
// interpreter is the reference.
class TrainerCheckpointTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Executor> MakeExecutor() const {
    if (GetParam() == "jit") return std::make_unique<jit::JitExecutor>();
    return std::make_unique<Interpreter>();
  }

  std::string TempPath(const std::string& name) const {
    return ::testing::TempDir() + "/" + GetParam() + "_" + name;
  }

  // Trains `config.epochs` epochs, after loading `load` if it is non-empty
  // and saving to `save` afterwards if that is non-empty.
  std::vector<EpochMetrics> Run(const TrainerConfig& config,
                                const TrainingData& data,
                                const std::string& load,
                                const std::string& save) const {
    std::unique_ptr<Executor> executor = MakeExecutor();
    absl::StatusOr<std::unique_ptr<Trainer>> trainer =
        Trainer::Create(config, data, *executor);
    EXPECT_TRUE(trainer.ok()) << trainer.status();
    std::vector<EpochMetrics> rows;
    if (!trainer.ok()) return rows;
    if (!load.empty()) {
      absl::Status loaded = (*trainer)->LoadCheckpoint(load);
      EXPECT_TRUE(loaded.ok()) << loaded;
    }
    absl::Status done =
        (*trainer)->Train([&](const EpochMetrics& m) { rows.push_back(m); });
    EXPECT_TRUE(done.ok()) << done;
    if (!save.empty()) {
      absl::Status saved = (*trainer)->SaveCheckpoint(save);
      EXPECT_TRUE(saved.ok()) << saved;
    }
    return rows;
  }
};

INSTANTIATE_TEST_SUITE_P(Executors, TrainerCheckpointTest,
                         ::testing::Values("interp", "jit"));

TEST_P(TrainerCheckpointTest, SaveLoadAndResumeMatchesTrainingStraightThrough) {
  TrainingData data = Blobs(kF64);
  TrainerConfig config = SmallConfig();
  config.eval_every = 4;
  config.epochs = 30;
  const std::vector<EpochMetrics> straight = Run(config, data, "", "");

  const std::string path = TempPath("resume.safetensors");
  config.epochs = 14;
  std::vector<EpochMetrics> resumed = Run(config, data, "", path);
  config.epochs = 16;
  const std::vector<EpochMetrics> second = Run(config, data, path, "");
  resumed.insert(resumed.end(), second.begin(), second.end());

  // The split run evaluates every epoch the straight run does, plus epoch
  // 13, the last before the save; the metrics are identical bit for bit.
  ASSERT_EQ(resumed.size(), straight.size() + 1);
  std::map<int, EpochMetrics> by_epoch;
  for (const EpochMetrics& m : resumed) by_epoch[m.epoch] = m;
  EXPECT_TRUE(by_epoch.contains(13));
  for (const EpochMetrics& m : straight) {
    ASSERT_TRUE(by_epoch.contains(m.epoch)) << m.epoch;
    const EpochMetrics& r = by_epoch[m.epoch];
    EXPECT_EQ(r.loss, m.loss) << "epoch " << m.epoch;
    EXPECT_EQ(r.train_accuracy, m.train_accuracy) << "epoch " << m.epoch;
    EXPECT_EQ(r.test_accuracy, m.test_accuracy) << "epoch " << m.epoch;
  }
  EXPECT_EQ(second.back().epoch, 29);
}

TEST_P(TrainerCheckpointTest, EvaluateAfterLoadGivesTheSavedTestAccuracy) {
  TrainingData data = Blobs(kF32);
  TrainerConfig config = SmallConfig();
  config.dtype = kF32;
  const std::string path = TempPath("evaluate.safetensors");
  const std::vector<EpochMetrics> rows = Run(config, data, "", path);
  ASSERT_FALSE(rows.empty());

  std::unique_ptr<Executor> executor = MakeExecutor();
  std::unique_ptr<Trainer> trainer = *Trainer::Create(config, data, *executor);
  ASSERT_TRUE(trainer->LoadCheckpoint(path).ok());
  EXPECT_EQ(trainer->epochs_completed(), 30);
  absl::StatusOr<EpochMetrics> evaluated = trainer->Evaluate();
  ASSERT_TRUE(evaluated.ok()) << evaluated.status();
  EXPECT_EQ(evaluated->epoch, 30);
  EXPECT_EQ(evaluated->test_accuracy, rows.back().test_accuracy);
  // Learned blobs: a forward pass over the training set does well too.
  EXPECT_GE(evaluated->train_accuracy, 0.95);
  EXPECT_GT(evaluated->loss, 0);
}

TEST_P(TrainerCheckpointTest, FailedLoadLeavesTheTrainerUnchanged) {
  TrainingData data = Blobs(kF64);
  TrainerConfig tanh_config = SmallConfig();
  tanh_config.epochs = 2;
  const std::string path = TempPath("tanh.safetensors");
  Run(tanh_config, data, "", path);

  TrainerConfig relu_config = SmallConfig();
  relu_config.spec.hidden[0].activation = Activation::kRelu;
  std::unique_ptr<Executor> executor = MakeExecutor();
  std::unique_ptr<Trainer> trainer =
      *Trainer::Create(relu_config, data, *executor);
  const FeedMap before = trainer->parameters();
  absl::Status loaded = trainer->LoadCheckpoint(path);
  EXPECT_EQ(loaded.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(loaded.message(), HasSubstr("6-5:tanh-2"));
  EXPECT_EQ(trainer->epochs_completed(), 0);
  for (const auto& [name, tensor] : trainer->parameters()) {
    EXPECT_EQ(tensor.ToDoubles(), before.at(name).ToDoubles()) << name;
  }
}

TEST_P(TrainerCheckpointTest, SaveReplacesAnExistingCheckpointWhole) {
  TrainingData data = Blobs(kF64);
  TrainerConfig config = SmallConfig();
  config.epochs = 1;
  const std::string path = TempPath("replaced.safetensors");
  ASSERT_TRUE(WriteFileAtomically(path, std::string(100000, 'x')).ok());
  Run(config, data, "", path);
  std::unique_ptr<Executor> executor = MakeExecutor();
  std::unique_ptr<Trainer> trainer = *Trainer::Create(config, data, *executor);
  EXPECT_TRUE(trainer->LoadCheckpoint(path).ok());
  EXPECT_LT(std::filesystem::file_size(path), 100000u);
}

// Notes another program wrote into a checkpoint survive a load and a save
// by the trainer, while the settings the trainer records are its own.
TEST_P(TrainerCheckpointTest, SaveKeepsTheLoadedCheckpointsForeignNotes) {
  TrainingData data = Blobs(kF64);
  TrainerConfig config = SmallConfig();
  config.epochs = 1;
  std::unique_ptr<Executor> executor = MakeExecutor();
  std::unique_ptr<Trainer> trainer = *Trainer::Create(config, data, *executor);
  const std::string path = TempPath("foreign_notes.safetensors");
  MlpCheckpoint foreign{.parameters = trainer->parameters(),
                        .epochs_completed = 3,
                        .notes = {{"origin", "exported from PyTorch"},
                                  {"learning_rate", "9"},
                                  {"clip_min", "0"}}};
  ASSERT_TRUE(SaveMlpCheckpoint(path, config.spec, config.dtype, foreign).ok());

  ASSERT_TRUE(trainer->LoadCheckpoint(path).ok());
  ASSERT_TRUE(trainer->Train([](const EpochMetrics&) {}).ok());
  ASSERT_TRUE(trainer->SaveCheckpoint(path).ok());
  absl::StatusOr<MlpCheckpoint> saved =
      LoadMlpCheckpoint(path, config.spec, config.dtype);
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->epochs_completed, 4);
  EXPECT_EQ(saved->notes["origin"], "exported from PyTorch");
  EXPECT_EQ(saved->notes["learning_rate"], "0.5");
  EXPECT_FALSE(saved->notes.contains("clip_min"))
      << "a setting of the loaded run was written as this run's";
}

// A fault injected into a parameter mid-training, after the epoch-2
// checkpoint was written: the guard stops at the next step, naming it, and
// the checkpoint on disk stays the good one, byte for byte, even when the
// trainer is asked to save again.
TEST_P(TrainerCheckpointTest, InjectedNaNStopsTrainingAndSparesTheCheckpoint) {
  TrainingData data = Blobs(kF64);
  TrainerConfig config = SmallConfig();
  config.epochs = 8;
  std::unique_ptr<Executor> executor = MakeExecutor();
  absl::StatusOr<std::unique_ptr<Trainer>> created =
      Trainer::Create(config, data, *executor);
  ASSERT_TRUE(created.ok()) << created.status();
  Trainer& trainer = **created;
  const std::string path = TempPath("guarded.safetensors");

  std::string good;
  std::vector<int> epochs_seen;
  absl::Status done = trainer.Train(
      [](const EpochMetrics&) {},
      [&](const EpochMetrics& m) {
        epochs_seen.push_back(m.epoch);
        // A checkpoint after every epoch, as a long run would keep one.
        ASSERT_TRUE(trainer.SaveCheckpoint(path).ok());
        if (m.epoch != 2) return;
        absl::StatusOr<std::string> bytes = ReadFile(path);
        ASSERT_TRUE(bytes.ok()) << bytes.status();
        good = *bytes;
        Tensor weight = trainer.parameters().at("hidden1.weight");
        weight.Set(4, std::nan(""));
        ASSERT_TRUE(trainer.SetParameter("hidden1.weight", weight).ok());
      });

  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(done.message(),
              HasSubstr("training stopped at epoch 3, batch 0 of 4"));
  EXPECT_THAT(done.message(), HasSubstr("the loss is nan"));
  EXPECT_THAT(done.message(),
              HasSubstr("parameter 'hidden1.weight' holds nan"));
  EXPECT_EQ(epochs_seen, (std::vector<int>{0, 1, 2}));

  absl::Status saved = trainer.SaveCheckpoint(path);
  EXPECT_EQ(saved.code(), absl::StatusCode::kFailedPrecondition) << saved;
  EXPECT_THAT(saved.message(), HasSubstr("not saving"));
  absl::StatusOr<std::string> after = ReadFile(path);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, good) << "the last good checkpoint changed";
}

TEST(TrainerTest, SetParameterRefusesUnknownNamesAndOtherShapes) {
  TrainingData data = Blobs(kF64);
  Interpreter interpreter;
  absl::StatusOr<std::unique_ptr<Trainer>> trainer =
      Trainer::Create(SmallConfig(), data, interpreter);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  absl::Status unknown = (*trainer)->SetParameter("x", Tensor(kF64, {10, 6}));
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.message(), HasSubstr("no parameter 'x'"));
  absl::Status shape =
      (*trainer)->SetParameter("output.bias", Tensor(kF64, {3}));
  EXPECT_THAT(shape.message(),
              HasSubstr("parameter 'output.bias' is f64[2], not f64[3]"));
  ASSERT_TRUE((*trainer)
                  ->SetParameter("output.bias", Tensor::Full(kF64, {2}, 0.5))
                  .ok());
  EXPECT_EQ((*trainer)->parameters().at("output.bias").ToDoubles(),
            (std::vector<double>{0.5, 0.5}));
}

}  // namespace
}  // namespace kiln
