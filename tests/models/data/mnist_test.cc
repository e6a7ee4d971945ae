// Tests of LoadDataset and DatasetDirectory: first on small data sets written
// by the tests, then on the real MNIST and Fashion-MNIST files when KILN_DATA
// names the data directory (./kiln test sets it).

#include "models/data/mnist.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/data/idx.h"
#include "ops/dtype.h"
#include "ops/tensor.h"
#include "tests/models/data/idx_writer.h"

namespace kiln {
namespace {

using ::kiln::testdata::FreshTestDir;
using ::kiln::testdata::ValidIdx;
using ::kiln::testdata::WriteGzipFile;
using ::kiln::testdata::WriteRawFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Writes `name`-images-idx3-ubyte and `name`-labels-idx1-ubyte into `dir`,
// gzipped when `gzip` is set. The images are `rows` x `cols`, and there are as
// many as `pixels` holds.
void WriteSplit(const std::string& dir, const std::string& name, uint32_t rows,
                uint32_t cols, const std::vector<uint8_t>& pixels,
                const std::vector<uint8_t>& labels, bool gzip = false) {
  const uint32_t count = static_cast<uint32_t>(pixels.size() / (rows * cols));
  const std::string images = ValidIdx({count, rows, cols}, pixels);
  const std::string label_file =
      ValidIdx({static_cast<uint32_t>(labels.size())}, labels);
  const std::string prefix = dir + "/" + name;
  if (gzip) {
    WriteGzipFile(prefix + "-images-idx3-ubyte.gz", images);
    WriteGzipFile(prefix + "-labels-idx1-ubyte.gz", label_file);
  } else {
    WriteRawFile(prefix + "-images-idx3-ubyte", images);
    WriteRawFile(prefix + "-labels-idx1-ubyte", label_file);
  }
}

// Asserts that loading the training split of `dir` fails with `code` and a
// message holding each of `parts`.
void ExpectLoadError(const std::string& dir, int64_t limit,
                     absl::StatusCode code,
                     const std::vector<std::string>& parts) {
  absl::StatusOr<Dataset> dataset =
      LoadDataset(dir, Split::kTrain, limit, kF32);
  ASSERT_FALSE(dataset.ok()) << dir << " was accepted";
  EXPECT_EQ(dataset.status().code(), code) << dataset.status();
  // A std::string, so that gMock prints it as text on failure.
  const std::string message(dataset.status().message());
  for (const std::string& part : parts) {
    EXPECT_THAT(message, HasSubstr(part));
  }
}

// --- Small data sets
// -----------------------------------------------------------

TEST(LoadDatasetTest, FlattensImagesAndDividesPixelsBy255) {
  const std::string dir = FreshTestDir();
  WriteSplit(dir, "train", 2, 2, {0, 51, 128, 255, 1, 2, 3, 4}, {3, 9});
  absl::StatusOr<Dataset> dataset = LoadDataset(dir, Split::kTrain, 0, kF64);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ(dataset->images.shape(), Shape({2, 4}));
  EXPECT_EQ(dataset->image_rows, 2);
  EXPECT_EQ(dataset->image_cols, 2);
  EXPECT_THAT(dataset->images.ToDoubles(),
              ElementsAre(0.0, 0.2, 128 / 255.0, 1.0, 1 / 255.0, 2 / 255.0,
                          3 / 255.0, 4 / 255.0));
  EXPECT_THAT(dataset->labels, ElementsAre(3, 9));
}

TEST(LoadDatasetTest, F32PixelsAreTheDoubleQuotientRounded) {
  const std::string dir = FreshTestDir();
  std::vector<uint8_t> pixels(256);
  for (int p = 0; p < 256; ++p) pixels[p] = static_cast<uint8_t>(p);
  WriteSplit(dir, "train", 16, 16, pixels, {0});
  absl::StatusOr<Dataset> dataset = LoadDataset(dir, Split::kTrain, 0, kF32);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  ASSERT_EQ(dataset->images.dtype(), kF32);
  for (int p = 0; p < 256; ++p) {
    EXPECT_EQ(dataset->images.data<float>()[p], static_cast<float>(p / 255.0))
        << "pixel " << p;
  }
}

TEST(LoadDatasetTest, OneHotRowsMarkTheLabel) {
  const std::string dir = FreshTestDir();
  WriteSplit(dir, "train", 1, 1, {0, 0, 0}, {0, 9, 4});
  absl::StatusOr<Dataset> dataset = LoadDataset(dir, Split::kTrain, 0, kF32);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  ASSERT_EQ(dataset->labels_one_hot.shape(), Shape({3, kNumClasses}));
  std::vector<double> expected(3 * kNumClasses, 0.0);
  expected[0 * kNumClasses + 0] = 1;
  expected[1 * kNumClasses + 9] = 1;
  expected[2 * kNumClasses + 4] = 1;
  EXPECT_EQ(dataset->labels_one_hot.ToDoubles(), expected);
}

TEST(LoadDatasetTest, LimitKeepsTheFirstSamplesInFileOrder) {
  const std::string dir = FreshTestDir();
  WriteSplit(dir, "train", 1, 2, {10, 11, 20, 21, 30, 31}, {1, 2, 3});
  absl::StatusOr<Dataset> dataset = LoadDataset(dir, Split::kTrain, 2, kF64);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ(dataset->images.shape(), Shape({2, 2}));
  EXPECT_THAT(dataset->images.ToDoubles(),
              ElementsAre(10 / 255.0, 11 / 255.0, 20 / 255.0, 21 / 255.0));
  EXPECT_THAT(dataset->labels, ElementsAre(1, 2));
  EXPECT_EQ(dataset->labels_one_hot.shape(), Shape({2, kNumClasses}));
}

TEST(LoadDatasetTest, ReadsTheTestSplitFromGzippedFiles) {
  const std::string dir = FreshTestDir();
  WriteSplit(dir, "t10k", 1, 1, {7, 8}, {5, 6}, /*gzip=*/true);
  absl::StatusOr<Dataset> dataset = LoadDataset(dir, Split::kTest, 0, kF32);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_THAT(dataset->labels, ElementsAre(5, 6));
}

TEST(LoadDatasetTest, PrefersRawFilesToGzippedOnes) {
  const std::string dir = FreshTestDir();
  WriteSplit(dir, "train", 1, 1, {0, 0}, {1, 2});
  WriteSplit(dir, "train", 1, 1, {0, 0}, {3, 4}, /*gzip=*/true);
  absl::StatusOr<Dataset> dataset = LoadDataset(dir, Split::kTrain, 0, kF32);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_THAT(dataset->labels, ElementsAre(1, 2));
}

TEST(LoadDatasetTest, MissingFilesAreNotFoundNamingBothForms) {
  const std::string dir = FreshTestDir();
  ExpectLoadError(
      dir, 0, absl::StatusCode::kNotFound,
      {dir + "/train-images-idx3-ubyte", dir + "/train-images-idx3-ubyte.gz"});
}

TEST(LoadDatasetTest, ReaderErrorsPassThrough) {
  const std::string dir = FreshTestDir();
  WriteSplit(dir, "train", 1, 1, {0, 0}, {1, 2});
  WriteRawFile(dir + "/train-labels-idx1-ubyte", ValidIdx({5}, {1, 2}));
  ExpectLoadError(dir, 0, absl::StatusCode::kDataLoss,
                  {dir + "/train-labels-idx1-ubyte",
                   "header says 5 data bytes, file has 2"});
}

TEST(LoadDatasetTest, ImageAndLabelCountsMustAgree) {
  const std::string dir = FreshTestDir();
  WriteSplit(dir, "train", 1, 1, {0, 0, 0}, {1, 2});
  ExpectLoadError(dir, 0, absl::StatusCode::kInvalidArgument,
                  {dir + "/train-images-idx3-ubyte holds 3 images",
                   dir + "/train-labels-idx1-ubyte holds 2 labels"});
}

TEST(LoadDatasetTest, LabelsAboveNineAreRejected) {
  const std::string dir = FreshTestDir();
  WriteSplit(dir, "train", 1, 1, {0, 0, 0}, {1, 9, 12});
  ExpectLoadError(dir, 0, absl::StatusCode::kInvalidArgument,
                  {dir + "/train-labels-idx1-ubyte", "label at index 2 is 12"});
}

TEST(LoadDatasetTest, ImagesMustHaveRankThree) {
  const std::string dir = FreshTestDir();
  WriteSplit(dir, "train", 1, 1, {0}, {1});
  WriteRawFile(dir + "/train-images-idx3-ubyte",
               ValidIdx({1, 4}, {0, 0, 0, 0}));
  ExpectLoadError(dir, 0, absl::StatusCode::kInvalidArgument,
                  {dir + "/train-images-idx3-ubyte",
                   "has rank 2 (dimensions [1,4])", "expected rank 3"});
}

TEST(LoadDatasetTest, LabelsMustHaveRankOne) {
  const std::string dir = FreshTestDir();
  WriteSplit(dir, "train", 1, 1, {0}, {1});
  WriteRawFile(dir + "/train-labels-idx1-ubyte", ValidIdx({1, 1}, {1}));
  ExpectLoadError(dir, 0, absl::StatusCode::kInvalidArgument,
                  {dir + "/train-labels-idx1-ubyte",
                   "has rank 2 (dimensions [1,1])", "expected rank 1"});
}

TEST(LoadDatasetTest, LimitLargerThanTheDataIsRejected) {
  const std::string dir = FreshTestDir();
  WriteSplit(dir, "train", 1, 1, {0, 0, 0}, {1, 2, 3});
  ExpectLoadError(
      dir, 4, absl::StatusCode::kInvalidArgument,
      {"limit 4 exceeds the 3 samples in " + dir + "/train-images-idx3-ubyte"});
}

TEST(LoadDatasetTest, NegativeLimitIsRejected) {
  ExpectLoadError(FreshTestDir(), -1, absl::StatusCode::kInvalidArgument,
                  {"limit -1 is negative"});
}

// --- DatasetDirectory
// ----------------------------------------------------------

TEST(DatasetDirectoryTest, MapsNamesToSubdirectories) {
  EXPECT_EQ(DatasetDirectory("/data", "mnist").value(), "/data/mnist");
  EXPECT_EQ(DatasetDirectory("/data", "fashion").value(),
            "/data/fashion-mnist");
}

TEST(DatasetDirectoryTest, UnknownNameListsTheValidOnes) {
  absl::StatusOr<std::string> dir = DatasetDirectory("/data", "cifar");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(dir.status().message());
  EXPECT_THAT(message, HasSubstr("\"cifar\""));
  EXPECT_THAT(message, HasSubstr("mnist, fashion"));
}

// --- The real data sets
// ----------------------------------------------------------

// Skips unless KILN_DATA names the directory `./kiln data` fills.
class RealDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* root = std::getenv("KILN_DATA");
    if (root == nullptr || *root == '\0') {
      GTEST_SKIP() << "KILN_DATA is not set; run ./kiln test to test the "
                      "real MNIST and Fashion-MNIST files";
    }
    root_ = root;
  }

  std::string Dir(absl::string_view name) const {
    return DatasetDirectory(root_, name).value();
  }

  std::string root_;
};

TEST_F(RealDataTest, MnistTrainHas60000ImagesOf28By28) {
  absl::StatusOr<Dataset> train =
      LoadDataset(Dir("mnist"), Split::kTrain, 0, kF32);
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ(train->images.shape(), Shape({60000, 784}));
  EXPECT_EQ(train->image_rows, 28);
  EXPECT_EQ(train->image_cols, 28);
  ASSERT_EQ(train->labels.size(), 60000u);
  EXPECT_EQ(train->labels[0], 5);
  for (uint8_t label : train->labels) ASSERT_LE(label, 9);
}

TEST_F(RealDataTest, MnistTestHas10000Images) {
  absl::StatusOr<Dataset> test =
      LoadDataset(Dir("mnist"), Split::kTest, 0, kF32);
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(test->images.shape(), Shape({10000, 784}));
  EXPECT_EQ(test->labels.size(), 10000u);
  EXPECT_EQ(test->labels[0], 7);
}

TEST_F(RealDataTest, MnistLimitGivesUnitRangeImagesAndOneHotRows) {
  absl::StatusOr<Dataset> train =
      LoadDataset(Dir("mnist"), Split::kTrain, 1000, kF64);
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_EQ(train->images.shape(), Shape({1000, 784}));
  ASSERT_EQ(train->labels_one_hot.shape(), Shape({1000, kNumClasses}));

  const double* pixels = train->images.data<double>();
  double brightest = 0;
  for (int64_t i = 0; i < train->images.num_elements(); ++i) {
    ASSERT_GE(pixels[i], 0.0) << "pixel " << i;
    ASSERT_LE(pixels[i], 1.0) << "pixel " << i;
    brightest = std::max(brightest, pixels[i]);
  }
  EXPECT_EQ(brightest, 1.0);

  const double* one_hot = train->labels_one_hot.data<double>();
  for (int64_t row = 0; row < 1000; ++row) {
    double sum = 0;
    for (int c = 0; c < kNumClasses; ++c) sum += one_hot[row * kNumClasses + c];
    ASSERT_EQ(sum, 1.0) << "row " << row;
    ASSERT_EQ(one_hot[row * kNumClasses + train->labels[row]], 1.0)
        << "row " << row;
  }
}

TEST_F(RealDataTest, FashionMnistTrainLoadsFromGzippedFiles) {
  const std::string dir = Dir("fashion");
  // The Debian package ships only the .gz files, so this exercises gzip.
  ASSERT_FALSE(std::filesystem::exists(dir + "/train-images-idx3-ubyte"));
  absl::StatusOr<Dataset> train = LoadDataset(dir, Split::kTrain, 0, kF32);
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_EQ(train->images.shape(), Shape({60000, 784}));
  ASSERT_EQ(train->labels.size(), 60000u);
  EXPECT_EQ(train->labels[0], 9);  // An ankle boot.
}

}  // namespace
}  // namespace kiln
