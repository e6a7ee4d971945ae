// Tests of code generation and the engine: hand-built loop programs are
// compiled to native code, run on plain arrays and compared, bit for bit,
// with the same computation written in C++ in the same order.

#include "jit/codegen.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jit/engine.h"
#include "jit/loop_ir.h"
#include "llvm/IR/LLVMContext.h"
#include "ops/dtype.h"
#include "tests/fresh_directory.h"

namespace kiln::jit {
namespace {

using ::kiln::testing::FreshDirectory;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

// ---- Running programs ----

absl::StatusOr<std::unique_ptr<CompiledCode>> Compile(
    const LoopProgram& program, absl::string_view key,
    const CompileOptions& options = {}) {
  absl::StatusOr<Engine*> engine = Engine::Get();
  if (!engine.ok()) return engine.status();
  return (*engine)->Compile(program, key, options);
}

// Calls the entry with a table whose entry b points at buffers[b].
void RunOn(const CompiledCode& code, const std::vector<void*>& buffers) {
  std::vector<char*> table;
  for (void* buffer : buffers) table.push_back(static_cast<char*>(buffer));
  code.entry()(table.data());
}

template <typename T>
::testing::AssertionResult BitIdentical(const std::vector<T>& actual,
                                        const std::vector<T>& expected) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << actual.size() << " elements instead of " << expected.size();
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::memcmp(&actual[i], &expected[i], sizeof(T)) != 0) {
      return ::testing::AssertionFailure()
             << "element " << i << " is " << std::setprecision(17) << actual[i]
             << " instead of " << expected[i];
    }
  }
  return ::testing::AssertionSuccess();
}

template <typename T>
std::vector<T> RandomValues(int64_t n, double low, double high, unsigned seed) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<double> distribution(low, high);
  std::vector<T> values(n);
  for (T& value : values) value = static_cast<T>(distribution(generator));
  return values;
}

ExprPtr MakeExpr(Expr expr) {
  return std::make_shared<const Expr>(std::move(expr));
}

// ---- Building programs ----

// The vectors of one step of an elementwise loop: the inputs loaded at the
// loop's index, to be combined into the values stored to the outputs.
using Formula =
    std::function<std::vector<ExprPtr>(const std::vector<ExprPtr>& inputs)>;

// A program of one kernel over buffers 0 .. num_inputs - 1 (inputs) and
// num_inputs .. num_inputs + num_outputs - 1 (outputs), all of `n` elements
// of `dtype`. It applies `formula` `lanes` elements at a time and then one
// at a time for the remainder, as lowering does.
LoopProgram Elementwise(DType dtype, int num_inputs, int num_outputs, int64_t n,
                        int lanes, const Formula& formula) {
  LoopProgram program;
  Kernel kernel{.name = "elementwise"};
  for (int b = 0; b < num_inputs + num_outputs; ++b) {
    program.buffers.push_back({dtype, n, absl::StrCat("buffer", b)});
    (b < num_inputs ? kernel.buffers_read : kernel.buffers_written)
        .push_back(b);
  }
  const ScalarKind kind = ScalarKindOf(dtype);
  auto step = [&](Var i, int step_lanes) {
    std::vector<ExprPtr> inputs;
    for (int b = 0; b < num_inputs; ++b) {
      inputs.push_back(Load(b, Index(i), kind, step_lanes));
    }
    std::vector<StmtPtr> stores;
    std::vector<ExprPtr> outputs = formula(inputs);
    for (int k = 0; k < num_outputs; ++k) {
      stores.push_back(Store(num_inputs + k, Index(i), outputs[k]));
    }
    return stores;
  };
  const int64_t vector_end = n - n % lanes;
  const Var i = NewVar(kernel);
  const Var rest = NewVar(kernel);
  kernel.body = Block({For(i, 0, vector_end, lanes, step(i, lanes)),
                       For(rest, vector_end, n, 1, step(rest, 1))});
  program.kernels.push_back(std::move(kernel));
  return program;
}

// ---- Unary operations ----

template <typename T>
T ReferenceUnary(UnaryOp op, T x) {
  switch (op) {
    case UnaryOp::kNeg:
      return -x;
    case UnaryOp::kExp:
      return std::exp(x);
    case UnaryOp::kLog:
      return std::log(x);
    case UnaryOp::kLog1p:
      return std::log1p(x);
    case UnaryOp::kTanh:
      return std::tanh(x);
    case UnaryOp::kAbs:
      return std::fabs(x);
  }
  return 0;
}

// Inputs inside each function's domain, with a wide spread of magnitudes.
template <typename T>
std::vector<T> UnaryInputs(UnaryOp op, int64_t n) {
  std::vector<T> values = RandomValues<T>(n, -20, 20, 7);
  for (int64_t i = 0; i < n; ++i) {
    T& x = values[i];
    if (op == UnaryOp::kLog) x = std::fabs(x) * std::pow(T(10), T(i % 9 - 4));
    if (op == UnaryOp::kLog1p) {
      x = i % 2 == 0 ? std::fabs(x) : std::fabs(x) * T(1e-6) - T(0.5) * (i % 3);
      if (x <= -1) x = T(-0.75);
    }
  }
  return values;
}

template <typename T>
void CheckUnary(UnaryOp op) {
  constexpr DType dtype = DTypeOf<T>();
  const int lanes = 64 / static_cast<int>(sizeof(T));  // a 512-bit vector
  const int64_t n = 1000;
  const LoopProgram program =
      Elementwise(dtype, 1, 1, n, lanes, [op](const std::vector<ExprPtr>& x) {
        return std::vector<ExprPtr>{Unary(op, x[0])};
      });
  absl::StatusOr<std::unique_ptr<CompiledCode>> code = Compile(
      program,
      absl::StrCat("unary_", DTypeName(dtype), "_", static_cast<int>(op)));
  ASSERT_TRUE(code.ok()) << code.status();

  std::vector<T> x = UnaryInputs<T>(op, n);
  std::vector<T> out(n, std::numeric_limits<T>::quiet_NaN());
  RunOn(**code, {x.data(), out.data()});
  std::vector<T> expected(n);
  for (int64_t i = 0; i < n; ++i) expected[i] = ReferenceUnary(op, x[i]);
  EXPECT_TRUE(BitIdentical(out, expected));
}

class UnaryTest : public ::testing::TestWithParam<std::tuple<DType, UnaryOp>> {
};

TEST_P(UnaryTest, MatchesCLibraryBitForBit) {
  const auto [dtype, op] = GetParam();
  DispatchDType(dtype, [op = op]<typename T>() { CheckUnary<T>(op); });
}

INSTANTIATE_TEST_SUITE_P(
    AllOps, UnaryTest,
    ::testing::Combine(::testing::Values(DType::kF32, DType::kF64),
                       ::testing::Values(UnaryOp::kNeg, UnaryOp::kExp,
                                         UnaryOp::kLog, UnaryOp::kLog1p,
                                         UnaryOp::kTanh, UnaryOp::kAbs)));

// ---- Binary operations, comparisons and selection ----

template <typename T>
T ReferenceArithmetic(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::kAdd:
      return a + b;
    case BinaryOp::kSub:
      return a - b;
    case BinaryOp::kMul:
      return a * b;
    case BinaryOp::kDiv:
      return a / b;
    case BinaryOp::kMax:
      return std::fmax(a, b);
    case BinaryOp::kMin:
      return std::fmin(a, b);
    default:
      ADD_FAILURE() << "not arithmetic";
      return 0;
  }
}

template <typename T>
bool ReferenceComparison(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::kLess:
      return a < b;
    case BinaryOp::kLessEqual:
      return a <= b;
    case BinaryOp::kGreater:
      return a > b;
    case BinaryOp::kGreaterEqual:
      return a >= b;
    case BinaryOp::kEqual:
      return a == b;
    case BinaryOp::kNotEqual:
      return a != b;
    default:
      ADD_FAILURE() << "not a comparison";
      return false;
  }
}

// Operand pairs with equal values and, for max, min and comparisons, NaNs
// on either side (never on both, whose payload is unspecified).
template <typename T>
void BinaryInputs(int64_t n, bool with_nans, std::vector<T>& a,
                  std::vector<T>& b) {
  a = RandomValues<T>(n, -100, 100, 11);
  b = RandomValues<T>(n, -100, 100, 12);
  for (int64_t i = 0; i < n; i += 5) b[i] = a[i];
  if (!with_nans) return;
  const T nan = std::numeric_limits<T>::quiet_NaN();
  for (int64_t i = 1; i < n; i += 7) a[i] = nan;
  for (int64_t i = 3; i < n; i += 11) b[i] = nan;
}

template <typename T>
void CheckArithmetic(BinaryOp op) {
  constexpr DType dtype = DTypeOf<T>();
  const int lanes = 32 / static_cast<int>(sizeof(T));
  const int64_t n = 1003;
  const LoopProgram program =
      Elementwise(dtype, 2, 1, n, lanes, [op](const std::vector<ExprPtr>& x) {
        return std::vector<ExprPtr>{Binary(op, x[0], x[1])};
      });
  absl::StatusOr<std::unique_ptr<CompiledCode>> code = Compile(
      program,
      absl::StrCat("binary_", DTypeName(dtype), "_", static_cast<int>(op)));
  ASSERT_TRUE(code.ok()) << code.status();

  std::vector<T> a, b;
  BinaryInputs(n, op == BinaryOp::kMax || op == BinaryOp::kMin, a, b);
  std::vector<T> out(n);
  RunOn(**code, {a.data(), b.data(), out.data()});
  std::vector<T> expected(n);
  for (int64_t i = 0; i < n; ++i) {
    expected[i] = ReferenceArithmetic(op, a[i], b[i]);
  }
  EXPECT_TRUE(BitIdentical(out, expected));
}

class ArithmeticTest
    : public ::testing::TestWithParam<std::tuple<DType, BinaryOp>> {};

TEST_P(ArithmeticTest, MatchesCxxBitForBit) {
  const auto [dtype, op] = GetParam();
  DispatchDType(dtype, [op = op]<typename T>() { CheckArithmetic<T>(op); });
}

INSTANTIATE_TEST_SUITE_P(
    AllOps, ArithmeticTest,
    ::testing::Combine(::testing::Values(DType::kF32, DType::kF64),
                       ::testing::Values(BinaryOp::kAdd, BinaryOp::kSub,
                                         BinaryOp::kMul, BinaryOp::kDiv,
                                         BinaryOp::kMax, BinaryOp::kMin)));

class ComparisonTest : public ::testing::TestWithParam<BinaryOp> {};

// out0 = (a op b) as 1 or 0; out1 = (a op b) ? a : b.
TEST_P(ComparisonTest, GivesPredicatesForToFloatAndSelect) {
  const BinaryOp op = GetParam();
  const int64_t n = 1000;
  const LoopProgram program =
      Elementwise(DType::kF32, 2, 2, n, 8, [op](const std::vector<ExprPtr>& x) {
        ExprPtr predicate = Binary(op, x[0], x[1]);
        return std::vector<ExprPtr>{ToFloat(predicate, ScalarKind::kF32),
                                    Select(predicate, x[0], x[1])};
      });
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, absl::StrCat("compare_", static_cast<int>(op)));
  ASSERT_TRUE(code.ok()) << code.status();

  std::vector<float> a, b;
  BinaryInputs(n, /*with_nans=*/true, a, b);
  std::vector<float> as_float(n), selected(n);
  RunOn(**code, {a.data(), b.data(), as_float.data(), selected.data()});
  std::vector<float> expected_float(n), expected_selected(n);
  for (int64_t i = 0; i < n; ++i) {
    const bool holds = ReferenceComparison(op, a[i], b[i]);
    expected_float[i] = holds ? 1.0f : 0.0f;
    expected_selected[i] = holds ? a[i] : b[i];
  }
  EXPECT_TRUE(BitIdentical(as_float, expected_float));
  EXPECT_TRUE(BitIdentical(selected, expected_selected));
}

INSTANTIATE_TEST_SUITE_P(
    AllComparisons, ComparisonTest,
    ::testing::Values(BinaryOp::kLess, BinaryOp::kLessEqual, BinaryOp::kGreater,
                      BinaryOp::kGreaterEqual, BinaryOp::kEqual,
                      BinaryOp::kNotEqual));

// A scalar index predicate chooses whole vectors: out = i < 496 ? a : b.
TEST(CodegenTest, ScalarConditionSelectsWholeVectors) {
  const int64_t n = 1000;
  LoopProgram program;
  for (const char* name : {"a", "b", "out"}) {
    program.buffers.push_back({DType::kF64, n, name});
  }
  Kernel kernel{
      .name = "select", .buffers_read = {0, 1}, .buffers_written = {2}};
  const Var i = NewVar(kernel);
  kernel.body =
      For(i, 0, n, 4,
          {Store(2, Index(i),
                 Select(Binary(BinaryOp::kLess, Index(i), IndexConstant(496)),
                        Load(0, Index(i), ScalarKind::kF64, 4),
                        Load(1, Index(i), ScalarKind::kF64, 4)))});
  program.kernels.push_back(std::move(kernel));
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, "scalar_select");
  ASSERT_TRUE(code.ok()) << code.status();

  std::vector<double> a = RandomValues<double>(n, -1, 1, 1);
  std::vector<double> b = RandomValues<double>(n, -1, 1, 2);
  std::vector<double> out(n);
  RunOn(**code, {a.data(), b.data(), out.data()});
  std::vector<double> expected(n);
  for (int64_t j = 0; j < n; ++j) expected[j] = j < 496 ? a[j] : b[j];
  EXPECT_TRUE(BitIdentical(out, expected));
}

// ---- Fused multiply-add and its absence ----

template <typename T>
void CheckFmaAndNoContraction() {
  constexpr DType dtype = DTypeOf<T>();
  const int lanes = 32 / static_cast<int>(sizeof(T));
  const int64_t n = 1000;
  // out0 = fma(a, b, c); out1 = a * b + c, rounded twice.
  const LoopProgram program =
      Elementwise(dtype, 3, 2, n, lanes, [](const std::vector<ExprPtr>& x) {
        return std::vector<ExprPtr>{
            Fma(x[0], x[1], x[2]),
            Binary(BinaryOp::kAdd, Binary(BinaryOp::kMul, x[0], x[1]), x[2])};
      });
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, absl::StrCat("fma_", DTypeName(dtype)));
  ASSERT_TRUE(code.ok()) << code.status();

  std::vector<T> a = RandomValues<T>(n, -3, 3, 21);
  std::vector<T> b = RandomValues<T>(n, -3, 3, 22);
  std::vector<T> c = RandomValues<T>(n, -9, 9, 23);
  std::vector<T> fused(n), separate(n);
  RunOn(**code, {a.data(), b.data(), c.data(), fused.data(), separate.data()});
  std::vector<T> expected_fused(n), expected_separate(n);
  int64_t differences = 0;
  for (int64_t i = 0; i < n; ++i) {
    expected_fused[i] = std::fma(a[i], b[i], c[i]);
    const T product = a[i] * b[i];
    expected_separate[i] = product + c[i];
    differences += expected_fused[i] != expected_separate[i];
  }
  // Otherwise the data could not tell one rounding from two.
  ASSERT_GT(differences, 0);
  EXPECT_TRUE(BitIdentical(fused, expected_fused));
  EXPECT_TRUE(BitIdentical(separate, expected_separate));
}

TEST(CodegenTest, FmaRoundsOnceAndMultiplyAddTwiceF32) {
  CheckFmaAndNoContraction<float>();
}

TEST(CodegenTest, FmaRoundsOnceAndMultiplyAddTwiceF64) {
  CheckFmaAndNoContraction<double>();
}

// ---- Conversions and broadcasts ----

// out[i] = float(3 i + 16777213): from 2^24 on, float rounds the index.
TEST(CodegenTest, IndexToFloatConvertsSigned) {
  const int64_t n = 100;
  LoopProgram program;
  program.buffers.push_back({DType::kF32, n, "out"});
  Kernel kernel{.name = "iota", .buffers_written = {0}};
  const Var i = NewVar(kernel);
  kernel.body = For(i, 0, n, 1,
                    {Store(0, Index(i),
                           IndexToFloat(Index(i) * 3 + (16777213 - 3 * 50),
                                        ScalarKind::kF32))});
  program.kernels.push_back(std::move(kernel));
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, "index_to_float");
  ASSERT_TRUE(code.ok()) << code.status();

  std::vector<float> out(n);
  RunOn(**code, {out.data()});
  std::vector<float> expected(n);
  for (int64_t j = 0; j < n; ++j) {
    expected[j] = static_cast<float>(j * 3 + (16777213 - 3 * 50));
  }
  EXPECT_TRUE(BitIdentical(out, expected));
}

// out[i] = x[i] * s[0], with s[0] loaded once per step and splat.
TEST(CodegenTest, BroadcastSplatsAScalar) {
  const int64_t n = 256;
  LoopProgram program;
  program.buffers = {
      {DType::kF32, n, "x"}, {DType::kF32, 1, "s"}, {DType::kF32, n, "out"}};
  Kernel kernel{
      .name = "scale", .buffers_read = {0, 1}, .buffers_written = {2}};
  const Var i = NewVar(kernel);
  kernel.body = For(
      i, 0, n, 16,
      {Store(
          2, Index(i),
          Binary(BinaryOp::kMul, Load(0, Index(i), ScalarKind::kF32, 16),
                 Broadcast(Load(1, IndexConstant(0), ScalarKind::kF32), 16)))});
  program.kernels.push_back(std::move(kernel));
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, "broadcast");
  ASSERT_TRUE(code.ok()) << code.status();

  std::vector<float> x = RandomValues<float>(n, -5, 5, 3);
  std::vector<float> s = {1.7f};
  std::vector<float> out(n);
  RunOn(**code, {x.data(), s.data(), out.data()});
  std::vector<float> expected(n);
  for (int64_t j = 0; j < n; ++j) expected[j] = x[j] * s[0];
  EXPECT_TRUE(BitIdentical(out, expected));
}

// ---- Reductions ----

// The documented lane order: halves combined lane by lane until one is left.
template <typename T, typename Combine>
T PairwiseReference(std::vector<T> lanes, Combine combine) {
  for (size_t width = lanes.size(); width > 1; width /= 2) {
    for (size_t l = 0; l < width / 2; ++l) {
      lanes[l] = combine(lanes[l], lanes[l + width / 2]);
    }
  }
  return lanes[0];
}

// out[0] = sum of x, eight partial sums in a vector accumulator, then the
// lanes reduced; out[1] = max of x the same way.
TEST(CodegenTest, ReductionUsesPartialSumsAndPairwiseLaneOrder) {
  const int64_t n = 1024;
  const int lanes = 8;
  LoopProgram program;
  program.buffers = {{DType::kF32, n, "x"}, {DType::kF32, 2, "out"}};
  Kernel kernel{.name = "sum_max", .buffers_read = {0}, .buffers_written = {1}};
  const Var i = NewVar(kernel);
  const Var sum = NewVar(kernel);
  const Var max = NewVar(kernel);
  const ValueType vector{ScalarKind::kF32, lanes};
  ExprPtr x = Load(0, Index(i), ScalarKind::kF32, lanes);
  kernel.body = Block({
      Assign(sum, Constant(0, ScalarKind::kF32, lanes)),
      Assign(max, Constant(-std::numeric_limits<double>::infinity(),
                           ScalarKind::kF32, lanes)),
      For(i, 0, n, lanes,
          {Assign(sum, Binary(BinaryOp::kAdd, VarRef(sum, vector), x)),
           Assign(max, Binary(BinaryOp::kMax, VarRef(max, vector), x))}),
      Store(1, IndexConstant(0),
            ReduceLanes(BinaryOp::kAdd, VarRef(sum, vector))),
      Store(1, IndexConstant(1),
            ReduceLanes(BinaryOp::kMax, VarRef(max, vector))),
  });
  program.kernels.push_back(std::move(kernel));
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, "reduce");
  ASSERT_TRUE(code.ok()) << code.status();

  // Each lane's partial sum of another magnitude, from 1e-3 to 1e4, so that
  // the order in which lanes combine shows in the rounding.
  std::vector<float> values = RandomValues<float>(n, 0, 1, 5);
  for (int64_t j = 0; j < n; ++j) {
    values[j] *= std::pow(10.0f, static_cast<float>((j * 3) % lanes) - 3);
  }
  std::vector<float> out(2);
  RunOn(**code, {values.data(), out.data()});

  std::vector<float> partial_sums(lanes, 0.0f);
  std::vector<float> partial_maxima(lanes,
                                    -std::numeric_limits<float>::infinity());
  for (int64_t j = 0; j < n; j += lanes) {
    for (int l = 0; l < lanes; ++l) {
      partial_sums[l] = partial_sums[l] + values[j + l];
      partial_maxima[l] = std::fmax(partial_maxima[l], values[j + l]);
    }
  }
  const float expected_sum =
      PairwiseReference(partial_sums, [](float a, float b) { return a + b; });
  const float expected_max = PairwiseReference(
      partial_maxima, [](float a, float b) { return std::fmax(a, b); });
  // Otherwise the data could not tell the documented order from others:
  // lane after lane, and neighbours first.
  float lane_by_lane = 0;
  for (float partial : partial_sums) lane_by_lane += partial;
  ASSERT_NE(expected_sum, lane_by_lane);
  std::vector<float> neighbours = partial_sums;
  for (size_t width = lanes; width > 1; width /= 2) {
    for (size_t l = 0; l < width / 2; ++l) {
      neighbours[l] = neighbours[2 * l] + neighbours[2 * l + 1];
    }
  }
  ASSERT_NE(expected_sum, neighbours[0]);
  EXPECT_TRUE(
      BitIdentical(out, std::vector<float>{expected_sum, expected_max}));
}

// ---- Loop nests and locals ----

// c = a b for a 7x5 and b 5x3, a scalar accumulator summing over k in order.
TEST(CodegenTest, NestedLoopsComputeMatmulInOrder) {
  const int64_t m = 7, k = 5, n = 3;
  LoopProgram program;
  program.buffers = {{DType::kF64, m * k, "a"},
                     {DType::kF64, k * n, "b"},
                     {DType::kF64, m * n, "c"}};
  Kernel kernel{
      .name = "matmul", .buffers_read = {0, 1}, .buffers_written = {2}};
  const Var i = NewVar(kernel);
  const Var j = NewVar(kernel);
  const Var l = NewVar(kernel);
  const Var acc = NewVar(kernel);
  const ValueType scalar{ScalarKind::kF64, 1};
  kernel.body =
      For(i, 0, m, 1,
          {For(j, 0, n, 1,
               {Assign(acc, Constant(0, ScalarKind::kF64)),
                For(l, 0, k, 1,
                    {Assign(acc, Binary(BinaryOp::kAdd, VarRef(acc, scalar),
                                        Binary(BinaryOp::kMul,
                                               Load(0, Index(i) * k + Index(l),
                                                    ScalarKind::kF64),
                                               Load(1, Index(l) * n + Index(j),
                                                    ScalarKind::kF64))))}),
                Store(2, Index(i) * n + Index(j), VarRef(acc, scalar))})});
  program.kernels.push_back(std::move(kernel));
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, "matmul");
  ASSERT_TRUE(code.ok()) << code.status();

  std::vector<double> a = RandomValues<double>(m * k, -1, 1, 8);
  std::vector<double> b = RandomValues<double>(k * n, -1, 1, 9);
  std::vector<double> c(m * n);
  RunOn(**code, {a.data(), b.data(), c.data()});
  std::vector<double> expected(m * n);
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t s = 0; s < n; ++s) {
      double sum = 0;
      for (int64_t t = 0; t < k; ++t) {
        const double product = a[r * k + t] * b[t * n + s];
        sum = sum + product;
      }
      expected[r * n + s] = sum;
    }
  }
  EXPECT_TRUE(BitIdentical(c, expected));
}

// x[i] = x[i] - 0.5 g[i]: a kernel may read and write the same buffer.
TEST(CodegenTest, UpdatesABufferInPlace) {
  const int64_t n = 1000;
  LoopProgram program;
  program.buffers = {{DType::kF32, n, "x"}, {DType::kF32, n, "g"}};
  Kernel kernel{.name = "sgd", .buffers_read = {0, 1}, .buffers_written = {0}};
  const Var i = NewVar(kernel);
  kernel.body = For(
      i, 0, n, 8,
      {Store(0, Index(i),
             Binary(BinaryOp::kSub, Load(0, Index(i), ScalarKind::kF32, 8),
                    Binary(BinaryOp::kMul, Constant(0.5, ScalarKind::kF32, 8),
                           Load(1, Index(i), ScalarKind::kF32, 8))))});
  program.kernels.push_back(std::move(kernel));
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, "in_place");
  ASSERT_TRUE(code.ok()) << code.status();

  std::vector<float> x = RandomValues<float>(n, -1, 1, 13);
  const std::vector<float> g = RandomValues<float>(n, -1, 1, 14);
  std::vector<float> expected = x;
  for (int64_t j = 0; j < n; ++j) expected[j] = x[j] - 0.5f * g[j];
  RunOn(**code, {x.data(), const_cast<float*>(g.data())});
  EXPECT_TRUE(BitIdentical(x, expected));
}

// y = x + 1; z = 2 y; y = z - 3: only the program order gives these values.
TEST(CodegenTest, EntryRunsKernelsInProgramOrder) {
  const int64_t n = 64;
  LoopProgram program;
  program.buffers = {
      {DType::kF64, n, "x"}, {DType::kF64, n, "y"}, {DType::kF64, n, "z"}};
  auto kernel = [&](const char* name, int in, int out, BinaryOp op,
                    double constant) {
    Kernel k{.name = name, .buffers_read = {in}, .buffers_written = {out}};
    const Var i = NewVar(k);
    k.body = For(i, 0, n, 4,
                 {Store(out, Index(i),
                        Binary(op, Load(in, Index(i), ScalarKind::kF64, 4),
                               Constant(constant, ScalarKind::kF64, 4)))});
    return k;
  };
  program.kernels = {kernel("add", 0, 1, BinaryOp::kAdd, 1),
                     kernel("double", 1, 2, BinaryOp::kMul, 2),
                     kernel("sub", 2, 1, BinaryOp::kSub, 3)};
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, "three_kernels");
  ASSERT_TRUE(code.ok()) << code.status();

  std::vector<double> x = RandomValues<double>(n, -1, 1, 15);
  std::vector<double> y(n), z(n);
  RunOn(**code, {x.data(), y.data(), z.data()});
  std::vector<double> expected_y(n), expected_z(n);
  for (int64_t j = 0; j < n; ++j) {
    expected_z[j] = (x[j] + 1) * 2;
    expected_y[j] = expected_z[j] - 3;
  }
  EXPECT_TRUE(BitIdentical(y, expected_y));
  EXPECT_TRUE(BitIdentical(z, expected_z));
}

// ---- Zero scans, branches, scratch and splits ----

struct ScanCase {
  std::string name;
  NonzeroScan scan;  // index given as a constant; buffer 0
};

std::string ScanName(const ::testing::TestParamInfo<ScanCase>& info) {
  return info.param.name;
}

class NonzeroScanTest : public ::testing::TestWithParam<ScanCase> {};

// The kernel writes each visited position, in visiting order, to buffer 1
// and the number of visits to buffer 2; the test compares both with the
// positions C++ finds.
TEST_P(NonzeroScanTest, VisitsExactlyThePositionsWithANonzeroInOrder) {
  const NonzeroScan& scan = GetParam().scan;
  const int64_t start = scan.index->index_constant;
  const int64_t elements = start + (scan.extent - 1) * scan.stride +
                           (scan.rows - 1) * scan.row_stride + 1;
  std::vector<float> x(elements);
  std::mt19937_64 rng(21);
  std::uniform_int_distribution<int> pick(0, 9);
  for (float& value : x) {
    // Mostly zeros, some negative zeros (which count as zero) and NaNs
    // (which do not), the rest ordinary values.
    const int kind = pick(rng);
    value = kind < 6    ? 0.0f
            : kind == 6 ? -0.0f
            : kind == 7 ? std::numeric_limits<float>::quiet_NaN()
                        : 0.5f + static_cast<float>(kind);
  }
  std::vector<float> expected;
  for (int64_t q = 0; q < scan.extent; ++q) {
    for (int r = 0; r < scan.rows; ++r) {
      const float value = x[start + q * scan.stride + r * scan.row_stride];
      if (value != 0.0f) {
        expected.push_back(static_cast<float>(q));
        break;
      }
    }
  }

  LoopProgram program;
  program.buffers = {{DType::kF32, elements, "x"},
                     {DType::kF32, scan.extent, "visited"},
                     {DType::kF32, 1, "count"}};
  Kernel kernel{.name = "scan", .buffers_read = {0}, .buffers_written = {1, 2}};
  const Var q = NewVar(kernel);
  const Var count = NewVar(kernel);
  NonzeroScan with_buffer = scan;
  with_buffer.buffer = 0;
  kernel.body = Block(
      {Assign(count, IndexConstant(0)),
       ForNonzero(
           q, with_buffer,
           {Store(1, Index(count), IndexToFloat(Index(q), ScalarKind::kF32)),
            Assign(count, Index(count) + 1)}),
       Store(2, IndexConstant(0),
             IndexToFloat(Index(count), ScalarKind::kF32))});
  program.kernels.push_back(std::move(kernel));
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, absl::StrCat("scan_", GetParam().name));
  ASSERT_TRUE(code.ok()) << code.status();

  std::vector<float> visited(scan.extent, -1.0f), visits(1);
  RunOn(**code, {x.data(), visited.data(), visits.data()});
  ASSERT_EQ(visits[0], static_cast<float>(expected.size()));
  visited.resize(expected.size());
  EXPECT_TRUE(BitIdentical(visited, expected));
}

INSTANTIATE_TEST_SUITE_P(
    Scans, NonzeroScanTest,
    ::testing::Values(
        ScanCase{"contiguous_one_chunk",
                 {.index = IndexConstant(3), .extent = 40}},
        ScanCase{"contiguous_many_chunks",
                 {.index = IndexConstant(5), .extent = 200}},
        ScanCase{"contiguous_whole_chunks",
                 {.index = IndexConstant(0), .extent = 128}},
        ScanCase{"contiguous_two_rows",
                 {.index = IndexConstant(1),
                  .extent = 150,
                  .rows = 2,
                  .row_stride = 157}},
        ScanCase{"strided",
                 {.index = IndexConstant(2), .extent = 100, .stride = 7}},
        ScanCase{"strided_adjacent_rows",
                 {.index = IndexConstant(4),
                  .extent = 70,
                  .stride = 9,
                  .rows = 3,
                  .row_stride = 1}},
        ScanCase{"strided_spread_rows",
                 {.index = IndexConstant(0),
                  .extent = 65,
                  .stride = 3,
                  .rows = 2,
                  .row_stride = 500}}),
    ScanName);

// out = x > 0 ? 1 : 2, with the branch taken on a loaded scalar.
TEST(CodegenTest, IfRunsExactlyOneBranch) {
  LoopProgram program;
  program.buffers = {{DType::kF64, 4, "x"}, {DType::kF64, 4, "out"}};
  Kernel kernel{.name = "branch", .buffers_read = {0}, .buffers_written = {1}};
  const Var i = NewVar(kernel);
  ExprPtr positive =
      Binary(BinaryOp::kGreater, Load(0, Index(i), ScalarKind::kF64),
             Constant(0, ScalarKind::kF64));
  kernel.body =
      For(i, 0, 4, 1,
          {If(positive, {Store(1, Index(i), Constant(1, ScalarKind::kF64))},
              {Store(1, Index(i), Constant(2, ScalarKind::kF64))})});
  program.kernels.push_back(std::move(kernel));
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, "branch");
  ASSERT_TRUE(code.ok()) << code.status();
  std::vector<double> x = {3, -1, 0, 0.5}, out(4);
  RunOn(**code, {x.data(), out.data()});
  EXPECT_TRUE(BitIdentical(out, std::vector<double>{1, 2, 2, 1}));
}

// A local scratch buffer holds partial results within one call and needs no
// table entry: the test passes a null pointer for it.
TEST(CodegenTest, LocalScratchLivesOnTheKernelsStack) {
  const int64_t n = 48;
  LoopProgram program;
  program.buffers = {{DType::kF32, n, "x"},
                     {DType::kF32, n, "out"},
                     {.dtype = DType::kF32,
                      .num_elements = n,
                      .name = "scratch",
                      .local = true}};
  Kernel kernel{
      .name = "scratch", .buffers_read = {0, 2}, .buffers_written = {1, 2}};
  const Var i = NewVar(kernel);
  const Var j = NewVar(kernel);
  // scratch[i] = 2 x[i], then out[j] = scratch[n - 1 - j].
  kernel.body =
      Block({For(i, 0, n, 16,
                 {Store(2, Index(i),
                        Binary(BinaryOp::kMul,
                               Load(0, Index(i), ScalarKind::kF32, 16),
                               Constant(2, ScalarKind::kF32, 16)))}),
             For(j, 0, n, 1,
                 {Store(1, Index(j),
                        Load(2, IndexConstant(n - 1) + Index(j) * -1,
                             ScalarKind::kF32))})});
  program.kernels.push_back(std::move(kernel));
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, "scratch");
  ASSERT_TRUE(code.ok()) << code.status();
  std::vector<float> x = RandomValues<float>(n, -1, 1, 22), out(n);
  RunOn(**code, {x.data(), out.data(), nullptr});
  std::vector<float> expected(n);
  for (int64_t k = 0; k < n; ++k) expected[k] = 2 * x[n - 1 - k];
  EXPECT_TRUE(BitIdentical(out, expected));
}

// Hands out the chunks of kernel 0 in order, counting the claims of the
// part that asks, as a run's claims would.
struct ChunkCounter {
  int64_t chunks = 0;
  int64_t next = 0;
  int64_t claims = 0;
};

int64_t ClaimInOrder(void* state, int64_t kernel) {
  auto* counter = static_cast<ChunkCounter*>(state);
  EXPECT_EQ(kernel, 0);
  if (counter->next == counter->chunks) return -1;
  ++counter->claims;
  return counter->next++;
}

// A split kernel whose prologue counts its runs, and whose body marks each
// element of its chunk: 1 up to the end of the whole grains, 2 after.
LoopProgram MarkingSplitProgram(int64_t extent, int64_t grain, int64_t chunks) {
  LoopProgram program;
  program.buffers = {{DType::kF32, extent, "marks"},
                     {DType::kF32, 1, "prologues"}};
  Kernel kernel{
      .name = "split", .buffers_read = {0, 1}, .buffers_written = {0, 1}};
  SplitKernel(kernel, extent, grain, chunks);
  const Var i = NewVar(kernel);
  auto add = [](int buffer, ExprPtr at, double value) {
    return Store(buffer, at,
                 Binary(BinaryOp::kAdd, Load(buffer, at, ScalarKind::kF32),
                        Constant(value, ScalarKind::kF32)));
  };
  kernel.prologue = add(1, IndexConstant(0), 1);
  kernel.body =
      Block({For(i, Index(kernel.split.begin), Index(kernel.split.grain_end), 1,
                 {add(0, Index(i), 1)}),
             For(i, Index(kernel.split.grain_end), Index(kernel.split.end), 1,
                 {add(0, Index(i), 2)})});
  program.kernels.push_back(std::move(kernel));
  return program;
}

// Run as `parts` parts one after another, each claiming `per_part` chunks
// (the last what is left), every element is marked once, only the very
// last elements get 2, and the prologue runs once per part with a chunk.
void ExpectSplitCoversOnce(int64_t extent, int64_t grain, int64_t chunks,
                           int parts, int64_t per_part) {
  const LoopProgram program = MarkingSplitProgram(extent, grain, chunks);
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, absl::StrCat("split_", extent, "_", grain, "_", chunks),
              {.export_kernels = true});
  ASSERT_TRUE(code.ok()) << code.status();

  std::vector<float> marks(extent);
  float prologues = 0;
  char* table[] = {reinterpret_cast<char*>(marks.data()),
                   reinterpret_cast<char*>(&prologues)};
  ChunkCounter counter{.chunks = program.kernels[0].split.chunks};
  int parts_with_chunks = 0;
  for (int part = 0; part < parts; ++part) {
    // Caps what this part may claim, as other parts would by claiming.
    ChunkCounter capped{
        .chunks = part + 1 == parts
                      ? counter.chunks
                      : std::min(counter.chunks, counter.next + per_part),
        .next = counter.next};
    const RunPart run_part{.index = part,
                           .count = parts,
                           .claim_chunk = &ClaimInOrder,
                           .claim_state = &capped};
    (*code)->kernels()[0](table, &run_part);
    counter.next = capped.next;
    if (capped.claims > 0) ++parts_with_chunks;
  }
  EXPECT_EQ(counter.next, counter.chunks);
  EXPECT_EQ(prologues, static_cast<float>(parts_with_chunks));
  const int64_t tail = extent % grain;
  for (int64_t e = 0; e < extent; ++e) {
    EXPECT_EQ(marks[e], e >= extent - tail ? 2.0f : 1.0f)
        << "element " << e << " of " << extent << " in grains of " << grain
        << ", " << chunks << " chunks over " << parts << " parts";
  }
}

TEST(CodegenTest, SplitKernelsCoverTheirRangeOnceInWholeGrains) {
  ExpectSplitCoversOnce(100, 4, 25, 2, 12);
  ExpectSplitCoversOnce(100, 4, 7, 2, 3);
  ExpectSplitCoversOnce(103, 4, 26, 2, 0);  // the first part gets none
  ExpectSplitCoversOnce(103, 4, 5, 3, 1);
  ExpectSplitCoversOnce(5, 4, 2, 4, 1);  // more parts than chunks
  ExpectSplitCoversOnce(784, 16, 49, 2, 30);
}

// With a single part, a split kernel computes its whole range as one
// chunk, without claiming anything, and runs its prologue once.
TEST(CodegenTest, OnePartComputesTheWholeSplitRange) {
  const LoopProgram program = MarkingSplitProgram(103, 4, 9);
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, "split_one_part");
  ASSERT_TRUE(code.ok()) << code.status();
  std::vector<float> marks(103);
  float prologues = 0;
  char* table[] = {reinterpret_cast<char*>(marks.data()),
                   reinterpret_cast<char*>(&prologues)};
  (*code)->entry()(table);
  EXPECT_EQ(prologues, 1.0f);
  for (int64_t e = 0; e < 103; ++e) {
    EXPECT_EQ(marks[e], e >= 100 ? 2.0f : 1.0f) << "element " << e;
  }
}

// Chunks are as equal in grains as they go: 25 grains in 7 chunks give
// chunks of 3 or 4 grains, in order.
TEST(CodegenTest, ChunksDivideTheGrainsEvenly) {
  LoopProgram program;
  program.buffers = {{DType::kF64, 7, "firsts"}, {DType::kF64, 7, "ends"}};
  Kernel kernel{.name = "bounds", .buffers_written = {0, 1}};
  SplitKernel(kernel, 100, 4, 7);
  const Var chunk = NewVar(kernel);
  // Each chunk stores its bounds at the index of its first grain's chunk.
  kernel.prologue = Assign(chunk, IndexConstant(0));
  kernel.body =
      Block({Store(0, Index(chunk),
                   IndexToFloat(Index(kernel.split.begin), ScalarKind::kF64)),
             Store(1, Index(chunk),
                   IndexToFloat(Index(kernel.split.end), ScalarKind::kF64)),
             Assign(chunk, Index(chunk) + int64_t{1})});
  program.kernels.push_back(std::move(kernel));
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, "split_bounds", {.export_kernels = true});
  ASSERT_TRUE(code.ok()) << code.status();
  std::vector<double> firsts(7, -1), ends(7, -1);
  char* table[] = {reinterpret_cast<char*>(firsts.data()),
                   reinterpret_cast<char*>(ends.data())};
  ChunkCounter counter{.chunks = 7};
  const RunPart run_part{.index = 0,
                         .count = 2,
                         .claim_chunk = &ClaimInOrder,
                         .claim_state = &counter};
  (*code)->kernels()[0](table, &run_part);
  EXPECT_EQ(firsts, (std::vector<double>{0, 12, 28, 40, 56, 68, 84}));
  EXPECT_EQ(ends, (std::vector<double>{12, 28, 40, 56, 68, 84, 100}));
}

// A vector that overhangs a row reads zeros beyond its active lanes and
// writes nothing there.
TEST(CodegenTest, MaskedVectorsTouchOnlyTheirActiveLanes) {
  LoopProgram program;
  program.buffers = {{DType::kF32, 16, "x"},
                     {DType::kF32, 16, "out"},
                     {DType::kF32, 1, "sum"}};
  Kernel kernel{
      .name = "masked", .buffers_read = {0}, .buffers_written = {1, 2}};
  ExprPtr x = Load(0, IndexConstant(0), ScalarKind::kF32, 16, 10);
  kernel.body = Block(
      {Store(1, IndexConstant(0),
             Binary(BinaryOp::kAdd, x, Constant(1, ScalarKind::kF32, 16)), 10),
       Store(2, IndexConstant(0), ReduceLanes(BinaryOp::kAdd, x))});
  program.kernels.push_back(std::move(kernel));
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(program, "masked");
  ASSERT_TRUE(code.ok()) << code.status();
  std::vector<float> input(16), out(16, -1), sum(1);
  for (int i = 0; i < 16; ++i) input[i] = static_cast<float>(i + 1);
  RunOn(**code, {input.data(), out.data(), sum.data()});
  std::vector<float> expected(16, -1);
  for (int i = 0; i < 10; ++i) expected[i] = input[i] + 1;
  EXPECT_TRUE(BitIdentical(out, expected));
  EXPECT_EQ(sum[0], 55.0f) << "1 + 2 + ... + 10, the other lanes zero";
}

TEST(CodegenTest, ProgramWithoutKernelsDoesNothing) {
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(LoopProgram{}, "empty");
  ASSERT_TRUE(code.ok()) << code.status();
  RunOn(**code, {});
}

// ---- Ill-typed programs ----

// A program over f32 buffer 0 and f64 buffer 1 with one kernel, "bad",
// whose body `make_body` builds; the kernel reads `buffers_read` and writes
// both buffers.
LoopProgram BadProgram(const std::function<StmtPtr(Kernel&)>& make_body,
                       std::vector<int> buffers_read = {0, 1}) {
  LoopProgram program;
  program.buffers = {{DType::kF32, 16, "f32_buffer"},
                     {DType::kF64, 16, "f64_buffer"}};
  Kernel kernel{.name = "bad",
                .buffers_read = std::move(buffers_read),
                .buffers_written = {0, 1}};
  kernel.body = make_body(kernel);
  program.kernels.push_back(std::move(kernel));
  return program;
}

void ExpectInvalid(const LoopProgram& program, absl::string_view what) {
  llvm::LLVMContext context;
  absl::StatusOr<std::unique_ptr<llvm::Module>> module =
      GenerateModule(program, "entry", context);
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.status().code(), absl::StatusCode::kInvalidArgument)
      << module.status();
  EXPECT_THAT(module.status().message(), HasSubstr("kernel 'bad'"));
  EXPECT_THAT(module.status().message(), HasSubstr(what));
}

// f32_buffer[i] = f32_buffer[i] + f64_buffer[i], typed as f32.
LoopProgram MixedAddition() {
  return BadProgram([](Kernel& kernel) {
    const Var i = NewVar(kernel);
    ExprPtr sum = MakeExpr({.kind = Expr::Kind::kBinary,
                            .type = {ScalarKind::kF32, 1},
                            .binary_op = BinaryOp::kAdd,
                            .operands = {Load(0, Index(i), ScalarKind::kF32),
                                         Load(1, Index(i), ScalarKind::kF64)}});
    return For(i, 0, 16, 1, {Store(0, Index(i), sum)});
  });
}

TEST(CodegenErrorTest, RejectsAddingF32ToF64) {
  ExpectInvalid(MixedAddition(), "of type f64");
}

TEST(CodegenErrorTest, RejectsStoringF64IntoF32Buffer) {
  ExpectInvalid(
      BadProgram([](Kernel& kernel) {
        const Var i = NewVar(kernel);
        return For(i, 0, 16, 1,
                   {Store(0, Index(i), Load(1, Index(i), ScalarKind::kF64))});
      }),
      "into buffer b0 (f32_buffer) of dtype f32");
}

TEST(CodegenErrorTest, RejectsUnknownBuffer) {
  ExpectInvalid(
      BadProgram([](Kernel& kernel) {
        const Var i = NewVar(kernel);
        return For(i, 0, 16, 1,
                   {Store(0, Index(i), Load(7, Index(i), ScalarKind::kF32))});
      }),
      "buffer b7, but the program has 2 buffers");
}

TEST(CodegenErrorTest, RejectsLoadFromBufferTheKernelDoesNotList) {
  ExpectInvalid(BadProgram(
                    [](Kernel& kernel) {
                      const Var i = NewVar(kernel);
                      kernel.buffers_written = {0};
                      return For(i, 0, 16, 1,
                                 {Store(0, Index(i),
                                        Load(1, Index(i), ScalarKind::kF32))});
                    },
                    /*buffers_read=*/{0}),
                "loads from buffer b1 (f64_buffer)");
}

TEST(CodegenErrorTest, RejectsVariableReadBeforeAssignment) {
  ExpectInvalid(
      BadProgram([](Kernel& kernel) {
        const Var i = NewVar(kernel);
        const Var late = NewVar(kernel);
        return Block(
            {For(i, 0, 16, 1,
                 {Store(0, Index(i), VarRef(late, {ScalarKind::kF32, 1}))}),
             Assign(late, Constant(1, ScalarKind::kF32))});
      }),
      "reads variable v1 before assigning it");
}

TEST(CodegenErrorTest, RejectsVariableOfTwoTypes) {
  ExpectInvalid(BadProgram([](Kernel& kernel) {
                  const Var v = NewVar(kernel);
                  return Block({Assign(v, Constant(1, ScalarKind::kF32)),
                                Assign(v, Constant(1, ScalarKind::kF64))});
                }),
                "assigns f64 to variable v0, which holds f32");
}

TEST(CodegenErrorTest, RejectsLaneReductionOfSixLanes) {
  ExpectInvalid(BadProgram([](Kernel& kernel) {
                  return Store(
                      0, IndexConstant(0),
                      ReduceLanes(BinaryOp::kAdd, Load(0, IndexConstant(0),
                                                       ScalarKind::kF32, 6)));
                }),
                "power-of-two");
}

TEST(CodegenErrorTest, EngineReportsIllTypedProgramsAsInvalidArgument) {
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(MixedAddition(), "mixed_addition");
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(code.status().message(), HasSubstr("kernel 'bad'"));
}

// ---- The engine ----

// out[i] = exp(x[i]) * 2, in f32 with 8 lanes.
LoopProgram ScaledExp(int64_t n) {
  return Elementwise(
      DType::kF32, 1, 1, n, 8, [](const std::vector<ExprPtr>& x) {
        return std::vector<ExprPtr>{
            Binary(BinaryOp::kMul, Unary(UnaryOp::kExp, x[0]),
                   Constant(2, ScalarKind::kF32, x[0]->type.lanes))};
      });
}

std::vector<float> RunScaledExp(const CompiledCode& code,
                                const std::vector<float>& x) {
  std::vector<float> out(x.size());
  RunOn(code, {const_cast<float*>(x.data()), out.data()});
  return out;
}

std::vector<float> ExpectedScaledExp(const std::vector<float>& x) {
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = std::exp(x[i]) * 2.0f;
  return out;
}

TEST(EngineTest, DescribesTheTarget) {
  absl::StatusOr<Engine*> engine = Engine::Get();
  ASSERT_TRUE(engine.ok()) << engine.status();
  const std::string& description = (*engine)->target_description();
  // The code generator's identity: a digest of its sources.
  EXPECT_THAT(description, ContainsRegex("^kiln codegen [0-9a-f]{16}; "));
  EXPECT_THAT(description, HasSubstr("llvm 19."));
  EXPECT_THAT(description, HasSubstr("; cpu "));
  EXPECT_EQ(*Engine::Get(), *engine);
}

TEST(EngineTest, SecondCompilationLoadsTheDiskCache) {
  const std::string cache_dir = FreshDirectory("cache").string();
  const std::string key = "0123abcd";
  const std::vector<float> x = RandomValues<float>(1000, -10, 10, 31);
  const CompileOptions options{.cache_dir = cache_dir, .keep_ir_before = true};
  std::vector<float> first;
  {
    absl::StatusOr<std::unique_ptr<CompiledCode>> code =
        Compile(ScaledExp(1000), key, options);
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_FALSE((*code)->loaded_from_disk_cache());
    EXPECT_FALSE((*code)->ir_before().empty());
    first = RunScaledExp(**code, x);
  }
  EXPECT_TRUE(BitIdentical(first, ExpectedScaledExp(x)));
  EXPECT_TRUE(std::filesystem::exists(cache_dir + "/" + key + ".kjit"));

  absl::StatusOr<std::unique_ptr<CompiledCode>> cached =
      Compile(ScaledExp(1000), key, options);
  ASSERT_TRUE(cached.ok()) << cached.status();
  EXPECT_TRUE((*cached)->loaded_from_disk_cache());
  EXPECT_TRUE((*cached)->ir_before().empty());
  EXPECT_TRUE(BitIdentical(RunScaledExp(**cached, x), first));
}

// Garbage, and a valid object cut in half, are both regenerated and
// replaced by a good file.
TEST(EngineTest, DamagedCacheFilesAreRegenerated) {
  const std::string cache_dir = FreshDirectory("damaged_cache").string();
  const std::string key = "feedbeef";
  const std::string path = cache_dir + "/" + key + ".kjit";
  const std::vector<float> x = RandomValues<float>(1000, -10, 10, 32);
  const CompileOptions options{.cache_dir = cache_dir};
  ASSERT_TRUE(Compile(ScaledExp(1000), key, options).ok());
  std::string good;
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    good = contents.str();
  }
  ASSERT_FALSE(good.empty());

  for (const std::string& damaged : {std::string("this is not an object file"),
                                     good.substr(0, good.size() / 2)}) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << damaged;
    }
    absl::StatusOr<std::unique_ptr<CompiledCode>> code =
        Compile(ScaledExp(1000), key, options);
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_FALSE((*code)->loaded_from_disk_cache());
    EXPECT_TRUE(BitIdentical(RunScaledExp(**code, x), ExpectedScaledExp(x)));

    absl::StatusOr<std::unique_ptr<CompiledCode>> reloaded =
        Compile(ScaledExp(1000), key, options);
    ASSERT_TRUE(reloaded.ok()) << reloaded.status();
    EXPECT_TRUE((*reloaded)->loaded_from_disk_cache());
    EXPECT_TRUE(
        BitIdentical(RunScaledExp(**reloaded, x), ExpectedScaledExp(x)));
  }
}

TEST(EngineTest, CacheNeedsAKey) {
  absl::StatusOr<std::unique_ptr<CompiledCode>> code =
      Compile(ScaledExp(8), "",
              {.cache_dir = FreshDirectory("keyless_cache").string()});
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EngineTest, KeepsIrAndAssemblyWhenAsked) {
  absl::StatusOr<std::unique_ptr<CompiledCode>> code = Compile(
      ScaledExp(64), "dumps-1",
      {.keep_ir_before = true, .keep_ir_after = true, .keep_assembly = true});
  ASSERT_TRUE(code.ok()) << code.status();
  const CompiledCode& compiled = **code;
  // The key is reduced to [A-Za-z0-9_] in symbol names.
  EXPECT_THAT(compiled.ir_before(),
              HasSubstr("define void @kiln_dumps_1_entry"));
  EXPECT_THAT(compiled.ir_before(), HasSubstr("@expf"));
  EXPECT_THAT(compiled.ir_after(), HasSubstr("define"));
  EXPECT_THAT(compiled.assembly(), HasSubstr("kiln_dumps_1_entry:"));
  EXPECT_TRUE(BitIdentical(RunScaledExp(compiled, std::vector<float>(64, 1)),
                           std::vector<float>(64, std::exp(1.0f) * 2)));

  absl::StatusOr<std::unique_ptr<CompiledCode>> plain =
      Compile(ScaledExp(64), "dumps-2", {});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_TRUE((*plain)->ir_before().empty());
  EXPECT_TRUE((*plain)->ir_after().empty());
  EXPECT_TRUE((*plain)->assembly().empty());
}

// Loops that only zero or copy memory stay the kernel's own vector stores:
// LLVM would otherwise turn them into calls to memset or memmove, whose
// call and start-up cost more than the few kilobytes kernels move at a time.
TEST(EngineTest, ZeroingAndCopyingLoopsCallNoLibraryFunction) {
  const int64_t n = 4096;
  const LoopProgram zero =
      Elementwise(DType::kF32, 0, 1, n, 16, [](const std::vector<ExprPtr>&) {
        return std::vector<ExprPtr>{Constant(0, ScalarKind::kF32, 16)};
      });
  const LoopProgram copy =
      Elementwise(DType::kF32, 1, 1, n, 16,
                  [](const std::vector<ExprPtr>& x) { return x; });
  std::vector<float> in = RandomValues<float>(n, -10, 10, 41);
  for (const auto& [program, key] :
       {std::pair{&zero, "zeroing"}, std::pair{&copy, "copying"}}) {
    absl::StatusOr<std::unique_ptr<CompiledCode>> code =
        Compile(*program, key, {.keep_assembly = true});
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_THAT((*code)->assembly(), Not(HasSubstr("memset"))) << key;
    EXPECT_THAT((*code)->assembly(), Not(HasSubstr("memcpy"))) << key;
    EXPECT_THAT((*code)->assembly(), Not(HasSubstr("memmove"))) << key;
    std::vector<float> out(n, 7);
    if (program == &zero) {
      RunOn(**code, {out.data()});
      EXPECT_TRUE(BitIdentical(out, std::vector<float>(n, 0)));
    } else {
      RunOn(**code, {in.data(), out.data()});
      EXPECT_TRUE(BitIdentical(out, in));
    }
  }
}

// Code is unloaded with its CompiledCode; programs of the same key coexist.
TEST(EngineTest, CompilesAndFreesManyPrograms) {
  const std::vector<float> x = RandomValues<float>(200, -10, 10, 33);
  std::unique_ptr<CompiledCode> kept;
  for (int round = 0; round < 20; ++round) {
    absl::StatusOr<std::unique_ptr<CompiledCode>> code =
        Compile(ScaledExp(200 - round * 8), "many");
    ASSERT_TRUE(code.ok()) << code.status();
    std::vector<float> prefix(x.begin(), x.end() - round * 8);
    EXPECT_TRUE(
        BitIdentical(RunScaledExp(**code, prefix), ExpectedScaledExp(prefix)))
        << "round " << round;
    if (round == 0) kept = *std::move(code);
  }
  EXPECT_TRUE(BitIdentical(RunScaledExp(*kept, x), ExpectedScaledExp(x)));
}

TEST(EngineTest, CompilesOnSeveralThreadsAtOnce) {
  const std::vector<float> x = RandomValues<float>(96, -10, 10, 34);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        absl::StatusOr<std::unique_ptr<CompiledCode>> code =
            Compile(ScaledExp(96), absl::StrCat("thread", t, "_", round));
        if (!code.ok() ||
            !BitIdentical(RunScaledExp(**code, x), ExpectedScaledExp(x))) {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(failures, ::testing::Each(0));
}

}  // namespace
}  // namespace kiln::jit
