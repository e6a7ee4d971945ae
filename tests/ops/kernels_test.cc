// Tests of the reference kernels, on small cases whose answers are worked out
// by hand or by the plainest formula, for every op of the table.

#include "ops/kernels.h"

#include <cmath>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/attributes.h"
#include "ops/op.h"
#include "ops/product_sums.h"
#include "ops/tensor.h"

namespace kiln {
namespace {

using ::testing::DoubleEq;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::Pointwise;

template <typename T>
Tensor Make(Shape shape, std::vector<T> values) {
  return Tensor::FromValues<T>(std::move(shape), std::move(values));
}

Tensor MakeF64(Shape shape, std::vector<double> values) {
  return Make<double>(std::move(shape), std::move(values));
}

// Runs `kind` as an executor would: the shape rule sizes the output and the
// kernel fills it. The output starts as NaN everywhere, so an element the
// kernel forgets to write shows up in the comparison.
Tensor ComputeAs(DType dtype, OpKind kind, const std::vector<Tensor>& inputs,
                 const Attributes& attributes = {}) {
  const OpInfo& info = GetOpInfo(kind);
  std::vector<Shape> shapes;
  std::vector<const Tensor*> pointers;
  for (const Tensor& input : inputs) {
    shapes.push_back(input.shape());
    pointers.push_back(&input);
  }
  absl::StatusOr<Shape> shape = info.shape_rule(shapes, attributes);
  EXPECT_TRUE(shape.ok()) << info.name << ": " << shape.status();
  if (!shape.ok()) return Tensor();
  Tensor output =
      Tensor::Full(dtype, *shape, std::numeric_limits<double>::quiet_NaN());
  info.kernel(pointers, attributes, output);
  return output;
}

Tensor Compute(OpKind kind, const std::vector<Tensor>& inputs,
               const Attributes& attributes = {}) {
  return ComputeAs(inputs.at(0).dtype(), kind, inputs, attributes);
}

Attributes WithAxis(int axis, bool keepdims) {
  Attributes attributes;
  attributes.axis = axis;
  attributes.keepdims = keepdims;
  return attributes;
}

// x[i,j,k] = 100i + 10j + k over shape [2,3,4]: every element names its own
// position, so reductions have closed forms.
Tensor PositionTensor() {
  std::vector<double> values;
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      for (int k = 0; k < 4; ++k) values.push_back(100 * i + 10 * j + k);
    }
  }
  return MakeF64({2, 3, 4}, values);
}

// --- The op table -----------------------------------------------------------

TEST(OpTableTest, EveryComputedOpHasAKernelAndAShapeRule) {
  for (const OpInfo& info : AllOps()) {
    SCOPED_TRACE(std::string(info.name));
    EXPECT_NE(info.shape_rule, nullptr);
    if (info.kind == OpKind::kInput || info.kind == OpKind::kParameter) {
      continue;
    }
    EXPECT_NE(info.kernel, nullptr);
  }
}

TEST(OpTableTest, NamesRoundTripAndAreUnique) {
  std::set<std::string> names;
  for (const OpInfo& info : AllOps()) {
    EXPECT_EQ(OpKindFromName(info.name), info.kind) << info.name;
    EXPECT_EQ(&GetOpInfo(info.kind), &info);
    EXPECT_TRUE(names.insert(std::string(info.name)).second) << info.name;
  }
  EXPECT_EQ(static_cast<int>(AllOps().size()), kNumOpKinds);
  EXPECT_EQ(OpKindFromName("no_such_op"), std::nullopt);
}

// --- Leaves -----------------------------------------------------------------

TEST(KernelsDeathTest, FedLeafKernelAbortsBecauseTheExecutorSuppliesValues) {
  Tensor output(kF32, {2});
  EXPECT_DEATH(FedByExecutorKernel({}, Attributes(), output), "executor");
}

TEST(KernelsTest, ConstantCopiesItsValue) {
  Attributes attributes;
  attributes.shape = {2, 2};
  attributes.value =
      std::make_shared<const Tensor>(Make<float>({2, 2}, {1, -2, 3.5, 4}));
  Tensor output = ComputeAs(kF32, OpKind::kConstant, {}, attributes);
  EXPECT_EQ(output.shape(), Shape({2, 2}));
  EXPECT_THAT(output.ToDoubles(), ElementsAre(1, -2, 3.5, 4));
}

TEST(KernelsTest, FillWritesTheScalarEverywhere) {
  Attributes attributes;
  attributes.shape = {2, 3};
  attributes.scalar = 2.5;
  for (DType dtype : {kF32, kF64}) {
    Tensor output = ComputeAs(dtype, OpKind::kFill, {}, attributes);
    EXPECT_EQ(output.dtype(), dtype);
    EXPECT_THAT(output.ToDoubles(), ElementsAre(2.5, 2.5, 2.5, 2.5, 2.5, 2.5));
  }
}

// --- Elementwise ------------------------------------------------------------

TEST(KernelsTest, ArithmeticIsElementwise) {
  const Tensor a = MakeF64({2, 2}, {1, -2, 3, 0.5});
  const Tensor b = MakeF64({2, 2}, {4, 5, -6, 2});
  EXPECT_THAT(Compute(OpKind::kAdd, {a, b}).ToDoubles(),
              ElementsAre(5, 3, -3, 2.5));
  EXPECT_THAT(Compute(OpKind::kSub, {a, b}).ToDoubles(),
              ElementsAre(-3, -7, 9, -1.5));
  EXPECT_THAT(Compute(OpKind::kMul, {a, b}).ToDoubles(),
              ElementsAre(4, -10, -18, 1));
  EXPECT_THAT(Compute(OpKind::kDiv, {a, b}).ToDoubles(),
              ElementsAre(0.25, -0.4, -0.5, 0.25));
}

TEST(KernelsTest, UnaryMathMatchesTheStandardLibrary) {
  const Tensor x = MakeF64({4}, {-3, 0, 1, 2.5});
  EXPECT_THAT(Compute(OpKind::kNeg, {x}).ToDoubles(),
              ElementsAre(3, -0.0, -1, -2.5));
  EXPECT_THAT(Compute(OpKind::kSquare, {x}).ToDoubles(),
              ElementsAre(9, 0, 1, 6.25));
  EXPECT_THAT(Compute(OpKind::kExp, {x}).ToDoubles(),
              ElementsAre(DoubleEq(std::exp(-3.0)), 1, DoubleEq(std::exp(1.0)),
                          DoubleEq(std::exp(2.5))));
  EXPECT_THAT(Compute(OpKind::kTanh, {x}).ToDoubles(),
              ElementsAre(DoubleEq(std::tanh(-3.0)), 0,
                          DoubleEq(std::tanh(1.0)), DoubleEq(std::tanh(2.5))));
  const Tensor positive = MakeF64({3}, {1, std::exp(2.0), 0.5});
  EXPECT_THAT(Compute(OpKind::kLog, {positive}).ToDoubles(),
              ElementsAre(0, DoubleEq(2), DoubleEq(std::log(0.5))));
}

TEST(KernelsTest, LogOfZeroIsMinusInfinity) {
  const std::vector<double> result =
      Compute(OpKind::kLog, {MakeF64({1}, {0})}).ToDoubles();
  EXPECT_TRUE(std::isinf(result[0]) && result[0] < 0) << result[0];
}

TEST(KernelsTest, SigmoidMatchesItsDefinition) {
  const std::vector<double> x = {-2, -0.5, 0, 0.5, 2};
  std::vector<double> expected;
  for (double v : x) expected.push_back(1 / (1 + std::exp(-v)));
  EXPECT_THAT(Compute(OpKind::kSigmoid, {MakeF64({5}, x)}).ToDoubles(),
              Pointwise(DoubleNear(1e-15), expected));
}

TEST(KernelsTest, ReluZeroesNonPositiveValues) {
  EXPECT_THAT(
      Compute(OpKind::kRelu, {MakeF64({4}, {-2, 0, 3, -0.5})}).ToDoubles(),
      ElementsAre(0, 0, 3, 0));
}

TEST(KernelsTest, LeakyReluScalesNonPositiveValuesBySlope) {
  Attributes attributes;
  attributes.scalar = 0.25;
  EXPECT_THAT(
      Compute(OpKind::kLeakyRelu, {MakeF64({4}, {-2, 0, 3, -0.5})}, attributes)
          .ToDoubles(),
      ElementsAre(-0.5, 0, 3, -0.125));
}

TEST(KernelsTest, ComparisonsGiveOneWhereTrueAndZeroWhereFalse) {
  const Tensor a = MakeF64({3}, {1, 2, 3});
  const Tensor b = MakeF64({3}, {2, 2, 2});
  const struct {
    OpKind kind;
    std::vector<double> expected;
  } cases[] = {
      {OpKind::kLess, {1, 0, 0}},    {OpKind::kLessEqual, {1, 1, 0}},
      {OpKind::kGreater, {0, 0, 1}}, {OpKind::kGreaterEqual, {0, 1, 1}},
      {OpKind::kEqual, {0, 1, 0}},   {OpKind::kNotEqual, {1, 0, 1}},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(Compute(c.kind, {a, b}).ToDoubles(),
                ElementsAreArray(c.expected))
        << OpName(c.kind);
  }
}

TEST(KernelsTest, SelectTakesAWhereConditionIsNonZeroElseB) {
  const Tensor condition = MakeF64({4}, {1, 0, -2, 0.5});
  const Tensor a = MakeF64({4}, {10, 20, 30, 40});
  const Tensor b = MakeF64({4}, {-1, -2, -3, -4});
  EXPECT_THAT(Compute(OpKind::kSelect, {condition, a, b}).ToDoubles(),
              ElementsAre(10, -2, 30, 40));
}

// --- Layout -----------------------------------------------------------------

TEST(KernelsTest, TransposeSwapsMatrixAxes) {
  Attributes attributes;
  attributes.permutation = {1, 0};
  Tensor output = Compute(OpKind::kTranspose,
                          {MakeF64({2, 3}, {1, 2, 3, 4, 5, 6})}, attributes);
  EXPECT_EQ(output.shape(), Shape({3, 2}));
  EXPECT_THAT(output.ToDoubles(), ElementsAre(1, 4, 2, 5, 3, 6));
}

TEST(KernelsTest, TransposeAppliesAThreeDimensionalPermutation) {
  Attributes attributes;
  attributes.permutation = {2, 0, 1};
  Tensor output = Compute(OpKind::kTranspose, {PositionTensor()}, attributes);
  ASSERT_EQ(output.shape(), Shape({4, 2, 3}));
  // Output [k,i,j] holds input [i,j,k], whose value is 100i + 10j + k.
  std::vector<double> expected;
  for (int k = 0; k < 4; ++k) {
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 3; ++j) expected.push_back(100 * i + 10 * j + k);
    }
  }
  EXPECT_THAT(output.ToDoubles(), ElementsAreArray(expected));
}

TEST(KernelsTest, ReshapeKeepsRowMajorOrder) {
  Attributes attributes;
  attributes.shape = {3, 2};
  Tensor output = Compute(OpKind::kReshape,
                          {MakeF64({2, 3}, {1, 2, 3, 4, 5, 6})}, attributes);
  EXPECT_EQ(output.shape(), Shape({3, 2}));
  EXPECT_THAT(output.ToDoubles(), ElementsAre(1, 2, 3, 4, 5, 6));
}

// Broadcasts `input` to [2,3,4] and checks output [i,j,k] against
// `expected(i, j, k)`.
template <typename Expected>
void ExpectBroadcastTo234(const Tensor& input, Expected expected) {
  Attributes attributes;
  attributes.shape = {2, 3, 4};
  Tensor output = Compute(OpKind::kBroadcast, {input}, attributes);
  ASSERT_EQ(output.shape(), Shape({2, 3, 4}));
  std::vector<double> want;
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      for (int k = 0; k < 4; ++k) want.push_back(expected(i, j, k));
    }
  }
  EXPECT_THAT(output.ToDoubles(), ElementsAreArray(want));
}

TEST(KernelsTest, BroadcastRepeatsDimensionsOfSizeOne) {
  ExpectBroadcastTo234(MakeF64({3, 1}, {7, 8, 9}),
                       [](int i, int j, int k) { return 7 + j; });
  ExpectBroadcastTo234(MakeF64({2, 1, 4}, {0, 1, 2, 3, 4, 5, 6, 7}),
                       [](int i, int j, int k) { return 4 * i + k; });
  ExpectBroadcastTo234(MakeF64({2, 1, 1}, {5, 6}),
                       [](int i, int j, int k) { return 5 + i; });
}

TEST(KernelsTest, BroadcastAlignsShapesAtTheLastDimension) {
  ExpectBroadcastTo234(MakeF64({4}, {1, 2, 3, 4}),
                       [](int i, int j, int k) { return 1 + k; });
  ExpectBroadcastTo234(MakeF64({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}),
                       [](int i, int j, int k) { return 4 * j + k; });
  ExpectBroadcastTo234(MakeF64({}, {-1}),
                       [](int i, int j, int k) { return -1; });
}

TEST(KernelsTest, OneHotMarksTheLabelsClass) {
  Attributes attributes;
  attributes.num_classes = 3;
  Tensor output =
      Compute(OpKind::kOneHot, {MakeF64({3}, {0, 2, 1})}, attributes);
  EXPECT_EQ(output.shape(), Shape({3, 3}));
  EXPECT_THAT(output.ToDoubles(), ElementsAre(1, 0, 0, 0, 0, 1, 0, 1, 0));
}

TEST(KernelsTest, OneHotGivesZerosForLabelsThatAreNotAClass) {
  Attributes attributes;
  attributes.num_classes = 3;
  Tensor output = Compute(OpKind::kOneHot,
                          {Make<float>({2, 2}, {1, 3, -1, 1.5})}, attributes);
  EXPECT_EQ(output.shape(), Shape({2, 2, 3}));
  EXPECT_THAT(output.ToDoubles(),
              ElementsAre(0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
}

// --- Matrix product ---------------------------------------------------------

TEST(KernelsTest, MatMulMultipliesMatrices) {
  for (DType dtype : {kF32, kF64}) {
    const Tensor a = MakeF64({2, 3}, {1, 2, 3, 4, 5, 6}).Cast(dtype);
    const Tensor b = MakeF64({3, 2}, {7, 8, 9, 10, 11, 12}).Cast(dtype);
    Tensor output = Compute(OpKind::kMatMul, {a, b});
    EXPECT_EQ(output.shape(), Shape({2, 2}));
    EXPECT_THAT(output.ToDoubles(), ElementsAre(58, 64, 139, 154));
  }
}

TEST(KernelsTest, MatMulMatchesTheTripleLoopOnNonSquareMatrices) {
  constexpr int m = 3, k = 4, n = 5;
  std::vector<double> a(m * k), b(k * n);
  for (int i = 0; i < m * k; ++i) a[i] = 0.5 * i - 2;
  for (int i = 0; i < k * n; ++i) b[i] = 1.0 / (i + 1);
  std::vector<double> expected(m * n, 0);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      for (int p = 0; p < k; ++p)
        expected[i * n + j] += a[i * k + p] * b[p * n + j];
    }
  }
  Tensor output =
      Compute(OpKind::kMatMul, {MakeF64({m, k}, a), MakeF64({k, n}, b)});
  EXPECT_EQ(output.shape(), Shape({m, n}));
  EXPECT_THAT(output.ToDoubles(), Pointwise(DoubleNear(1e-12), expected));
}

// A row of ones times a column whose first term is 2^24 and whose other
// terms are 1: in f32, 2^24 + 1 rounds back to 2^24, so one sum in order
// stays at 2^24, while a sum of two halves adds the second half's exact
// count of ones to it.
Tensor LongSumWithAbsorbedTerms(int64_t rows, int64_t k) {
  Tensor a = Tensor::Full(kF32, {rows, k}, 1.0);
  Tensor b = Tensor::Full(kF32, {k, 1}, 1.0);
  b.Set(0, 16777216.0);
  return Compute(OpKind::kMatMul, {a, b});
}

TEST(KernelsTest, MatMulSumsLongSumsOfFewRowsInHalves) {
  ASSERT_EQ(HalvedSumSplit(2, 512), 256);
  ASSERT_EQ(HalvedSumSplit(100, 784), 400);
  const Tensor halved = LongSumWithAbsorbedTerms(2, 512);
  // 2^24, then the 256 ones of [256, 512) summed apart.
  EXPECT_THAT(halved.ToDoubles(), ElementsAre(16777472.0, 16777472.0));
}

TEST(KernelsTest, MatMulSumsInOrderBelowTheHalvingThresholds) {
  // Too few terms, then too many rows for the sums to be halved.
  EXPECT_EQ(HalvedSumSplit(2, 511), 0);
  EXPECT_EQ(HalvedSumSplit(257, 512), 0);
  EXPECT_THAT(LongSumWithAbsorbedTerms(2, 511).ToDoubles(),
              ElementsAre(16777216.0, 16777216.0));
  EXPECT_THAT(LongSumWithAbsorbedTerms(257, 512).ToDoubles(),
              ::testing::Each(16777216.0));
}

// --- Reductions -------------------------------------------------------------

// Reduces PositionTensor() along `axis` with and without keepdims, and checks
// both against `expected`, listed in row-major order of the kept axes.
void ExpectReduction(OpKind kind, int axis, Shape kept_shape,
                     std::vector<double> expected) {
  for (bool keepdims : {false, true}) {
    SCOPED_TRACE(
        absl::StrCat(OpName(kind), " axis ", axis, " keepdims ", keepdims));
    Shape want_shape = kept_shape;
    if (!keepdims) want_shape.erase(want_shape.begin() + axis);
    Tensor output = Compute(kind, {PositionTensor()}, WithAxis(axis, keepdims));
    EXPECT_EQ(output.shape(), want_shape);
    EXPECT_THAT(output.ToDoubles(), Pointwise(DoubleEq(), expected));
  }
}

// Lists f(a, b) over a in [0, rows) and b in [0, columns), row-major.
template <typename F>
std::vector<double> Table(int rows, int columns, F f) {
  std::vector<double> values;
  for (int a = 0; a < rows; ++a) {
    for (int b = 0; b < columns; ++b) values.push_back(f(a, b));
  }
  return values;
}

TEST(KernelsTest, SumReducesEachAxis) {
  // Σ_i (100i + 10j + k) = 100 + 2(10j + k), and so on for each axis.
  ExpectReduction(OpKind::kSum, 0, {1, 3, 4}, Table(3, 4, [](int j, int k) {
                    return 100 + 2 * (10 * j + k);
                  }));
  ExpectReduction(OpKind::kSum, 1, {2, 1, 4}, Table(2, 4, [](int i, int k) {
                    return 3 * (100 * i + k) + 30;
                  }));
  ExpectReduction(OpKind::kSum, 2, {2, 3, 1}, Table(2, 3, [](int i, int j) {
                    return 4 * (100 * i + 10 * j) + 6;
                  }));
}

TEST(KernelsTest, MeanDividesTheSumByTheAxisLength) {
  ExpectReduction(OpKind::kMean, 0, {1, 3, 4},
                  Table(3, 4, [](int j, int k) { return 50 + 10 * j + k; }));
  ExpectReduction(OpKind::kMean, 1, {2, 1, 4},
                  Table(2, 4, [](int i, int k) { return 100 * i + 10 + k; }));
  ExpectReduction(OpKind::kMean, 2, {2, 3, 1}, Table(2, 3, [](int i, int j) {
                    return 100 * i + 10 * j + 1.5;
                  }));
}

TEST(KernelsTest, MaxAndArgmaxFindTheLargestAlongEachAxis) {
  ExpectReduction(OpKind::kMax, 0, {1, 3, 4},
                  Table(3, 4, [](int j, int k) { return 100 + 10 * j + k; }));
  ExpectReduction(OpKind::kMax, 2, {2, 3, 1}, Table(2, 3, [](int i, int j) {
                    return 100 * i + 10 * j + 3;
                  }));
  ExpectReduction(OpKind::kArgmax, 0, {1, 3, 4}, std::vector<double>(12, 1.0));
  ExpectReduction(OpKind::kArgmax, 1, {2, 1, 4}, std::vector<double>(8, 2.0));
  ExpectReduction(OpKind::kArgmax, 2, {2, 3, 1}, std::vector<double>(6, 3.0));
}

TEST(KernelsTest, MaxOfNegativeValuesIsNegative) {
  const Tensor x = MakeF64({2, 3}, {-3, -1, -2, -5, -4, -6});
  EXPECT_THAT(Compute(OpKind::kMax, {x}, WithAxis(1, false)).ToDoubles(),
              ElementsAre(-1, -4));
  EXPECT_THAT(Compute(OpKind::kMax, {x}, WithAxis(0, false)).ToDoubles(),
              ElementsAre(-3, -1, -2));
}

TEST(KernelsTest, ArgmaxPicksTheFirstOfTiedMaxima) {
  const Tensor rows = MakeF64({3, 3}, {1, 3, 3, 2, 2, 2, -1, -5, -1});
  EXPECT_THAT(Compute(OpKind::kArgmax, {rows}, WithAxis(1, false)).ToDoubles(),
              ElementsAre(1, 0, 0));
  const Tensor columns = MakeF64({3, 2}, {1, 5, 1, 7, 0, 7});
  EXPECT_THAT(
      Compute(OpKind::kArgmax, {columns}, WithAxis(0, true)).ToDoubles(),
      ElementsAre(0, 1));
}

// --- Row-wise ---------------------------------------------------------------

TEST(KernelsTest, SoftmaxMatchesItsDefinition) {
  const std::vector<double> x = {1, 2, 3, 0, 0, -1};
  std::vector<double> expected;
  for (int row = 0; row < 2; ++row) {
    double sum = 0;
    for (int c = 0; c < 3; ++c) sum += std::exp(x[row * 3 + c]);
    for (int c = 0; c < 3; ++c)
      expected.push_back(std::exp(x[row * 3 + c]) / sum);
  }
  EXPECT_THAT(Compute(OpKind::kSoftmax, {MakeF64({2, 3}, x)}).ToDoubles(),
              Pointwise(DoubleNear(1e-15), expected));
}

TEST(KernelsTest, LogSoftmaxRowsExponentiateToOne) {
  const Tensor x = MakeF64({2, 2, 3}, {0.5, -1, 2, 3, 3, 3, -7, 0, 1, 4, 9, 2});
  const std::vector<double> log_p =
      Compute(OpKind::kLogSoftmax, {x}).ToDoubles();
  const std::vector<double> p = Compute(OpKind::kSoftmax, {x}).ToDoubles();
  for (int row = 0; row < 4; ++row) {
    double sum = 0;
    for (int c = 0; c < 3; ++c) {
      sum += std::exp(log_p[row * 3 + c]);
      EXPECT_NEAR(std::exp(log_p[row * 3 + c]), p[row * 3 + c], 1e-15);
    }
    EXPECT_NEAR(sum, 1, 1e-15) << "row " << row;
  }
}

// --- Losses -----------------------------------------------------------------

TEST(KernelsTest, HalfMseIsHalfTheSquaredErrorPerRow) {
  // Squared errors 1 + 0 + 4 + 9 = 14 over N = 2 rows: 14 / (2 · 2).
  const Tensor p = MakeF64({2, 2}, {1, 2, 3, 4});
  const Tensor y = MakeF64({2, 2}, {0, 2, 1, 1});
  Tensor output = Compute(OpKind::kHalfMse, {p, y});
  EXPECT_EQ(output.shape(), Shape({}));
  EXPECT_THAT(output.ToDoubles(), ElementsAre(3.5));
}

TEST(KernelsTest, LossesAverageOverAllLeadingDimensions) {
  // Shape [2,2,1] has N = 4 rows: (1 + 4 + 9 + 16) / (2 · 4).
  const Tensor p = MakeF64({2, 2, 1}, {1, 2, 3, 4});
  const Tensor y = MakeF64({2, 2, 1}, {0, 0, 0, 0});
  EXPECT_THAT(Compute(OpKind::kHalfMse, {p, y}).ToDoubles(), ElementsAre(3.75));
}

TEST(KernelsTest, SigmoidCrossEntropyMatchesItsDefinition) {
  const std::vector<double> s = {-1, 0.5, 2, -3};
  const std::vector<double> y = {0, 1, 1, 0.25};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    const double sigma = 1 / (1 + std::exp(-s[i]));
    sum += -y[i] * std::log(sigma) - (1 - y[i]) * std::log(1 - sigma);
  }
  Tensor output = Compute(OpKind::kSigmoidCrossEntropy,
                          {MakeF64({2, 2}, s), MakeF64({2, 2}, y)});
  EXPECT_THAT(output.ToDoubles(), ElementsAre(DoubleNear(sum / 2, 1e-14)));
}

TEST(KernelsTest, SoftmaxCrossEntropyMatchesItsDefinition) {
  const std::vector<double> s = {1, 2, 3, 0, 0, 1};
  const std::vector<double> y = {0, 0, 1, 0.5, 0.5, 0};
  double sum = 0;
  for (int row = 0; row < 2; ++row) {
    double z = 0;
    for (int c = 0; c < 3; ++c) z += std::exp(s[row * 3 + c]);
    for (int c = 0; c < 3; ++c) {
      sum -= y[row * 3 + c] * std::log(std::exp(s[row * 3 + c]) / z);
    }
  }
  Tensor output = Compute(OpKind::kSoftmaxCrossEntropy,
                          {MakeF64({2, 3}, s), MakeF64({2, 3}, y)});
  EXPECT_THAT(output.ToDoubles(), ElementsAre(DoubleNear(sum / 2, 1e-14)));
}

TEST(KernelsTest, AccuracyCountsRowsWhoseArgmaxesAgree) {
  // Row 0 agrees, row 1 does not, row 2's tie picks class 0 as its label
  // does, row 3 does not: 2 of 4.
  const Tensor scores =
      MakeF64({4, 2}, {0.1, 0.9, 0.8, 0.2, 0.5, 0.5, 0.3, 0.7});
  const Tensor labels = MakeF64({4, 2}, {0, 1, 0, 1, 1, 0, 1, 0});
  Tensor output = Compute(OpKind::kAccuracy, {scores, labels});
  EXPECT_EQ(output.shape(), Shape({}));
  EXPECT_THAT(output.ToDoubles(), ElementsAre(0.5));
}

// --- Numerics in both dtypes ------------------------------------------------

template <typename T>
class KernelsNumericsTest : public testing::Test {};

using FloatTypes = testing::Types<float, double>;
TYPED_TEST_SUITE(KernelsNumericsTest, FloatTypes);

TYPED_TEST(KernelsNumericsTest, SigmoidIsFiniteAndSaturatesAtLargeInputs) {
  Tensor output =
      Compute(OpKind::kSigmoid, {Make<TypeParam>({2}, {-1e4, 1e4})});
  EXPECT_THAT(output.ToDoubles(), ElementsAre(0, 1));
}

TYPED_TEST(KernelsNumericsTest, SigmoidKeepsTinyValuesWhereExpOverflows) {
  // e^−x overflows here, so 1 / (1 + e^−x) would round to 0, while
  // σ(x) = e^x / (1 + e^x) is e^x itself, still a positive subnormal.
  const TypeParam x = sizeof(TypeParam) == sizeof(float) ? -100 : -720;
  ASSERT_TRUE(std::isinf(std::exp(-x)));
  const double result =
      Compute(OpKind::kSigmoid, {Make<TypeParam>({1}, {x})}).At(0);
  EXPECT_GT(result, 0);
  EXPECT_EQ(result, std::exp(x));
}

TYPED_TEST(KernelsNumericsTest, SoftmaxIsFiniteAtLargeLogits) {
  const Tensor x = Make<TypeParam>({3, 2}, {1e4, -1e4, -1e4, -1e4, 1e4, 1e4});
  EXPECT_THAT(Compute(OpKind::kSoftmax, {x}).ToDoubles(),
              ElementsAre(1, 0, 0.5, 0.5, 0.5, 0.5));
}

TYPED_TEST(KernelsNumericsTest, LogSoftmaxIsFiniteAtLargeLogits) {
  const Tensor x = Make<TypeParam>({2, 2}, {1e4, -1e4, -1e4, -1e4});
  const double log_half = -std::log(TypeParam{2});
  EXPECT_THAT(Compute(OpKind::kLogSoftmax, {x}).ToDoubles(),
              ElementsAre(0, -2e4, log_half, log_half));
}

TYPED_TEST(KernelsNumericsTest, SigmoidCrossEntropyIsFiniteAtLargeLogits) {
  // Confident and right costs 0; confident and wrong costs |s| = 1e4.
  const Tensor s = Make<TypeParam>({2, 2}, {1e4, -1e4, 1e4, -1e4});
  const Tensor y = Make<TypeParam>({2, 2}, {1, 0, 0, 1});
  EXPECT_THAT(Compute(OpKind::kSigmoidCrossEntropy, {s, y}).ToDoubles(),
              ElementsAre(1e4));
}

TYPED_TEST(KernelsNumericsTest, SoftmaxCrossEntropyIsFiniteAtLargeLogits) {
  // Row 0 puts its label on the losing logit: −log softmax = 2e4. Row 1 is
  // right: 0. Mean over the two rows: 1e4.
  const Tensor s = Make<TypeParam>({2, 2}, {1e4, -1e4, 1e4, -1e4});
  const Tensor y = Make<TypeParam>({2, 2}, {0, 1, 1, 0});
  EXPECT_THAT(Compute(OpKind::kSoftmaxCrossEntropy, {s, y}).ToDoubles(),
              ElementsAre(1e4));
}

TYPED_TEST(KernelsNumericsTest, ReductionsKeepTheInputsDType) {
  const Tensor x = Make<TypeParam>({2, 2}, {1, 2, 3, 4});
  for (OpKind kind :
       {OpKind::kSum, OpKind::kMean, OpKind::kMax, OpKind::kArgmax}) {
    EXPECT_EQ(Compute(kind, {x}, WithAxis(1, false)).dtype(),
              DTypeOf<TypeParam>());
  }
  EXPECT_THAT(Compute(OpKind::kMean, {x}, WithAxis(0, false)).ToDoubles(),
              ElementsAre(2, 3));
}

}  // namespace
}  // namespace kiln
