// FindNonFinite finds the first NaN or infinity wherever it sits, in either
// dtype, and says where it is in the tensor's shape.

#include "ops/numerics.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"
#include "ops/tensor.h"

namespace kiln {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(NumericsTest, FiniteTensorHasNoBadValue) {
  Tensor tensor = Tensor::FromValues<double>(
      {2, 3}, {0.0, -0.0, 1e308, -1e308, std::numeric_limits<double>::min(),
               std::numeric_limits<double>::denorm_min()});
  EXPECT_FALSE(FindNonFinite(tensor).has_value());
}

TEST(NumericsTest, FindsTheFirstOfSeveralBadValuesAcrossBlocks) {
  // Large enough to span several scan blocks, with the first bad value in a
  // later block than the start.
  for (DType dtype : {kF32, kF64}) {
    Tensor tensor(dtype, {3, 1000});
    tensor.Set(2500, -kInf);
    tensor.Set(2999, kNaN);
    std::optional<NonFiniteValue> bad = FindNonFinite(tensor);
    ASSERT_TRUE(bad.has_value()) << DTypeName(dtype);
    EXPECT_EQ(bad->index, 2500);
    EXPECT_EQ(bad->value, -kInf);
  }
}

TEST(NumericsTest, FindsNaNInTheLastElement) {
  Tensor tensor = Tensor::Full(kF32, {4097}, 1.5f);
  tensor.Set(4096, kNaN);
  std::optional<NonFiniteValue> bad = FindNonFinite(tensor);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->index, 4096);
  EXPECT_TRUE(std::isnan(bad->value));
}

TEST(NumericsTest, DescriptionNamesValueIndexAndCoordinates) {
  EXPECT_EQ(DescribeNonFinite({1234, kNaN}, {100, 200}),
            "nan at element 1234 [6,34]");
  EXPECT_EQ(DescribeNonFinite({5, kInf}, {2, 3, 4}),
            "inf at element 5 [0,1,1]");
  EXPECT_EQ(DescribeNonFinite({0, -kInf}, {}), "-inf at element 0");
}

}  // namespace
}  // namespace kiln
