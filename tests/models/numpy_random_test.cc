// NumpyRandom reproduces NumPy's legacy stream bit for bit. The expected
// values were printed by NumPy 1.24 with np.random.seed(S) and
// np.random.random(...).

#include "models/numpy_random.h"

#include "gtest/gtest.h"
#include "models/initializer.h"

namespace kiln {
namespace {

TEST(NumpyRandomTest, SeedThreeMatchesNumpy) {
  NumpyRandom random(3);
  const double expected[] = {0.5507979025745755, 0.7081478226181048,
                             0.2909047389129443, 0.510827605197663,
                             0.8929469543476547};
  for (double value : expected) EXPECT_EQ(random.NextDouble(), value);
}

TEST(NumpyRandomTest, SeedOneMatchesNumpy) {
  NumpyRandom random(1);
  EXPECT_EQ(random.NextDouble(), 0.417022004702574);
  EXPECT_EQ(random.NextDouble(), 0.7203244934421581);
  EXPECT_EQ(random.NextDouble(), 0.00011437481734488664);
}

// The 156800th and 156801st draws cross many state regenerations.
TEST(NumpyRandomTest, LongStreamMatchesNumpy) {
  NumpyRandom random(3);
  for (int i = 0; i < 784 * 200 - 1; ++i) random.NextDouble();
  EXPECT_EQ(random.NextDouble(), 0.7808897078545791);
  EXPECT_EQ(random.NextDouble(), 0.32778669801562543);
}

TEST(InitializerTest, UniformIsLowPlusRangeTimesDraw) {
  NumpyRandom random(3);
  Tensor weights =
      InitialWeights(random, {InitScheme::Kind::kUniform, -0.5, 0.5}, 2, 2,
                     kF64);
  EXPECT_EQ(weights.shape(), (Shape{2, 2}));
  EXPECT_EQ(weights.At(0), -0.5 + 1.0 * 0.5507979025745755);
  EXPECT_EQ(weights.At(3), -0.5 + 1.0 * 0.510827605197663);
}

TEST(InitializerTest, XavierAndHeStayWithinTheirBounds) {
  NumpyRandom random(5);
  Tensor xavier =
      InitialWeights(random, {InitScheme::Kind::kXavier}, 784, 200, kF32);
  Tensor he = InitialWeights(random, {InitScheme::Kind::kHe}, 784, 200, kF32);
  const double xavier_bound = std::sqrt(6.0 / 984), he_bound =
                                                        std::sqrt(6.0 / 784);
  for (int64_t i = 0; i < xavier.num_elements(); ++i) {
    ASSERT_LE(std::abs(xavier.At(i)), xavier_bound);
    ASSERT_LE(std::abs(he.At(i)), he_bound);
  }
}

TEST(InitializerTest, ParsesSchemeLists) {
  absl::StatusOr<std::vector<InitScheme>> schemes =
      ParseInitSchemes("uniform:-0.01:0.01,he,xavier");
  ASSERT_TRUE(schemes.ok()) << schemes.status();
  ASSERT_EQ(schemes->size(), 3u);
  EXPECT_EQ((*schemes)[0].low, -0.01);
  EXPECT_EQ((*schemes)[1].kind, InitScheme::Kind::kHe);
  EXPECT_EQ((*schemes)[2].kind, InitScheme::Kind::kXavier);
}

TEST(InitializerTest, RejectsMalformedSchemes) {
  for (const char* text : {"uniform:1", "gaussian", "uniform:a:b",
                           "uniform:1:-1", ""}) {
    absl::StatusOr<InitScheme> scheme = ParseInitScheme(text);
    EXPECT_EQ(scheme.status().code(), absl::StatusCode::kInvalidArgument)
        << text;
  }
}

}  // namespace
}  // namespace kiln
