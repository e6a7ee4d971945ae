// Fuzz target: the graph builder, autodiff, the passes and both executors.
//
// An input is read as a little program of builder calls (see Decoder and
// BuildStep below): a dtype, then steps that each add one leaf or apply one
// builder function to nodes already built, with shapes, axes, permutations
// and constants taken from the following bytes. Any such program must end
// in one of two ways:
//
//   * the builder refuses a call: the graph's status is then an
//     InvalidArgument error naming the op and the caller's line;
//   * or every call succeeds, and then the gradient of the last node's sum
//     with respect to every leaf builds, and the forward values, the
//     gradients and, for a training step, the updated parameters come out
//     of the JIT exactly as out of the interpreter: bit for bit, a NaN
//     matching any NaN.
//
// The JIT runs the graph passes before it compiles, and passes may change
// rounding (log(softmax(x)) becomes log_softmax(x)), so the interpreter runs
// the graph after the same passes; the JIT uses exact math, whose results
// are the reference kernels'. Programs above a 16 MiB memory budget are
// refused by the executors, and must be refused with kResourceExhausted.
// Anything else, a crash, a sanitizer report or a failed check, is a
// finding.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ad/autodiff.h"
#include "ad/builder.h"
#include "ad/executor.h"
#include "ad/graph_walk.h"
#include "ad/interpreter.h"
#include "ad/passes/pipeline.h"
#include "fuzz/fuzz_target.h"
#include "jit/jit_executor.h"
#include "ops/base/check.h"
#include "ops/shape.h"

namespace kiln::fuzz {
namespace {

constexpr int64_t kMemoryBudget = int64_t{16} << 20;
// Programs with a larger node are only built and differentiated: the
// reference kernels would take too long on them for a fuzzer.
constexpr int64_t kMaxElementsToRun = int64_t{1} << 21;
constexpr int kMaxSteps = 40;

// ---- Reading the input ----

class Decoder {
 public:
  Decoder(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool done() const { return at_ >= size_; }

  // The next byte; 0 once the input is exhausted.
  uint8_t Byte() { return at_ < size_ ? data_[at_++] : 0; }

  // A number in [0, n).
  int Pick(int n) { return Byte() % n; }

  // Mostly small dimensions; a byte of 250 or more picks a huge one, to
  // reach overflow checks and memory budgets.
  int64_t Dimension() {
    static constexpr int64_t kSmall[] = {1, 2, 3, 4, 5, 7, 8, 16};
    static constexpr int64_t kHuge[] = {int64_t{1} << 20,
                                        int64_t{1} << 31,
                                        int64_t{1} << 40,
                                        int64_t{1} << 62,
                                        0,
                                        -3};
    const uint8_t byte = Byte();
    if (byte >= 250) return kHuge[byte - 250];
    return kSmall[byte % 8];
  }

  Shape DecodeShape() {
    Shape shape(Pick(4));
    for (int64_t& dim : shape) dim = Dimension();
    return shape;
  }

  // Ordinary values, with the edges of arithmetic among them.
  double Value() {
    static constexpr double kValues[] = {
        0,   1,    -1,    0.5,  -0.5,     2,         -2,  3,
        10,  -10,  100,   1e-3, 1e-30,    1e30,      88,  -88,
        700, -700, 1e300, -0.0, INFINITY, -INFINITY, NAN, 0.1};
    const uint8_t byte = Byte();
    if (byte < 128) return (byte - 64) / 16.0;
    return kValues[byte % (sizeof(kValues) / sizeof(kValues[0]))];
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

// ---- Building the graph ----

using UnaryBuilder = Node (*)(Node, Location);
using BinaryBuilder = Node (*)(Node, Node, Location);
using ReduceBuilder = Node (*)(Node, int, bool, Location);

constexpr UnaryBuilder kUnary[] = {
    [](Node x, Location w) { return Neg(x, w); },
    [](Node x, Location w) { return Exp(x, w); },
    [](Node x, Location w) { return Log(x, w); },
    [](Node x, Location w) { return Square(x, w); },
    [](Node x, Location w) { return Sigmoid(x, w); },
    [](Node x, Location w) { return Tanh(x, w); },
    [](Node x, Location w) { return Relu(x, w); },
    [](Node x, Location w) { return Softmax(x, w); },
    [](Node x, Location w) { return LogSoftmax(x, w); },
    [](Node x, Location w) { return SumAll(x, w); },
    [](Node x, Location w) { return Transpose(x, w); },
};

constexpr BinaryBuilder kBinary[] = {
    [](Node a, Node b, Location w) { return Add(a, b, w); },
    [](Node a, Node b, Location w) { return Sub(a, b, w); },
    [](Node a, Node b, Location w) { return Mul(a, b, w); },
    [](Node a, Node b, Location w) { return Div(a, b, w); },
    [](Node a, Node b, Location w) { return Less(a, b, w); },
    [](Node a, Node b, Location w) { return LessEqual(a, b, w); },
    [](Node a, Node b, Location w) { return Greater(a, b, w); },
    [](Node a, Node b, Location w) { return GreaterEqual(a, b, w); },
    [](Node a, Node b, Location w) { return Equal(a, b, w); },
    [](Node a, Node b, Location w) { return NotEqual(a, b, w); },
    [](Node a, Node b, Location w) { return MatMul(a, b, w); },
    [](Node a, Node b, Location w) { return HalfMse(a, b, w); },
    [](Node a, Node b, Location w) { return SigmoidCrossEntropy(a, b, w); },
    [](Node a, Node b, Location w) { return SoftmaxCrossEntropy(a, b, w); },
    [](Node a, Node b, Location w) { return Accuracy(a, b, w); },
};

constexpr ReduceBuilder kReduce[] = {
    [](Node x, int axis, bool keep, Location w) {
      return Sum(x, axis, keep, w);
    },
    [](Node x, int axis, bool keep, Location w) {
      return Mean(x, axis, keep, w);
    },
    [](Node x, int axis, bool keep, Location w) {
      return Max(x, axis, keep, w);
    },
    [](Node x, int axis, bool keep, Location w) {
      return Argmax(x, axis, keep, w);
    },
};

template <typename T, size_t N>
constexpr int CountOf(const T (&)[N]) {
  return static_cast<int>(N);
}

struct BuiltGraph {
  Graph graph;
  DType dtype = kF32;
  std::vector<Node> nodes;
  int leaves = 0;
};

DType LeafDType(Decoder& in, const BuiltGraph& built) {
  // One leaf in sixteen takes the other dtype, so that mixing is tried.
  if (in.Pick(16) != 0) return built.dtype;
  return built.dtype == kF32 ? kF64 : kF32;
}

// Prefers recent nodes, so that programs grow chains and not only fans.
Node Operand(Decoder& in, BuiltGraph& built) {
  if (built.nodes.empty()) {
    built.nodes.push_back(built.graph.Input("x", {2, 3}, built.dtype));
    ++built.leaves;
  }
  const int recent = std::min<int>(built.nodes.size(), 8);
  return built.nodes[built.nodes.size() - 1 - in.Pick(recent)];
}

Node BuildLeaf(Decoder& in, BuiltGraph& built, int kind) {
  Graph& graph = built.graph;
  const std::string name = absl::StrCat("leaf", built.leaves++);
  Shape shape = in.DecodeShape();
  const DType dtype = LeafDType(in, built);
  switch (kind) {
    case 0:
      return graph.Input(name, shape, dtype);
    case 1:
      return graph.Parameter(name, shape, dtype);
    case 2:
      return graph.Fill(in.Value(), shape, dtype);
    default: {
      // A constant needs a valid shape before its tensor can exist.
      if (!ValidateShape(shape).ok() || NumElements(shape) > 64) {
        return graph.Fill(in.Value(), shape, dtype);
      }
      Tensor value(dtype, shape);
      for (int64_t i = 0; i < value.num_elements(); ++i) {
        value.Set(i, in.Value());
      }
      return graph.Constant(std::move(value));
    }
  }
}

// A shape that `x` broadcasts to, most of the time: some of its 1s widened
// and maybe a leading dimension added.
Shape BroadcastTarget(Decoder& in, const Node& x) {
  Shape shape = x.shape();
  for (int64_t& dim : shape) {
    if (dim == 1 && in.Pick(2) == 0) dim = in.Dimension();
  }
  if (in.Pick(2) == 0) shape.insert(shape.begin(), in.Dimension());
  return shape;
}

// A shape of x's element count, most of the time.
Shape ReshapeTarget(Decoder& in, const Node& x) {
  const int64_t n = NumElements(x.shape());
  switch (in.Pick(4)) {
    case 0:
      return {n};
    case 1:
      return {1, n};
    case 2:
      return {n, 1};
    default:
      return in.DecodeShape();
  }
}

std::vector<int> Permutation(Decoder& in, int rank) {
  std::vector<int> permutation(rank);
  for (int i = 0; i < rank; ++i) permutation[i] = i;
  for (int i = rank - 1; i > 0; --i) {
    std::swap(permutation[i], permutation[in.Pick(i + 1)]);
  }
  // Sometimes not a permutation at all.
  if (rank > 0 && in.Pick(8) == 0) permutation[0] = in.Pick(rank + 2) - 1;
  return permutation;
}

Node BuildScalarOp(Decoder& in, Node x) {
  const double value = in.Value();
  switch (in.Pick(6)) {
    case 0:
      return x + value;
    case 1:
      return x - value;
    case 2:
      return x * value;
    case 3:
      return x / value;
    case 4:
      return value - x;
    default:
      return value / x;
  }
}

// Adds one node; returns it, invalid if the builder refused.
Node BuildStep(Decoder& in, BuiltGraph& built) {
  const int step = in.Pick(16);
  if (step < 3) return BuildLeaf(in, built, in.Pick(4));
  Node x = Operand(in, built);
  switch (step) {
    case 3:
    case 4:
      return kUnary[in.Pick(CountOf(kUnary))](x, Location::current());
    case 5:
    case 6:
    case 7: {
      // Each operand is read in its own statement: the order in which
      // function arguments are evaluated differs between compilers, and an
      // input must decode the same under libFuzzer's and the suite's.
      const BinaryBuilder binary = kBinary[in.Pick(CountOf(kBinary))];
      Node y = Operand(in, built);
      return binary(x, y, Location::current());
    }
    case 8: {
      const int axis = in.Pick(7) - 3;
      const bool keepdims = in.Pick(2) == 1;
      return kReduce[in.Pick(CountOf(kReduce))](x, axis, keepdims,
                                                Location::current());
    }
    case 9:
      return BuildScalarOp(in, x);
    case 10: {
      Node a = Operand(in, built);
      Node b = Operand(in, built);
      return Select(x, a, b);
    }
    case 11:
      return Transpose(x, Permutation(in, x.rank()));
    case 12:
      return Reshape(x, ReshapeTarget(in, x));
    case 13:
      return BroadcastTo(x, BroadcastTarget(in, x));
    case 14:
      if (in.Pick(2) == 0) return OneHot(x, in.Pick(6));
      return LeakyRelu(x, in.Value());
    default:
      return FillLike(x, in.Value());
  }
}

// ---- Running it ----

// A builder refusal must be an InvalidArgument naming the caller's line.
void CheckRefusal(const absl::Status& status) {
  KILN_CHECK(status.code() == absl::StatusCode::kInvalidArgument)
      << status.ToString();
  KILN_CHECK(absl::StrContains(status.message(), "(at "))
      << "the message names no source line: " << status.ToString();
}

FeedMap Feeds(Decoder& in, Graph& graph) {
  FeedMap feeds;
  for (const Node& leaf : graph.Leaves()) {
    Tensor value(leaf.dtype(), leaf.shape());
    for (int64_t i = 0; i < value.num_elements(); ++i) {
      // Past the end of the input, a fixed spread of values.
      value.Set(i, in.done() ? ((i * 37) % 17 - 8) / 4.0 : in.Value());
    }
    feeds[leaf.name()] = std::move(value);
  }
  return feeds;
}

bool SameValue(double a, double b) {
  return a == b || (std::isnan(a) && std::isnan(b));
}

void CheckSameTensors(const std::vector<Tensor>& expected,
                      const std::vector<Tensor>& actual,
                      absl::string_view what) {
  KILN_CHECK(expected.size() == actual.size()) << what;
  for (size_t t = 0; t < expected.size(); ++t) {
    KILN_CHECK(expected[t].dtype() == actual[t].dtype() &&
               expected[t].shape() == actual[t].shape())
        << what << " " << t << ": " << expected[t].DebugString() << " vs "
        << actual[t].DebugString();
    for (int64_t i = 0; i < expected[t].num_elements(); ++i) {
      KILN_CHECK(SameValue(expected[t].At(i), actual[t].At(i)))
          << what << " " << t << " element " << i << ": interpreter "
          << expected[t].At(i) << ", JIT " << actual[t].At(i);
    }
  }
}

// The graph the JIT compiles: a copy of what `outputs` and `updates` need,
// after the default passes, as JitExecutor::Compile makes it.
struct Optimized {
  Graph graph;
  std::vector<Node> outputs;
  std::vector<ParameterUpdate> updates;
};

std::unique_ptr<Optimized> Optimize(
    const std::vector<Node>& outputs,
    const std::vector<ParameterUpdate>& updates) {
  auto optimized = std::make_unique<Optimized>();
  std::vector<Node> roots = outputs;
  for (const ParameterUpdate& update : updates) {
    roots.push_back(update.value);
    roots.push_back(update.parameter);
  }
  const std::vector<Node> copied = CopySubgraph(roots, optimized->graph);
  for (const Node& node : copied) optimized->graph.AddOutput(node);
  RunPasses(optimized->graph);
  Graph& graph = optimized->graph;
  for (size_t i = 0; i < outputs.size(); ++i) {
    optimized->outputs.push_back(graph.node(copied[i].id()));
  }
  for (size_t u = 0; u < updates.size(); ++u) {
    const size_t at = outputs.size() + 2 * u;
    optimized->updates.push_back(
        {graph.node(copied[at + 1].id()), graph.node(copied[at].id())});
  }
  return optimized;
}

// Runs one step on `executor`: the outputs, then the updated parameters.
// Returns false if the executor refused the program for its memory budget.
bool RunOn(Executor& executor, Graph& graph, const std::vector<Node>& outputs,
           const std::vector<ParameterUpdate>& updates, const FeedMap& all,
           std::vector<Tensor>& results) {
  // The passes' copy holds only the leaves something still reads.
  FeedMap feeds;
  for (const auto& [name, tensor] : all) {
    if (graph.FindLeaf(name).has_value()) feeds[name] = tensor;
  }
  absl::StatusOr<std::unique_ptr<Program>> program =
      executor.Compile(graph, outputs, updates);
  if (absl::IsResourceExhausted(program.status())) return false;
  KILN_CHECK(program.ok()) << executor.name() << " cannot compile a graph "
                           << "that built: " << program.status().ToString();
  absl::Status ran = (*program)->Run(feeds, results);
  KILN_CHECK(ran.ok()) << executor.name() << ": " << ran.ToString();
  for (const ParameterUpdate& update : updates) {
    results.push_back(feeds.at(update.parameter.name()));
  }
  return true;
}

int64_t LargestNode(const BuiltGraph& built) {
  int64_t largest = 0;
  for (const Node& node : built.nodes) {
    largest = std::max(largest, NumElements(node.shape()));
  }
  return largest;
}

// Differentiates the built graph and compares the executors on it.
void CheckBuiltProgram(Decoder& in, BuiltGraph& built) {
  Graph& graph = built.graph;
  Node last = built.nodes.back();
  Node loss = last.rank() == 0 ? last : SumAll(last);
  std::vector<Node> leaves = graph.Leaves();
  Gradients gradients = Grad(loss, leaves);
  KILN_CHECK(graph.status().ok())
      << "the gradient of a graph that built failed: "
      << graph.status().ToString();

  std::vector<Node> outputs = {last, loss};
  std::vector<ParameterUpdate> updates;
  const bool training_step = in.Pick(2) == 0;
  // Results are the same bit for bit on any number of threads, and with or
  // without skipping zeros of inputs. Read before the feeds, which take
  // every byte left.
  const int num_threads = 1 + in.Pick(3);
  const bool skip_input_zeros = in.Pick(2) == 0;
  for (const auto& [leaf, gradient] : gradients.pairs()) {
    outputs.push_back(gradient);
    if (training_step && leaf.op() == OpKind::kParameter) {
      updates.push_back({leaf, leaf - gradient * 0.125});
    }
  }
  KILN_CHECK(graph.status().ok()) << graph.status().ToString();
  if (LargestNode(built) > kMaxElementsToRun) return;

  const FeedMap feeds = Feeds(in, graph);
  std::unique_ptr<Optimized> optimized = Optimize(outputs, updates);
  KILN_CHECK(optimized->graph.status().ok())
      << optimized->graph.status().ToString();
  Interpreter interpreter({.memory_budget_bytes = kMemoryBudget});
  std::vector<Tensor> expected;
  if (!RunOn(interpreter, optimized->graph, optimized->outputs,
             optimized->updates, feeds, expected)) {
    return;
  }

  jit::JitOptions options;
  options.use_memory_cache = true;
  options.exact_math = true;
  options.memory_budget_bytes = kMemoryBudget;
  options.num_threads = num_threads;
  options.skip_input_zeros = skip_input_zeros;
  jit::JitExecutor jit(options);
  std::vector<Tensor> actual;
  if (!RunOn(jit, graph, outputs, updates, feeds, actual)) return;
  CheckSameTensors(expected, actual, "output");
}

void FuzzOneInput(const uint8_t* data, size_t size) {
  Decoder in(data, size);
  BuiltGraph built;
  built.dtype = in.Pick(2) == 0 ? kF32 : kF64;
  const int steps = 1 + in.Pick(kMaxSteps);
  for (int i = 0; i < steps && !in.done(); ++i) {
    Node node = BuildStep(in, built);
    if (!built.graph.status().ok()) {
      KILN_CHECK(!node.ok()) << "a refused call returned a valid node";
      CheckRefusal(built.graph.status());
      return;
    }
    KILN_CHECK(node.ok()) << "an invalid node without an error status";
    built.nodes.push_back(node);
  }
  if (!built.nodes.empty()) CheckBuiltProgram(in, built);
}

}  // namespace
}  // namespace kiln::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kiln::fuzz::FuzzOneInput(data, size);
  return 0;
}
