// two_layer: a first program with Kiln. It defines a two-layer network with
// the builder API, lets autodiff derive its gradients, trains it with plain
// SGD on the JIT, and then prints each gradient next to the delta derived
// by hand, to show that Grad computes the textbook backward pass.
//
//   bazel run //models/examples:two_layer
//
// The data are six points in four dimensions, two per class; the model is
// 4-5-3 with a sigmoid hidden layer and softmax with cross-entropy on top.
// README.md walks through this file.

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "ad/autodiff.h"
#include "ad/builder.h"
#include "ad/graph.h"
#include "jit/jit_executor.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

constexpr int kRows = 6, kInputs = 4, kHidden = 5, kClasses = 3;

// The graph and the nodes the program refers to. Building only records
// nodes; nothing is computed until an executor runs the graph.
struct TwoLayer {
  Graph graph;
  Node x, y, w1, b1, w2, b2;
  Node hidden, probabilities, loss;
  Gradients grads;
};

void Build(TwoLayer& m) {
  m.x = m.graph.Input("x", {kRows, kInputs}, kF64);
  m.y = m.graph.Input("y", {kRows, kClasses}, kF64);  // one-hot labels
  m.w1 = m.graph.Parameter("w1", {kInputs, kHidden}, kF64);
  m.b1 = m.graph.Parameter("b1", {kHidden}, kF64);
  m.w2 = m.graph.Parameter("w2", {kHidden, kClasses}, kF64);
  m.b2 = m.graph.Parameter("b2", {kClasses}, kF64);

  m.hidden = Sigmoid(MatMul(m.x, m.w1) + m.b1);  // the bias broadcasts
  Node logits = MatMul(m.hidden, m.w2) + m.b2;
  m.probabilities = Softmax(logits);
  m.loss = SoftmaxCrossEntropy(logits, m.y);  // averaged over the rows
  m.grads = Grad(m.loss, {m.w1, m.b1, m.w2, m.b2});
}

// Two points near each of three corners, and random starting weights.
FeedMap InitialFeeds() {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> weight(-0.5, 0.5), noise(0, 0.1);
  auto random = [&](Shape shape, auto& distribution) {
    Tensor tensor(kF64, shape);
    for (int64_t i = 0; i < tensor.num_elements(); ++i) {
      tensor.Set(i, distribution(rng));
    }
    return tensor;
  };
  Tensor x = random({kRows, kInputs}, noise), y(kF64, {kRows, kClasses});
  for (int row = 0; row < kRows; ++row) {
    const int label = row % kClasses;
    x.Set(row * kInputs + label, x.At(row * kInputs + label) + 1);
    y.Set(row * kClasses + label, 1);
  }
  return {{"x", x},
          {"y", y},
          {"w1", random({kInputs, kHidden}, weight)},
          {"b1", Tensor(kF64, {kHidden})},
          {"w2", random({kHidden, kClasses}, weight)},
          {"b2", Tensor(kF64, {kClasses})}};
}

// Compiles one SGD step, p ← p − lr·∂loss/∂p for every parameter, and runs
// it; the step overwrites the parameters in `feeds`.
absl::Status Train(TwoLayer& m, Executor& executor, FeedMap& feeds) {
  std::vector<ParameterUpdate> updates;
  for (Node p : {m.w1, m.b1, m.w2, m.b2}) {
    updates.push_back({p, p - m.grads[p] * 0.5});
  }
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Program> step,
                        executor.Compile(m.graph, {m.loss}, updates));
  std::vector<Tensor> outputs;
  for (int i = 0; i < 300; ++i) {
    KILN_RETURN_IF_ERROR(step->Run(feeds, outputs));
    if (i % 100 == 0 || i == 299) {
      std::printf("step %3d  loss %.6f\n", i, outputs[0].At(0));
    }
  }
  return absl::OkStatus();
}

// The backward pass written out by hand, from the forward values h and p:
//   δ2 = (p − y) / N          ∂W2 = hᵀ·δ2    ∂b2 = Σ_rows δ2
//   δ1 = (δ2·W2ᵀ) ⊙ h ⊙ (1 − h)   ∂W1 = xᵀ·δ1    ∂b1 = Σ_rows δ1
// with σ'(z) = σ(z)(1 − σ(z)) = h(1 − h). Returns dW1, db1, dW2, db2.
std::vector<std::vector<double>> HandGradients(const FeedMap& feeds,
                                               const Tensor& h,
                                               const Tensor& p) {
  const Tensor &x = feeds.at("x"), &y = feeds.at("y"), &w2 = feeds.at("w2");
  std::vector<double> dw1(kInputs * kHidden), db1(kHidden),
      dw2(kHidden * kClasses), db2(kClasses), delta1(kRows * kHidden);
  for (int n = 0; n < kRows; ++n) {
    for (int k = 0; k < kClasses; ++k) {
      const double delta2 =
          (p.At(n * kClasses + k) - y.At(n * kClasses + k)) / kRows;
      db2[k] += delta2;
      for (int j = 0; j < kHidden; ++j) {
        dw2[j * kClasses + k] += h.At(n * kHidden + j) * delta2;
        delta1[n * kHidden + j] += delta2 * w2.At(j * kClasses + k);
      }
    }
    for (int j = 0; j < kHidden; ++j) {
      const double a = h.At(n * kHidden + j);
      const double delta = delta1[n * kHidden + j] * a * (1 - a);
      db1[j] += delta;
      for (int i = 0; i < kInputs; ++i) {
        dw1[i * kHidden + j] += x.At(n * kInputs + i) * delta;
      }
    }
  }
  return {dw1, db1, dw2, db2};
}

absl::Status CompareGradients(TwoLayer& m, Executor& executor,
                              const FeedMap& feeds) {
  const std::vector<Node> parameters = {m.w1, m.b1, m.w2, m.b2};
  std::vector<Node> wanted = {m.hidden, m.probabilities};
  for (Node p : parameters) wanted.push_back(m.grads[p]);
  KILN_ASSIGN_OR_RETURN(std::vector<Tensor> values,
                        Evaluate(executor, m.graph, wanted, feeds));
  const auto by_hand = HandGradients(feeds, values[0], values[1]);

  std::printf("\n%-8s %22s %22s\n", "gradient", "autodiff", "by hand");
  double largest = 0;
  for (size_t g = 0; g < parameters.size(); ++g) {
    const Tensor& autodiff = values[2 + g];
    for (int64_t i = 0; i < autodiff.num_elements(); ++i) {
      const double difference = std::abs(autodiff.At(i) - by_hand[g][i]);
      largest = std::max(largest, difference);
      if (i < 2) {  // two entries of each are enough to read
        std::printf("d%s[%lld] %22.17f %22.17f\n", parameters[g].name().c_str(),
                    static_cast<long long>(i), autodiff.At(i), by_hand[g][i]);
      }
    }
  }
  std::printf("largest difference over all %d entries: %.3g\n",
              kInputs * kHidden + kHidden + kHidden * kClasses + kClasses,
              largest);
  return absl::OkStatus();
}

absl::Status Run() {
  TwoLayer model;
  Build(model);
  // Shape errors are recorded while building and reported here, once.
  KILN_RETURN_IF_ERROR(model.graph.status());
  jit::JitExecutor jit;
  FeedMap feeds = InitialFeeds();
  KILN_RETURN_IF_ERROR(Train(model, jit, feeds));
  return CompareGradients(model, jit, feeds);
}

}  // namespace
}  // namespace kiln

int main() {
  absl::Status done = kiln::Run();
  if (!done.ok()) {
    std::fprintf(stderr, "two_layer: %s\n", done.ToString().c_str());
    return 1;
  }
  return 0;
}
