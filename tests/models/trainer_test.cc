// The trainer runs the chapter's loop: it learns, it is deterministic, and
// it refuses configurations that do not fit the data.

#include "models/trainer.h"

#include <random>

#include "ad/interpreter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

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
  config.spec = {.inputs = 6, .hidden = {{5, Activation::kTanh}},
                 .outputs = 2};
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

TEST(TrainerTest, SliceRowsCopiesTheRequestedRows) {
  Tensor t = Tensor::FromValues<double>({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor slice = SliceRows(t, 1, 2);
  EXPECT_EQ(slice.shape(), (Shape{2, 2}));
  EXPECT_EQ(slice.ToDoubles(), (std::vector<double>{3, 4, 5, 6}));
}

}  // namespace
}  // namespace kiln
