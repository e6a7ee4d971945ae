// The interpreter runs graphs fed by name, and rejects bad feeds with a
// status that says which feed and what was wrong.

#include "ad/interpreter.h"

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

}  // namespace
}  // namespace kiln
