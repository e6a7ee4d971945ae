// Tests of Tensor and of the Shape helpers it is built on.

#include "ops/tensor.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/shape.h"

namespace kiln {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

bool IsAligned64(const Tensor& tensor) {
  return reinterpret_cast<uintptr_t>(tensor.raw_data()) % 64 == 0;
}

// --- Tensor -----------------------------------------------------------------

TEST(TensorTest, DefaultIsAnF32ScalarZero) {
  Tensor tensor;
  EXPECT_EQ(tensor.dtype(), kF32);
  EXPECT_EQ(tensor.shape(), Shape({}));
  EXPECT_EQ(tensor.num_elements(), 1);
  EXPECT_EQ(tensor.At(0), 0);
}

TEST(TensorTest, NewTensorsAreZeroFilled) {
  Tensor tensor(kF64, {2, 3});
  EXPECT_EQ(tensor.rank(), 2);
  EXPECT_EQ(tensor.num_elements(), 6);
  EXPECT_EQ(tensor.num_bytes(), 48u);
  EXPECT_THAT(tensor.ToDoubles(), ElementsAre(0, 0, 0, 0, 0, 0));
}

TEST(TensorTest, StorageIsAlignedTo64Bytes) {
  for (DType dtype : {kF32, kF64}) {
    for (const Shape& shape : {Shape{}, Shape{1}, Shape{3}, Shape{17, 5}}) {
      Tensor tensor(dtype, shape);
      EXPECT_TRUE(IsAligned64(tensor)) << ShapeToString(shape);
      EXPECT_TRUE(IsAligned64(Tensor(tensor))) << ShapeToString(shape);
      EXPECT_TRUE(IsAligned64(tensor.Reshaped({NumElements(shape)})));
    }
  }
}

TEST(TensorTest, CopiesAreDeep) {
  Tensor original = Tensor::FromValues<float>({2}, {1, 2});
  Tensor copy(original);
  copy.data<float>()[0] = 10;
  EXPECT_NE(copy.raw_data(), original.raw_data());
  EXPECT_THAT(original.ToDoubles(), ElementsAre(1, 2));

  Tensor assigned(kF64, {5});
  assigned = original;
  assigned.Set(1, 20);
  EXPECT_EQ(assigned.dtype(), kF32);
  EXPECT_THAT(assigned.ToDoubles(), ElementsAre(1, 20));
  EXPECT_THAT(original.ToDoubles(), ElementsAre(1, 2));
}

TEST(TensorTest, FromValuesFillsRowMajor) {
  Tensor tensor = Tensor::FromValues<double>({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(tensor.dtype(), kF64);
  EXPECT_EQ(tensor.shape(), Shape({2, 2}));
  EXPECT_EQ(tensor.data<double>()[3], 4);
  EXPECT_EQ(tensor.At(1), 2);
}

TEST(TensorTest, FromDoublesRoundsToTheDType) {
  Tensor tensor = Tensor::FromDoubles(kF32, {2}, {0.1, 1e300});
  EXPECT_EQ(tensor.At(0), static_cast<double>(0.1f));
  EXPECT_TRUE(std::isinf(tensor.At(1)));
}

TEST(TensorTest, FullSetsEveryElement) {
  Tensor tensor = Tensor::Full(kF64, {3}, -1.5);
  EXPECT_THAT(tensor.ToDoubles(), ElementsAre(-1.5, -1.5, -1.5));
}

TEST(TensorTest, ReshapedKeepsValuesAndLeavesTheOriginal) {
  Tensor original = Tensor::FromValues<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor reshaped = original.Reshaped({3, 2});
  EXPECT_EQ(reshaped.shape(), Shape({3, 2}));
  EXPECT_THAT(reshaped.ToDoubles(), ElementsAre(1, 2, 3, 4, 5, 6));
  reshaped.Set(0, 9);
  EXPECT_EQ(original.shape(), Shape({2, 3}));
  EXPECT_EQ(original.At(0), 1);
}

TEST(TensorTest, CastConvertsEveryElement) {
  Tensor f64 = Tensor::FromValues<double>({2}, {0.5, 3});
  Tensor f32 = f64.Cast(kF32);
  EXPECT_EQ(f32.dtype(), kF32);
  EXPECT_THAT(f32.ToDoubles(), ElementsAre(0.5, 3));
}

TEST(TensorTest, DebugStringListsAtMostTheRequestedValues) {
  Tensor tensor = Tensor::FromValues<float>({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(tensor.DebugString(), "f32[2,2] {1, 2, 3, 4}");
  EXPECT_EQ(tensor.DebugString(2), "f32[2,2] {1, 2, ...}");
}

TEST(TensorDeathTest, ReshapedRejectsInvalidShapesOfTheSameCount) {
  Tensor tensor(kF32, {6});
  EXPECT_DEATH(tensor.Reshaped({-2, -3}), "cannot reshape \\[6\\] to");
  EXPECT_DEATH(tensor.Reshaped({4}), "cannot reshape \\[6\\] to \\[4\\]");
}

TEST(TensorDeathTest, TypedAccessChecksTheDType) {
  Tensor tensor(kF32, {1});
  EXPECT_DEATH(tensor.data<double>(), "tensor is f32");
}

// --- Shape ------------------------------------------------------------------

TEST(ShapeTest, NumElementsIsTheProductAndOneForScalars) {
  EXPECT_EQ(NumElements({}), 1);
  EXPECT_EQ(NumElements({100, 784}), 78400);
}

TEST(ShapeTest, ShapeToStringUsesBrackets) {
  EXPECT_EQ(ShapeToString({}), "[]");
  EXPECT_EQ(ShapeToString({2, 3}), "[2,3]");
}

TEST(ShapeTest, RowMajorStridesCountElements) {
  EXPECT_THAT(RowMajorStrides({2, 3, 4}), ElementsAre(12, 4, 1));
  EXPECT_THAT(RowMajorStrides({}), ElementsAre());
}

TEST(ShapeTest, ValidateShapeAcceptsPositiveDimensions) {
  EXPECT_TRUE(ValidateShape({}).ok());
  EXPECT_TRUE(ValidateShape({1, 2, 3}).ok());
}

TEST(ShapeTest, ValidateShapeRejectsNonPositiveDimensions) {
  absl::Status status = ValidateShape({2, 0});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("shape [2,0] has a dimension that is not positive: 0"));
  EXPECT_FALSE(ValidateShape({-3}).ok());
}

TEST(ShapeTest, ValidateShapeRejectsElementCountsThatOverflow) {
  // 2^80 elements: the product itself overflows int64_t.
  const int64_t big = int64_t{1} << 40;
  absl::Status status = ValidateShape({big, big});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("shape [1099511627776,1099511627776] has more "
                        "elements than fit"));
  // 2^61 elements fit in int64_t, but their f64 bytes do not.
  EXPECT_FALSE(ValidateShape({int64_t{1} << 61}).ok());
  EXPECT_TRUE(ValidateShape({int64_t{1} << 59}).ok());
}

TEST(ShapeTest, BroadcastShapesFollowsNumPy) {
  EXPECT_EQ(*BroadcastShapes({100, 1}, {10}), Shape({100, 10}));
  EXPECT_EQ(*BroadcastShapes({}, {2, 3}), Shape({2, 3}));
  EXPECT_EQ(*BroadcastShapes({3, 1}, {2, 1, 4}), Shape({2, 3, 4}));
}

TEST(ShapeTest, BroadcastShapesNamesTheConflictingDimensions) {
  absl::StatusOr<Shape> result = BroadcastShapes({2, 3}, {4, 3});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("shapes [2,3] and [4,3] are not broadcastable: "
                        "dimension 2 vs 4"));
}

TEST(ShapeTest, BroadcastsToNeverShrinks) {
  EXPECT_TRUE(BroadcastsTo({3, 1}, {2, 3, 4}));
  EXPECT_FALSE(BroadcastsTo({2, 3}, {1, 3}));
  EXPECT_FALSE(BroadcastsTo({2, 3}, {3}));
}

TEST(ShapeTest, NormalizeAxisResolvesNegativeAxes) {
  EXPECT_EQ(*NormalizeAxis(-1, 3), 2);
  EXPECT_EQ(*NormalizeAxis(0, 3), 0);
  absl::StatusOr<int> bad = NormalizeAxis(3, 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("axis 3 is out of range for rank 3"));
  EXPECT_FALSE(NormalizeAxis(-4, 3).ok());
}

}  // namespace
}  // namespace kiln
