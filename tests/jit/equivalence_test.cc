// The JIT against the interpreter: every op on its own, and random graphs
// of 5 to 30 ops mixing broadcasts, reductions, products and row-wise ops.
//
// Tolerances are relative to each output tensor's largest magnitude: 1e-12
// in f64 and per op in f32, where the vector math library may differ from
// the C library's scalar functions by a few units in the last place. With
// exact math (KILN_EXACT_MATH) the single ops must match bit for bit, since
// the JIT follows the reference kernels' arithmetic exactly.

#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ad/builder.h"
#include "ad/executor.h"
#include "ad/graph_walk.h"
#include "ad/interpreter.h"
#include "ad/passes/printer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "jit/jit_executor.h"
#include "tests/ad/test_util.h"

namespace kiln::jit {
namespace {

using ::kiln::testing::RandomDistribution;
using ::kiln::testing::RandomLabels;
using ::kiln::testing::RandomOneHot;
using ::kiln::testing::RandomTensor;

// How the inputs of a case are sampled, by input name prefix.
Tensor SampleInput(std::mt19937_64& rng, const Node& leaf) {
  const std::string& name = leaf.name();
  const DType dtype = leaf.dtype();
  if (name.starts_with("positive")) {
    return RandomTensor(rng, dtype, leaf.shape(), 0.5, 3.0);
  }
  if (name.starts_with("wide")) {
    return RandomTensor(rng, dtype, leaf.shape(), -30.0, 30.0);
  }
  if (name.starts_with("mask")) {
    Tensor mask = RandomTensor(rng, dtype, leaf.shape(), 0.0, 1.0);
    for (int64_t i = 0; i < mask.num_elements(); ++i) {
      mask.Set(i, mask.At(i) < 0.5 ? 0.0 : 1.0);
    }
    return mask;
  }
  if (name.starts_with("labels")) {
    return RandomLabels(rng, dtype, leaf.shape()[0], 10);
  }
  if (name.starts_with("one_hot"))
    return RandomOneHot(rng, dtype, leaf.shape());
  if (name.starts_with("distribution")) {
    return RandomDistribution(rng, dtype, leaf.shape());
  }
  return RandomTensor(rng, dtype, leaf.shape(), -2.0, 2.0);
}

FeedMap SampleFeeds(Graph& graph, std::mt19937_64& rng) {
  FeedMap feeds;
  for (const Node& leaf : graph.Leaves()) {
    feeds[leaf.name()] = SampleInput(rng, leaf);
  }
  return feeds;
}

double LargestMagnitude(const Tensor& tensor) {
  double largest = 0;
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    largest = std::max(largest, std::abs(tensor.At(i)));
  }
  return largest;
}

// Compiles `outputs` with both executors, runs them on the same feeds and
// checks every element within `tolerance` of the tensor's largest
// magnitude (exactly, when the tolerance is zero).
void ExpectSameValues(Graph& graph, const std::vector<Node>& outputs,
                      double tolerance, const JitOptions& options,
                      const std::string& label, uint64_t seed = 1) {
  ASSERT_TRUE(graph.status().ok()) << label << ": " << graph.status();
  std::mt19937_64 rng(seed);
  const FeedMap feeds = SampleFeeds(graph, rng);
  Interpreter interpreter;
  JitExecutor jit(options);
  absl::StatusOr<std::vector<Tensor>> expected =
      Evaluate(interpreter, graph, outputs, feeds);
  ASSERT_TRUE(expected.ok()) << label << ": " << expected.status();
  absl::StatusOr<std::vector<Tensor>> actual =
      Evaluate(jit, graph, outputs, feeds);
  ASSERT_TRUE(actual.ok()) << label << ": " << actual.status() << "\n"
                           << GraphToText(graph);
  for (size_t o = 0; o < outputs.size(); ++o) {
    const Tensor& want = (*expected)[o];
    const Tensor& got = (*actual)[o];
    ASSERT_EQ(got.shape(), want.shape()) << label;
    ASSERT_EQ(got.dtype(), want.dtype()) << label;
    const double bound = tolerance * LargestMagnitude(want);
    for (int64_t i = 0; i < want.num_elements(); ++i) {
      const double a = got.At(i);
      const double b = want.At(i);
      if (std::isnan(b)) {
        EXPECT_TRUE(std::isnan(a))
            << label << " output " << o << "[" << i << "]";
        continue;
      }
      ASSERT_LE(std::abs(a - b), bound)
          << label << " output " << o << "[" << i << "]: jit " << a
          << ", interpreter " << b << "\n"
          << GraphToText(graph);
    }
  }
}

JitOptions TestOptions(bool exact_math) {
  JitOptions options;
  options.cache_dir = "";
  options.use_memory_cache = false;
  options.exact_math = exact_math;
  return options;
}

// ---- Every op ----

struct OpCase {
  std::string name;
  // Builds the op, and whatever it needs around it, in `graph`.
  std::function<Node(Graph&, DType)> build;
  // f32 tolerance; f64 cases use 1e-12.
  double f32_tolerance = 1e-6;
};

// Shapes whose last dimension is no multiple of a vector's lanes, so that
// every vector loop also runs its scalar tail.
constexpr int64_t kRows = 7;
constexpr int64_t kColumns = 37;

std::vector<OpCase> OpCases() {
  auto input = [](Graph& g, DType d, std::string name,
                  Shape shape = {kRows, kColumns}) {
    return g.Input(std::move(name), std::move(shape), d);
  };
  auto binary = [&](std::string name, Node (*op)(Node, Node, Location)) {
    // The right operand is a row that the builder broadcasts.
    return OpCase{name, [=](Graph& g, DType d) {
                    return op(input(g, d, "a"), input(g, d, "b", {kColumns}),
                              {});
                  }};
  };
  auto unary = [&](std::string name, Node (*op)(Node, Location),
                   std::string input_name = "x", double tolerance = 1e-6) {
    return OpCase{
        name,
        [=](Graph& g, DType d) { return op(input(g, d, input_name), {}); },
        tolerance};
  };
  return {
      binary("add", &Add),
      binary("sub", &Sub),
      binary("mul", &Mul),
      {"div",
       [=](Graph& g, DType d) {
         return input(g, d, "a") / input(g, d, "positive_b", {kRows, 1});
       }},
      unary("neg", &Neg),
      unary("exp", &Exp, "x", 1e-6),
      unary("log", &Log, "positive_x", 1e-6),
      unary("square", &Square),
      unary("sigmoid", &Sigmoid, "wide_x", 1e-6),
      unary("tanh", &Tanh, "x", 1e-6),
      unary("relu", &Relu),
      {"leaky_relu",
       [=](Graph& g, DType d) { return LeakyRelu(input(g, d, "x"), 0.1); }},
      binary("less", &Less),
      binary("less_equal", &LessEqual),
      binary("greater", &Greater),
      binary("greater_equal", &GreaterEqual),
      binary("equal", &Equal),
      binary("not_equal", &NotEqual),
      {"select",
       [=](Graph& g, DType d) {
         return Select(input(g, d, "mask"), input(g, d, "a"), input(g, d, "b"));
       }},
      {"transpose",
       [=](Graph& g, DType d) { return Transpose(input(g, d, "x")); }},
      {"transpose3d",
       [=](Graph& g, DType d) {
         return Transpose(Exp(input(g, d, "x", {3, 5, 6})), {2, 0, 1});
       }},
      {"reshape",
       [=](Graph& g, DType d) {
         return Reshape(Tanh(input(g, d, "x", {6, 14})), {4, 21});
       }},
      {"broadcast",
       [=](Graph& g, DType d) {
         return BroadcastTo(input(g, d, "x", {kRows, 1}), {2, kRows, kColumns});
       }},
      {"one_hot",
       [=](Graph& g, DType d) {
         return OneHot(input(g, d, "labels", {13}), 10);
       }},
      {"matmul",
       [=](Graph& g, DType d) {
         return MatMul(input(g, d, "a", {13, 29}), input(g, d, "b", {29, 37}));
       },
       1e-5},
      {"matmul_transposed",
       [=](Graph& g, DType d) {
         Node a = input(g, d, "a", {29, 13});
         Node b = input(g, d, "b", {37, 29});
         return MatMul(Transpose(a), Transpose(b));
       },
       1e-5},
      {"matmul_epilogue",
       [=](Graph& g, DType d) {
         Node x = input(g, d, "x", {13, 29});
         Node w = input(g, d, "w", {29, 37});
         return Sigmoid(MatMul(x, w) + input(g, d, "bias", {37}));
       },
       1e-5},
      // Long sums of few rows, summed in halves (ops/product_sums.h),
      // alone and into an epilogue.
      {"matmul_halved_sums",
       [=](Graph& g, DType d) {
         return MatMul(input(g, d, "a", {5, 531}), input(g, d, "b", {531, 37}));
       },
       1e-5},
      {"matmul_halved_sums_transposed",
       [=](Graph& g, DType d) {
         Node a = input(g, d, "a", {531, 5});
         Node b = input(g, d, "b", {37, 531});
         return MatMul(Transpose(a), Transpose(b));
       },
       1e-5},
      {"matmul_halved_sums_epilogue",
       [=](Graph& g, DType d) {
         Node x = input(g, d, "x", {3, 784});
         Node w = input(g, d, "w", {784, 21});
         return Tanh(MatMul(x, w) + input(g, d, "bias", {21}));
       },
       1e-5},
      {"sum", [=](Graph& g, DType d) { return Sum(input(g, d, "x"), 0); },
       1e-5},
      {"sum_rows",
       [=](Graph& g, DType d) { return Sum(input(g, d, "x"), 1, true); }, 1e-5},
      {"mean",
       [=](Graph& g, DType d) {
         return Mean(input(g, d, "x", {3, 5, 6}), 1);
       },
       1e-5},
      {"max", [=](Graph& g, DType d) { return Max(input(g, d, "x"), 0); }},
      {"argmax",
       [=](Graph& g, DType d) { return Argmax(input(g, d, "x"), 1); }},
      {"argmax_columns",
       [=](Graph& g, DType d) { return Argmax(input(g, d, "x"), 0, true); }},
      {"softmax", [=](Graph& g, DType d) { return Softmax(input(g, d, "x")); }},
      {"log_softmax",
       [=](Graph& g, DType d) { return LogSoftmax(input(g, d, "x")); }, 1e-5},
      {"half_mse",
       [=](Graph& g, DType d) {
         return HalfMse(input(g, d, "a"), input(g, d, "b"));
       },
       1e-5},
      {"sigmoid_cross_entropy",
       [=](Graph& g, DType d) {
         return SigmoidCrossEntropy(input(g, d, "wide_s"), input(g, d, "mask"));
       },
       1e-5},
      {"softmax_cross_entropy",
       [=](Graph& g, DType d) {
         return SoftmaxCrossEntropy(input(g, d, "s"),
                                    input(g, d, "distribution"));
       },
       1e-5},
      {"accuracy",
       [=](Graph& g, DType d) {
         return Accuracy(input(g, d, "s", {30, 10}),
                         input(g, d, "one_hot", {30, 10}));
       }},
      {"parameter",
       [=](Graph& g, DType d) {
         return input(g, d, "x") - g.Parameter("w", {kRows, kColumns}, d);
       }},
      {"constant_and_fill",
       [=](Graph& g, DType d) {
         Node x = input(g, d, "x", {2, 3});
         Node c =
             g.Constant(Tensor::FromDoubles(d, {2, 3}, {1, 2, 3, 4, 5, 6}));
         return x * c + FillLike(x, 0.5);
       }},
  };
}

TEST(JitEquivalenceTest, EveryOpMatchesTheInterpreter) {
  for (const OpCase& c : OpCases()) {
    for (DType dtype : {DType::kF64, DType::kF32}) {
      Graph graph;
      Node output = c.build(graph, dtype);
      const double tolerance = dtype == DType::kF64 ? 1e-12 : c.f32_tolerance;
      ExpectSameValues(graph, {output}, tolerance, TestOptions(false),
                       absl::StrCat(c.name, " ", DTypeName(dtype)));
    }
  }
}

TEST(JitEquivalenceTest, EveryOpIsBitIdenticalWithExactMath) {
  for (const OpCase& c : OpCases()) {
    for (DType dtype : {DType::kF64, DType::kF32}) {
      Graph graph;
      Node output = c.build(graph, dtype);
      ExpectSameValues(graph, {output}, 0.0, TestOptions(true),
                       absl::StrCat(c.name, " ", DTypeName(dtype), " exact"));
    }
  }
}

// Fails when an op joins the table without a case above.
TEST(JitEquivalenceTest, EveryOpOfTheTableHasACase) {
  std::set<OpKind> covered;
  for (const OpCase& c : OpCases()) {
    Graph graph;
    Node output = c.build(graph, DType::kF64);
    for (const Node& node : TopologicalOrder({output})) {
      covered.insert(node.op());
    }
  }
  for (const OpInfo& op : AllOps()) {
    EXPECT_TRUE(covered.contains(op.kind))
        << "no equivalence case uses " << op.name;
  }
}

// ---- Random graphs ----

// Grows a random graph over [kRandomRows, kRandomColumns] values: each step
// applies one op to values already built, broadcasting rows and columns
// back to full shape where needed, and keeps every value bounded so that
// no exp overflows.
class RandomGraphBuilder {
 public:
  static constexpr int64_t kRandomRows = 6;
  static constexpr int64_t kRandomColumns = 19;

  RandomGraphBuilder(Graph& graph, DType dtype, uint64_t seed)
      : graph_(graph), dtype_(dtype), rng_(seed) {
    const int inputs = 2 + Pick(2);
    for (int i = 0; i < inputs; ++i) {
      full_.push_back(graph.Input(absl::StrCat("x", i),
                                  {kRandomRows, kRandomColumns}, dtype));
    }
    rows_.push_back(graph.Input("row", {kRandomColumns}, dtype));
    columns_.push_back(graph.Input("column", {kRandomRows, 1}, dtype));
  }

  // Adds `count` ops; returns the outputs to compare.
  std::vector<Node> Grow(int count) {
    for (int i = 0; i < count; ++i) Step();
    std::vector<Node> outputs = {full_.back()};
    outputs.push_back(full_[Pick(full_.size())]);
    if (rows_.size() > 1) outputs.push_back(rows_.back());
    if (columns_.size() > 1) outputs.push_back(columns_.back());
    return outputs;
  }

 private:
  int Pick(size_t n) {
    return std::uniform_int_distribution<int>(0, static_cast<int>(n) - 1)(rng_);
  }
  Node AnyFull() { return full_[Pick(full_.size())]; }
  // A full, row or column value, for a broadcasting operand.
  Node AnyOperand() {
    switch (Pick(4)) {
      case 0:
        return rows_[Pick(rows_.size())];
      case 1:
        return columns_[Pick(columns_.size())];
      default:
        return AnyFull();
    }
  }

  void Step() {
    Node x = AnyFull();
    switch (Pick(12)) {
      case 0:
        full_.push_back(Sigmoid(x * AnyOperand()));
        break;
      case 1:
        full_.push_back(Tanh(x + AnyOperand()));
        break;
      case 2:
        full_.push_back(Relu(x - AnyOperand()));
        break;
      case 3:
        full_.push_back(LeakyRelu(x, 0.2) * 0.5);
        break;
      case 4:
        full_.push_back(Exp(Tanh(x)) / (Square(AnyOperand()) + 1.0));
        break;
      case 5:
        full_.push_back(Log(Square(x) + 1.0) - Neg(AnyOperand()));
        break;
      case 6:
        full_.push_back(Select(Greater(x, AnyOperand()), x, Tanh(AnyFull())));
        break;
      case 7:
        rows_.push_back(Tanh(Pick(2) == 0 ? Sum(x, 0) : Mean(x, 0)));
        break;
      case 8:
        columns_.push_back(Pick(2) == 0 ? Max(x, 1, true)
                                        : Argmax(x, 1, true) * 0.1);
        break;
      case 9:
        full_.push_back(Pick(2) == 0 ? Softmax(x) : LogSoftmax(x) * 0.1);
        break;
      case 10: {
        // [r, c]·[c, r]·[r, c] stays full-shaped; the scale keeps values
        // of order one.
        Node square = MatMul(x, Transpose(AnyFull())) * 0.05;
        full_.push_back(Tanh(MatMul(square, AnyFull())));
        break;
      }
      case 11:
        full_.push_back(Transpose(Transpose(x) * 0.5) + AnyOperand());
        break;
    }
  }

  Graph& graph_;
  DType dtype_;
  std::mt19937_64 rng_;
  std::vector<Node> full_;
  std::vector<Node> rows_;
  std::vector<Node> columns_;
};

TEST(JitEquivalenceTest, RandomGraphsMatchTheInterpreter) {
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    for (DType dtype : {DType::kF64, DType::kF32}) {
      if (dtype == DType::kF32 && seed % 3 != 0) continue;
      Graph graph;
      RandomGraphBuilder builder(graph, dtype, seed);
      const int ops = 2 + static_cast<int>(seed % 8);  // 5 to 30 graph ops
      const std::vector<Node> outputs = builder.Grow(ops);
      const int size = static_cast<int>(TopologicalOrder(outputs).size());
      ExpectSameValues(graph, outputs, dtype == DType::kF64 ? 1e-12 : 1e-4,
                       TestOptions(false),
                       absl::StrCat("random graph ", seed, " (", size,
                                    " nodes) ", DTypeName(dtype)),
                       seed);
    }
  }
}

// In f32, 2^24 + 1 rounds back to 2^24: a sum that starts at 2^24 and
// adds ones stays there when summed in order, but not when half of the
// ones are summed apart (ops/product_sums.h). Every compiled path, on one
// thread or two, skipping the input's zeros or not, must give the
// reference's halved sums.
TEST(JitEquivalenceTest, HalvedSumsFollowTheReferenceOnEveryPath) {
  constexpr int64_t kTerms = 512;
  Graph graph;
  Node x = graph.Input("x", {2, kTerms}, DType::kF32);
  Node w = graph.Parameter("w", {kTerms, 3}, DType::kF32);
  Node product = MatMul(x, w);
  FeedMap feeds;
  // Ones at the even positions: half of x, sparse enough to skip zeros.
  feeds["x"] = Tensor(DType::kF32, {2, kTerms});
  for (int64_t i = 0; i < 2 * kTerms; ++i) {
    feeds["x"].Set(i, i % 2 == 0 ? 1.0 : 0.0);
  }
  feeds["w"] = Tensor::Full(DType::kF32, {kTerms, 3}, 1.0);
  for (int64_t j = 0; j < 3; ++j) feeds["w"].Set(j, 16777216.0);
  // 2^24 absorbs the first half's other 127 ones; the second half's 128
  // are added to it.
  const double expected = 16777216.0 + 128;

  Interpreter interpreter;
  absl::StatusOr<std::vector<Tensor>> reference =
      Evaluate(interpreter, graph, {product}, feeds);
  ASSERT_TRUE(reference.ok()) << reference.status();
  EXPECT_THAT((*reference)[0].ToDoubles(), ::testing::Each(expected));
  for (int threads : {1, 2}) {
    for (bool skip : {false, true}) {
      SCOPED_TRACE(::testing::Message()
                   << threads << " threads, skipping zeros: " << skip);
      JitOptions options = TestOptions(true);
      options.num_threads = threads;
      options.skip_input_zeros = skip;
      JitExecutor jit(options);
      absl::StatusOr<std::vector<Tensor>> compiled =
          Evaluate(jit, graph, {product}, feeds);
      ASSERT_TRUE(compiled.ok()) << compiled.status();
      EXPECT_THAT((*compiled)[0].ToDoubles(), ::testing::Each(expected));
    }
  }
}

}  // namespace
}  // namespace kiln::jit
