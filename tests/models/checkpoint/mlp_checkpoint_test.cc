// MLP checkpoints round-trip, and a file that does not fit the model is
// refused with a message naming the tensor and what was wrong with it.

#include "models/checkpoint/mlp_checkpoint.h"

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/checkpoint/safetensors.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

MlpSpec SmallSpec() {
  return {.inputs = 4,
          .hidden = {{3, Activation::kLeakyRelu}},
          .outputs = 2,
          .leaky_gamma = 0.1};
}

// Parameters whose elements count up from `start`, so that each is distinct.
std::map<std::string, Tensor, std::less<>> Counting(const MlpSpec& spec,
                                                    DType dtype,
                                                    double start = 0) {
  std::map<std::string, Tensor, std::less<>> parameters;
  for (const ParameterInfo& info : MlpParameters(spec)) {
    Tensor tensor(dtype, info.shape);
    for (int64_t i = 0; i < tensor.num_elements(); ++i) {
      tensor.Set(i, start + 0.125 * i);
    }
    start += 100;
    parameters[info.name] = tensor;
  }
  return parameters;
}

absl::Status LoadError(const Safetensors& file, const MlpSpec& spec,
                       DType dtype) {
  absl::StatusOr<MlpCheckpoint> loaded = ParseMlpCheckpoint(
      SerializeSafetensors(file), "model.safetensors", spec, dtype);
  return loaded.ok() ? absl::OkStatus() : loaded.status();
}

// A well-formed file for SmallSpec in f64, for tests to break one way.
Safetensors GoodFile() {
  MlpCheckpoint checkpoint{.parameters = Counting(SmallSpec(), kF64)};
  return *ParseSafetensors(
      SerializeMlpCheckpoint(SmallSpec(), kF64, checkpoint), "memory");
}

TEST(MlpCheckpointTest, RoundTripKeepsParametersEpochsAndNotes) {
  const MlpSpec spec = SmallSpec();
  MlpCheckpoint checkpoint{.parameters = Counting(spec, kF32),
                           .epochs_completed = 42,
                           .notes = {{"learning_rate", "0.05"}}};
  const std::string path = ::testing::TempDir() + "/small.safetensors";
  ASSERT_TRUE(SaveMlpCheckpoint(path, spec, kF32, checkpoint).ok());
  absl::StatusOr<MlpCheckpoint> loaded = LoadMlpCheckpoint(path, spec, kF32);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->epochs_completed, 42);
  EXPECT_EQ(loaded->notes.at("learning_rate"), "0.05");
  ASSERT_EQ(loaded->parameters.size(), 4u);
  for (const auto& [name, tensor] : checkpoint.parameters) {
    EXPECT_EQ(loaded->parameters.at(name).ToDoubles(), tensor.ToDoubles())
        << name;
  }
}

TEST(MlpCheckpointTest, MetadataRecordsArchitectureAndDType) {
  absl::StatusOr<Safetensors> file = ParseSafetensors(
      SerializeMlpCheckpoint(SmallSpec(), kF64,
                             {.parameters = Counting(SmallSpec(), kF64)}),
      "memory");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata.at("architecture"),
            "4-3:leaky_relu(0.1)-2:softmax_cross_entropy");
  EXPECT_EQ(file->metadata.at("dtype"), "f64");
  EXPECT_EQ(file->metadata.at("epochs_completed"), "0");
  EXPECT_TRUE(file->tensors.contains("hidden1.weight"));
  EXPECT_TRUE(file->tensors.contains("output.bias"));
}

TEST(MlpCheckpointTest, MissingTensorIsRefused) {
  Safetensors file = GoodFile();
  file.tensors.erase("hidden1.bias");
  absl::Status status = LoadError(file, SmallSpec(), kF64);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("model.safetensors: missing tensor \"hidden1.bias\" "
                        "(f64[3])"));
}

TEST(MlpCheckpointTest, UnexpectedTensorIsRefused) {
  Safetensors file = GoodFile();
  file.tensors["hidden2.weight"] = Tensor(kF64, {3, 3});
  EXPECT_THAT(LoadError(file, SmallSpec(), kF64).message(),
              HasSubstr("unexpected tensor \"hidden2.weight\""));
}

TEST(MlpCheckpointTest, WrongShapeIsRefused) {
  Safetensors file = GoodFile();
  file.tensors["output.weight"] = Tensor(kF64, {2, 3});
  EXPECT_THAT(LoadError(file, SmallSpec(), kF64).message(),
              HasSubstr("tensor \"output.weight\" has shape [2,3] but the "
                        "model needs [3,2]"));
}

TEST(MlpCheckpointTest, WrongTensorDTypeIsRefused) {
  Safetensors file = GoodFile();
  file.metadata.erase("dtype");
  file.tensors["output.bias"] = Tensor(kF32, {2});
  EXPECT_THAT(LoadError(file, SmallSpec(), kF64).message(),
              HasSubstr("tensor \"output.bias\" is f32 but the model is f64"));
}

TEST(MlpCheckpointTest, RecordedDTypeMustMatchTheModel) {
  EXPECT_THAT(LoadError(GoodFile(), SmallSpec(), kF32).message(),
              HasSubstr("the checkpoint holds f64 parameters but the model "
                        "is f32"));
}

TEST(MlpCheckpointTest, ArchitectureMustMatchEvenWhenShapesDo) {
  MlpSpec tanh = SmallSpec();
  tanh.hidden[0].activation = Activation::kTanh;
  EXPECT_THAT(LoadError(GoodFile(), tanh, kF64).message(),
              HasSubstr("the checkpoint is of architecture "
                        "4-3:leaky_relu(0.1)-2:softmax_cross_entropy but the "
                        "model is 4-3:tanh-2:softmax_cross_entropy"));
}

TEST(MlpCheckpointTest, FileWithoutKilnMetadataLoadsWhenTensorsFit) {
  Safetensors file = GoodFile();
  file.metadata.clear();
  absl::StatusOr<MlpCheckpoint> loaded = ParseMlpCheckpoint(
      SerializeSafetensors(file), "numpy.safetensors", SmallSpec(), kF64);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->epochs_completed, 0);
  EXPECT_EQ(loaded->parameters.at("output.bias").At(1), 300.125);
}

TEST(MlpCheckpointTest, MalformedEpochCountIsRefused) {
  Safetensors file = GoodFile();
  file.metadata["epochs_completed"] = "-3";
  EXPECT_THAT(LoadError(file, SmallSpec(), kF64).message(),
              HasSubstr("epochs_completed is \"-3\""));
}

TEST(MlpCheckpointTest, CorruptBytesAreRefusedBeforeModelChecks) {
  std::string bytes = SerializeSafetensors(GoodFile());
  bytes.resize(bytes.size() - 3);
  absl::StatusOr<MlpCheckpoint> loaded =
      ParseMlpCheckpoint(bytes, "cut.safetensors", SmallSpec(), kF64);
  EXPECT_THAT(loaded.status().message(), HasSubstr("cut.safetensors: "));
  EXPECT_THAT(loaded.status().message(), HasSubstr("leave the file"));
}

TEST(MlpCheckpointTest, FailedSaveLeavesTheExistingFileWhole) {
  const std::string path = ::testing::TempDir() + "/kept.safetensors";
  const MlpSpec spec = SmallSpec();
  ASSERT_TRUE(
      SaveMlpCheckpoint(path, spec, kF64, {.parameters = Counting(spec, kF64)})
          .ok());
  // Saving into a directory that does not exist fails; so does loading a
  // checkpoint of another model; neither touches the good file.
  EXPECT_FALSE(SaveMlpCheckpoint(path + ".d/x", spec, kF64,
                                 {.parameters = Counting(spec, kF64)})
                   .ok());
  EXPECT_FALSE(LoadMlpCheckpoint(path, spec, kF32).ok());
  absl::StatusOr<MlpCheckpoint> loaded = LoadMlpCheckpoint(path, spec, kF64);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->parameters.at("hidden1.weight").At(3), 0.375);
}

}  // namespace
}  // namespace kiln
