// One harness checks every op's backward rule against central finite
// differences in f64.
//
// Each op in the op table has a case: the inputs' shapes, where to sample
// them (away from kinks and ties, so that a difference quotient never
// straddles one), how to build a graph around the op, and a tolerance. The
// harness reduces the op's output to a scalar with random weights, so that
// every output element matters, and compares the gradient Kiln builds with
//   (L(x + h·e_j) − L(x − h·e_j)) / 2h
// for every element j of every input. A second test does the same one order
// higher: the gradient of <∇L, v> against differences of the gradient.

#include <cmath>
#include <functional>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "ad/autodiff.h"
#include "ad/backward_rules.h"
#include "ad/builder.h"
#include "gtest/gtest.h"
#include "tests/ad/test_util.h"

namespace kiln {
namespace {

using testing::RandomDistribution;
using testing::RandomTensor;

// Where one input is sampled.
struct Domain {
  double low = -2.0;
  double high = 2.0;
  // Values closer than `margin` to any of these are redrawn.
  std::vector<double> avoid = {};
  double margin = 0.0;
  // Rows along the last axis that are probability distributions.
  bool distribution = false;
};

struct GradientCase {
  OpKind op;
  std::vector<Shape> shapes;
  std::vector<Domain> domains;
  std::function<Node(const std::vector<Node>&)> build;
  // |analytic − numeric| ≤ tolerance · (1 + |numeric|).
  double tolerance = 1e-7;
};

const Domain kAnywhere;
const Domain kPositive{0.5, 3.0};
const Domain kAwayFromZero{-2.0, 2.0, {0.0}, 0.05};
const Domain kProbability{0.05, 0.95};
const Domain kDistribution{0, 1, {}, 0, /*distribution=*/true};
// Between integers, where one-hot is locally constant.
const Domain kFractional{0.2, 0.8};

std::vector<GradientCase> AllCases() {
  using In = const std::vector<Node>&;
  return {
      // Arithmetic; Add and Sub also exercise implicit broadcasting.
      {OpKind::kAdd, {{3, 4}, {4}}, {kAnywhere, kAnywhere},
       [](In x) { return x[0] + x[1]; }},
      {OpKind::kSub, {{3, 4}, {3, 1}}, {kAnywhere, kAnywhere},
       [](In x) { return x[0] - x[1]; }},
      {OpKind::kMul, {{3, 4}, {3, 4}}, {kAnywhere, kAnywhere},
       [](In x) { return x[0] * x[1]; }},
      {OpKind::kDiv, {{3, 4}, {3, 4}}, {kAnywhere, kPositive},
       [](In x) { return x[0] / x[1]; }},
      {OpKind::kNeg, {{3, 4}}, {kAnywhere}, [](In x) { return -x[0]; }},
      {OpKind::kExp, {{3, 4}}, {kAnywhere}, [](In x) { return Exp(x[0]); }},
      {OpKind::kLog, {{3, 4}}, {kPositive}, [](In x) { return Log(x[0]); }},
      {OpKind::kSquare, {{3, 4}}, {kAnywhere},
       [](In x) { return Square(x[0]); }},
      // Activations.
      {OpKind::kSigmoid, {{3, 4}}, {{-4, 4}},
       [](In x) { return Sigmoid(x[0]); }},
      {OpKind::kTanh, {{3, 4}}, {{-3, 3}}, [](In x) { return Tanh(x[0]); }},
      {OpKind::kRelu, {{3, 4}}, {kAwayFromZero},
       [](In x) { return Relu(x[0]); }},
      {OpKind::kLeakyRelu, {{3, 4}}, {kAwayFromZero},
       [](In x) { return LeakyRelu(x[0], 0.2); }},
      // Comparisons: zero gradient away from ties.
      {OpKind::kLess, {{3, 4}, {3, 4}}, {kAnywhere, kAnywhere},
       [](In x) { return Less(x[0], x[1]) * x[0]; }},
      {OpKind::kLessEqual, {{3, 4}, {3, 4}}, {kAnywhere, kAnywhere},
       [](In x) { return LessEqual(x[0], x[1]) * x[1]; }},
      {OpKind::kGreater, {{3, 4}, {3, 4}}, {kAnywhere, kAnywhere},
       [](In x) { return Greater(x[0], x[1]) * x[0]; }},
      {OpKind::kGreaterEqual, {{3, 4}, {3, 4}}, {kAnywhere, kAnywhere},
       [](In x) { return GreaterEqual(x[0], x[1]) * x[1]; }},
      {OpKind::kEqual, {{3, 4}, {3, 4}}, {kAnywhere, kAnywhere},
       [](In x) { return Equal(x[0], x[1]) + x[0]; }},
      {OpKind::kNotEqual, {{3, 4}, {3, 4}}, {kAnywhere, kAnywhere},
       [](In x) { return NotEqual(x[0], x[1]) * x[1]; }},
      {OpKind::kSelect, {{3, 4}, {3, 4}, {3, 4}},
       {kAwayFromZero, kAnywhere, kAnywhere},
       [](In x) {
         return Select(Greater(x[0], FillLike(x[0], 0.0)), x[1], x[2]);
       }},
      // Layout.
      {OpKind::kTranspose, {{2, 3, 4}}, {kAnywhere},
       [](In x) { return Transpose(x[0], {2, 0, 1}); }},
      {OpKind::kReshape, {{3, 4}}, {kAnywhere},
       [](In x) { return Reshape(x[0], {2, 6}); }},
      {OpKind::kBroadcast, {{3, 1}}, {kAnywhere},
       [](In x) { return BroadcastTo(x[0], {2, 3, 4}); }},
      {OpKind::kOneHot, {{5}}, {kFractional},
       [](In x) { return OneHot(x[0], 3); }},
      {OpKind::kMatMul, {{3, 4}, {4, 5}}, {kAnywhere, kAnywhere},
       [](In x) { return MatMul(x[0], x[1]); }},
      // Reductions.
      {OpKind::kSum, {{3, 4}}, {kAnywhere}, [](In x) { return Sum(x[0], 1); }},
      {OpKind::kMean, {{3, 4}}, {kAnywhere},
       [](In x) { return Mean(x[0], 0, /*keepdims=*/true); }},
      {OpKind::kMax, {{3, 4}}, {kAnywhere}, [](In x) { return Max(x[0], 1); }},
      {OpKind::kArgmax, {{3, 4}}, {kAnywhere},
       [](In x) { return Argmax(x[0], 1) + Sum(x[0], 1); }},
      // Row-wise.
      {OpKind::kSoftmax, {{3, 5}}, {kAnywhere},
       [](In x) { return Softmax(x[0]); }},
      {OpKind::kLogSoftmax, {{3, 5}}, {kAnywhere},
       [](In x) { return LogSoftmax(x[0]); }},
      // Losses.
      {OpKind::kHalfMse, {{3, 4}, {3, 4}}, {kAnywhere, kAnywhere},
       [](In x) { return HalfMse(x[0], x[1]); }},
      {OpKind::kSigmoidCrossEntropy, {{3, 4}, {3, 4}},
       {{-3, 3}, kProbability},
       [](In x) { return SigmoidCrossEntropy(x[0], x[1]); }},
      {OpKind::kSoftmaxCrossEntropy, {{3, 5}, {3, 5}},
       {kAnywhere, kDistribution},
       [](In x) { return SoftmaxCrossEntropy(x[0], x[1]); }},
      {OpKind::kAccuracy, {{3, 5}, {3, 5}}, {kAnywhere, kAnywhere},
       [](In x) { return Accuracy(x[0], x[1]); }},
  };
}

// A graph reducing the case's op to a random linear functional of its
// output, and programs for the loss and for the gradients.
class CaseUnderTest {
 public:
  explicit CaseUnderTest(const GradientCase& test_case) {
    for (size_t i = 0; i < test_case.shapes.size(); ++i) {
      inputs_.push_back(graph_.Parameter(absl::StrCat("x", i),
                                         test_case.shapes[i], kF64));
    }
    Node output = test_case.build(inputs_);
    output_shape_ = output.shape();
    Node weights = graph_.Input("weights", output_shape_, kF64);
    loss_ = SumAll(output * weights);
    grads_ = Grad(loss_, inputs_);
  }

  Graph& graph() { return graph_; }
  Node loss() const { return loss_; }
  const std::vector<Node>& inputs() const { return inputs_; }
  std::vector<Node> gradients() const {
    std::vector<Node> result;
    for (const Node& input : inputs_) result.push_back(grads_[input]);
    return result;
  }

  // Random feeds for every input, and the weights.
  FeedMap RandomFeeds(const GradientCase& test_case, std::mt19937_64& rng) {
    FeedMap feeds;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const Domain& domain = test_case.domains[i];
      feeds[inputs_[i].name()] =
          domain.distribution
              ? RandomDistribution(rng, kF64, test_case.shapes[i])
              : RandomTensor(rng, kF64, test_case.shapes[i], domain.low,
                             domain.high, domain.avoid, domain.margin);
    }
    feeds["weights"] = RandomTensor(rng, kF64, output_shape_, -1, 1);
    return feeds;
  }

 private:
  Graph graph_;
  std::vector<Node> inputs_;
  Shape output_shape_;
  Node loss_;
  Gradients grads_;
};

// Names a case by its op in failure messages.
void PrintTo(const GradientCase& test_case, std::ostream* out) {
  *out << OpName(test_case.op);
}

// Runs `program` and returns its first output, failing the test on error.
Tensor RunFirst(Program& program, const FeedMap& feeds) {
  absl::StatusOr<std::vector<Tensor>> values = program.Run(feeds);
  EXPECT_TRUE(values.ok()) << values.status();
  return values.ok() ? (*values)[0] : Tensor();
}

// Compares `analytic`, a gradient with respect to feed `name`, with central
// differences of the scalar that `program` computes first.
void ExpectMatchesDifferences(Program& program, FeedMap feeds,
                              const std::string& name, const Tensor& analytic,
                              double tolerance, const std::string& what) {
  const Tensor x = feeds[name];
  ASSERT_EQ(analytic.shape(), x.shape()) << what;
  for (int64_t j = 0; j < x.num_elements(); ++j) {
    const double h = 1e-6 * std::max(1.0, std::abs(x.At(j)));
    Tensor shifted = x;
    shifted.Set(j, x.At(j) + h);
    feeds[name] = shifted;
    const double above = RunFirst(program, feeds).At(0);
    shifted.Set(j, x.At(j) - h);
    feeds[name] = shifted;
    const double below = RunFirst(program, feeds).At(0);
    const double numeric = (above - below) / (2 * h);
    EXPECT_NEAR(analytic.At(j), numeric, tolerance * (1 + std::abs(numeric)))
        << what << " element " << j;
  }
}

class GradientCheckTest : public ::testing::TestWithParam<GradientCase> {};

TEST_P(GradientCheckTest, GradientMatchesCentralDifferences) {
  const GradientCase& test_case = GetParam();
  CaseUnderTest setup(test_case);
  ASSERT_TRUE(setup.graph().status().ok()) << setup.graph().status();

  Interpreter interpreter;
  auto loss_program = interpreter.Compile(setup.graph(), {setup.loss()});
  auto grad_program = interpreter.Compile(setup.graph(), setup.gradients());
  ASSERT_TRUE(loss_program.ok()) << loss_program.status();
  ASSERT_TRUE(grad_program.ok()) << grad_program.status();

  std::mt19937_64 rng(static_cast<int>(test_case.op) + 1);
  for (int trial = 0; trial < 3; ++trial) {
    const FeedMap feeds = setup.RandomFeeds(test_case, rng);
    absl::StatusOr<std::vector<Tensor>> analytic = (*grad_program)->Run(feeds);
    ASSERT_TRUE(analytic.ok()) << analytic.status();
    for (size_t i = 0; i < setup.inputs().size(); ++i) {
      ExpectMatchesDifferences(**loss_program, feeds, setup.inputs()[i].name(),
                               (*analytic)[i], test_case.tolerance,
                               absl::StrCat("d/d", setup.inputs()[i].name()));
    }
  }
}

// The gradient of <∇L, v> is the Hessian times v; compare it with
// (∇L(x + h·e_j) − ∇L(x − h·e_j)) / 2h projected on v, which is the same
// quantity by symmetry of the Hessian.
TEST_P(GradientCheckTest, SecondOrderMatchesDifferencesOfGradient) {
  const GradientCase& test_case = GetParam();
  CaseUnderTest setup(test_case);
  Graph& graph = setup.graph();
  Node dot = graph.Fill(0.0, {}, kF64);
  for (size_t i = 0; i < setup.inputs().size(); ++i) {
    Node direction = graph.Input(absl::StrCat("v", i), test_case.shapes[i],
                                 kF64);
    dot = dot + SumAll(setup.gradients()[i] * direction);
  }
  Gradients second = Grad(dot, setup.inputs());
  ASSERT_TRUE(graph.status().ok()) << graph.status();

  Interpreter interpreter;
  auto dot_program = interpreter.Compile(graph, {dot});
  std::vector<Node> hessian_vector;
  for (const Node& input : setup.inputs()) {
    hessian_vector.push_back(second[input]);
  }
  auto hv_program = interpreter.Compile(graph, hessian_vector);
  ASSERT_TRUE(dot_program.ok()) << dot_program.status();
  ASSERT_TRUE(hv_program.ok()) << hv_program.status();

  std::mt19937_64 rng(static_cast<int>(test_case.op) + 100);
  FeedMap feeds = setup.RandomFeeds(test_case, rng);
  for (size_t i = 0; i < setup.inputs().size(); ++i) {
    feeds[absl::StrCat("v", i)] =
        RandomTensor(rng, kF64, test_case.shapes[i], -1, 1);
  }
  absl::StatusOr<std::vector<Tensor>> analytic = (*hv_program)->Run(feeds);
  ASSERT_TRUE(analytic.ok()) << analytic.status();
  for (size_t i = 0; i < setup.inputs().size(); ++i) {
    ExpectMatchesDifferences(**dot_program, feeds, setup.inputs()[i].name(),
                             (*analytic)[i], 100 * test_case.tolerance,
                             absl::StrCat("second order d/d",
                                          setup.inputs()[i].name()));
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryOp, GradientCheckTest, ::testing::ValuesIn(AllCases()),
    [](const ::testing::TestParamInfo<GradientCase>& info) {
      return std::string(OpName(info.param.op));
    });

// Adding an op to the table without a case here fails this test.
TEST(GradientCheckCoverageTest, EveryOpWithInputsHasACase) {
  const std::vector<GradientCase> cases = AllCases();
  for (const OpInfo& info : AllOps()) {
    if (info.op_class == OpClass::kLeaf) continue;
    int matches = 0;
    for (const GradientCase& test_case : cases) {
      matches += test_case.op == info.kind;
    }
    EXPECT_EQ(matches, 1) << "op " << info.name
                          << " needs exactly one gradient-check case";
  }
}

}  // namespace
}  // namespace kiln
