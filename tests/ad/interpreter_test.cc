// The interpreter runs graphs fed by name, and rejects bad feeds with a
// status that says which feed and what was wrong.

#include "ad/interpreter.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "ad/autodiff.h"
#include "ad/builder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/ad/test_util.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

class InterpreterTest : public ::testing::Test {
 protected:
  InterpreterTest() {
    x_ = graph_.Input("x", {2, 3}, kF64);
    w_ = graph_.Parameter("w", {3, 2}, kF64);
    unused_ = graph_.Input("unused", {5}, kF64);
    y_ = Relu(MatMul(x_, w_));
  }

  absl::StatusOr<std::vector<Tensor>> Evaluate(const FeedMap& feeds) {
    return kiln::Evaluate(interpreter_, graph_, {y_}, feeds);
  }

  FeedMap GoodFeeds() {
    return {{"x", Tensor::FromValues<double>({2, 3}, {1, 2, 3, 4, 5, 6})},
            {"w", Tensor::FromValues<double>({3, 2}, {1, -1, 0, 1, 1, 0})}};
  }

  Interpreter interpreter_;
  Graph graph_;
  Node x_, w_, unused_, y_;
};

TEST_F(InterpreterTest, ComputesMatMulAndRelu) {
  absl::StatusOr<std::vector<Tensor>> values = Evaluate(GoodFeeds());
  ASSERT_TRUE(values.ok()) << values.status();
  // [1 2 3; 4 5 6] · [1 -1; 0 1; 1 0] = [4 1; 10 1]
  EXPECT_EQ((*values)[0].ToDoubles(), (std::vector<double>{4, 1, 10, 1}));
}

TEST_F(InterpreterTest, UnneededLeavesNeedNoFeed) {
  EXPECT_TRUE(Evaluate(GoodFeeds()).ok());
}

TEST_F(InterpreterTest, UnknownFeedNameIsRejected) {
  FeedMap feeds = GoodFeeds();
  feeds["z"] = Tensor(kF64, {2});
  absl::Status status = Evaluate(feeds).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("unknown feed 'z'"));
  EXPECT_THAT(status.message(), HasSubstr("it has: x, w, unused"));
}

TEST_F(InterpreterTest, MissingFeedIsRejected) {
  FeedMap feeds = GoodFeeds();
  feeds.erase("w");
  absl::Status status = Evaluate(feeds).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("missing feed for parameter 'w' (f64[3,2])"));
}

TEST_F(InterpreterTest, WrongShapeIsRejected) {
  FeedMap feeds = GoodFeeds();
  feeds["x"] = Tensor(kF64, {3, 2});
  absl::Status status = Evaluate(feeds).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("feed 'x' is f64[3,2] but input 'x' is f64[2,3]"));
}

TEST_F(InterpreterTest, WrongDtypeIsRejected) {
  FeedMap feeds = GoodFeeds();
  feeds["w"] = Tensor(kF32, {3, 2});
  absl::Status status = Evaluate(feeds).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("feed 'w' is f32[3,2] but parameter 'w' is f64[3,2]"));
}

TEST_F(InterpreterTest, GraphThatFailedToBuildIsRefused) {
  MatMul(x_, x_);
  absl::Status status = Evaluate(GoodFeeds()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("matmul: inner dimensions"));
}

TEST_F(InterpreterTest, InvalidOutputIsRefused) {
  absl::Status status =
      kiln::Evaluate(interpreter_, graph_, {Node()}, GoodFeeds()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("output 0"));
}

TEST_F(InterpreterTest, ProgramOutlivesTheGraphChangesAndReruns) {
  absl::StatusOr<std::unique_ptr<Program>> program =
      interpreter_.Compile(graph_, {y_});
  ASSERT_TRUE(program.ok());
  Sigmoid(y_);  // Growing the graph does not disturb the program.
  for (int run = 0; run < 2; ++run) {
    absl::StatusOr<std::vector<Tensor>> values = (*program)->Run(GoodFeeds());
    ASSERT_TRUE(values.ok());
    EXPECT_EQ((*values)[0].At(2), 10);
  }
}

TEST_F(InterpreterTest, LeafOutputIsReturnedAsFed) {
  absl::StatusOr<std::vector<Tensor>> values =
      kiln::Evaluate(interpreter_, graph_, {x_}, GoodFeeds());
  ASSERT_TRUE(values.ok());
  EXPECT_EQ((*values)[0].At(5), 6);
}

// The branch not taken may be inf or NaN; neither the value nor the
// gradient of select may see it.
TEST(SelectGradientTest, UntakenBranchInfinityDoesNotReachGradient) {
  Graph g;
  Node x = g.Input("x", {4}, kF64);
  Node positive = Greater(x, FillLike(x, 0.0));
  // Untaken: log(0) = -inf with derivative 1/0 = inf, and log(-1) = NaN.
  Node y = Select(positive, Tanh(Log(x)) * Exp(-1.0 / x), FillLike(x, 0.0));
  Node dy = Grad(SumAll(y), {x})[x];
  ASSERT_TRUE(g.status().ok()) << g.status();
  std::vector<Tensor> values = testing::Run(
      g, {y, dy},
      {{"x", Tensor::FromValues<double>({4}, {2.0, 0.5, 0.0, -1.0})}});
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::isfinite(values[0].At(i))) << "value " << i;
    EXPECT_TRUE(std::isfinite(values[1].At(i))) << "gradient " << i;
  }
  EXPECT_EQ(values[1].At(2), 0.0);
  EXPECT_EQ(values[1].At(3), 0.0);
  // Where taken, the derivative of tanh(log x)·exp(−1/x) as by hand.
  const double x0 = 2.0, t = std::tanh(std::log(x0)), e = std::exp(-1 / x0);
  EXPECT_NEAR(values[1].At(0), (1 - t * t) / x0 * e + t * e / (x0 * x0),
              1e-15);
}

// ---- Memory budget ----

TEST(InterpreterBudgetTest, ProgramAboveTheBudgetIsRefusedWithItsFigure) {
  Graph g;
  Node x = g.Input("x", {1000, 1000}, kF64);
  Node y = Exp(x) + Tanh(x);
  ASSERT_TRUE(g.status().ok()) << g.status();
  // exp and tanh, 8 MB each, live at once: 16 MB needed, 1 MiB allowed.
  Interpreter interpreter({.memory_budget_bytes = 1 << 20});
  absl::StatusOr<std::unique_ptr<Program>> program =
      interpreter.Compile(g, {y});
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(program.status().message(), HasSubstr("1.0 MiB"));
  EXPECT_THAT(program.status().message(), HasSubstr("f64[1000,1000]"));
  EXPECT_THAT(program.status().message(), HasSubstr("interpreter_test.cc"));
}

TEST(InterpreterBudgetTest, FreedIntermediatesDoNotCount) {
  Graph g;
  Node x = g.Input("x", {1000}, kF64);
  // A chain: each 8 KB result dies as the next is made, so at most two are
  // live at once, plus the output's copy.
  Node y = x;
  for (int i = 0; i < 50; ++i) y = Tanh(y);
  ASSERT_TRUE(g.status().ok()) << g.status();
  Interpreter interpreter({.memory_budget_bytes = 3 * 8000 + 3 * 64});
  absl::StatusOr<std::unique_ptr<Program>> program =
      interpreter.Compile(g, {y});
  EXPECT_TRUE(program.ok()) << program.status();
}

TEST(InterpreterBudgetTest, HugeValidShapeIsRefusedBeforeAnyAllocation) {
  Graph g;
  // 2^36 f64 elements, 512 GiB, a valid shape no machine here can hold.
  Node x = g.Fill(1.0, {int64_t{1} << 18, int64_t{1} << 18}, kF64);
  Node y = Exp(x);
  ASSERT_TRUE(g.status().ok()) << g.status();
  Interpreter interpreter;
  absl::StatusOr<std::unique_ptr<Program>> program =
      interpreter.Compile(g, {y});
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(program.status().message(), HasSubstr("f64[262144,262144]"));
}

// ---- Numeric checks ----

TEST(InterpreterNumericsTest, NamesTheOpThatProducedTheFirstNaN) {
  Graph g;
  Node x = g.Input("x", {2, 2}, kF64);
  const int line = __LINE__ + 1;
  Node logs = Log(x);
  Node y = Exp(logs);
  ASSERT_TRUE(g.status().ok()) << g.status();
  Interpreter interpreter({.check_numerics = true});
  absl::StatusOr<std::vector<Tensor>> values = kiln::Evaluate(
      interpreter, g, {y},
      {{"x", Tensor::FromValues<double>({2, 2}, {1, 2, -3, 4})}});
  ASSERT_FALSE(values.ok());
  EXPECT_EQ(values.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(values.status().message(), HasSubstr("log (at "));
  EXPECT_THAT(values.status().message(),
              HasSubstr(absl::StrCat("interpreter_test.cc:", line)));
  EXPECT_THAT(values.status().message(),
              HasSubstr("nan at element 2 [1,0] of f64[2,2]"));
}

TEST(InterpreterNumericsTest, NamesAFeedThatHoldsInfinity) {
  Graph g;
  Node x = g.Input("x", {3}, kF32);
  Node y = Tanh(x);
  Interpreter interpreter({.check_numerics = true});
  absl::StatusOr<std::vector<Tensor>> values = kiln::Evaluate(
      interpreter, g, {y},
      {{"x", Tensor::FromValues<float>({3}, {0, 1, -INFINITY})}});
  ASSERT_FALSE(values.ok());
  EXPECT_THAT(values.status().message(),
              HasSubstr("feed 'x' of input f32[3] holds -inf at element 2"));
}

TEST(InterpreterNumericsTest, OffByDefault) {
  Graph g;
  Node x = g.Input("x", {1}, kF64);
  Node y = Log(x);
  Interpreter interpreter;
  absl::StatusOr<std::vector<Tensor>> values = kiln::Evaluate(
      interpreter, g, {y}, {{"x", Tensor::FromValues<double>({1}, {-1})}});
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_TRUE(std::isnan((*values)[0].At(0)));
}

// A failed check stops the run before any update is written back.
TEST(InterpreterNumericsTest, FailedCheckLeavesParametersAsFed) {
  Graph g;
  Node w = g.Parameter("w", {2}, kF64);
  Node x = g.Input("x", {2}, kF64);
  Interpreter interpreter({.check_numerics = true});
  absl::StatusOr<std::unique_ptr<Program>> step =
      interpreter.Compile(g, {SumAll(w)}, {{w, w - Log(x)}});
  ASSERT_TRUE(step.ok()) << step.status();
  FeedMap feeds = {{"w", Tensor::FromValues<double>({2}, {1, 2})},
                   {"x", Tensor::FromValues<double>({2}, {1, -1})}};
  std::vector<Tensor> outputs;
  absl::Status ran = (*step)->Run(feeds, outputs);
  ASSERT_FALSE(ran.ok());
  EXPECT_THAT(ran.message(), HasSubstr("log"));
  EXPECT_EQ(feeds["w"].ToDoubles(), (std::vector<double>{1, 2}));
}

}  // namespace
}  // namespace kiln
