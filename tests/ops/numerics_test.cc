// FindNonFinite finds the first NaN or infinity wherever it sits, in either
// dtype, and says where it is in the tensor's shape.

#include "ops/numerics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
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

// Expects FindNonFinite to call the element with bit pattern `bits` bad
// exactly when `bad`, alone and in one lane of a vector of ones.
template <typename T, typename Bits>
void ExpectBadExactlyWhen(DType dtype, Bits bits, int64_t lane, bool bad) {
  constexpr int64_t kLength = 48;
  T values[kLength];
  std::fill(values, values + kLength, T{1});
  const int64_t at = lane % kLength;
  std::memcpy(&values[at], &bits, sizeof(bits));
  EXPECT_EQ(FindNonFinite(dtype, &values[at], 1).has_value(), bad)
      << std::hex << bits;
  EXPECT_EQ(FindNonFinite(dtype, values, kLength).has_value(), bad)
      << std::hex << bits;
}

// The scan reads exponent bits: only an all-ones exponent is bad, with any
// sign and any fraction, in both widths, alone or in any lane of a vector.
TEST(NumericsTest, OnlyAnAllOnesExponentIsBad) {
  for (uint64_t exponent = 0; exponent <= 0x7ff; ++exponent) {
    for (uint64_t sign : {uint64_t{0}, uint64_t{1} << 63}) {
      ExpectBadExactlyWhen<double>(kF64, sign | exponent << 52 | 0x5555,
                                   exponent, exponent == 0x7ff);
    }
  }
  for (uint32_t exponent = 0; exponent <= 0xff; ++exponent) {
    ExpectBadExactlyWhen<float>(kF32, uint32_t{1} << 31 | exponent << 23 | 0x55,
                                exponent, exponent == 0xff);
  }
}

// Every position of tensors shorter than a vector, a few vectors long with
// a tail, and just over a block, in both widths.
TEST(NumericsTest, FindsABadValueAtEveryPosition) {
  for (DType dtype : {kF32, kF64}) {
    for (int64_t size : {11, 100, 1030}) {
      for (int64_t at = 0; at < size; ++at) {
        Tensor tensor = Tensor::Full(dtype, {size}, -2.5);
        tensor.Set(at, kInf);
        std::optional<NonFiniteValue> bad = FindNonFinite(tensor);
        ASSERT_TRUE(bad.has_value()) << DTypeName(dtype) << " " << at;
        EXPECT_EQ(bad->index, at);
      }
    }
  }
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
