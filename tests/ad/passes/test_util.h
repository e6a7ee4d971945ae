// Helpers shared by the pass tests: seeded inputs and running a graph on the
// interpreter, the reference every rewrite must agree with.

#ifndef KILN_TESTS_AD_PASSES_TEST_UTIL_H_
#define KILN_TESTS_AD_PASSES_TEST_UTIL_H_

#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "ad/executor.h"
#include "ad/graph.h"
#include "ad/interpreter.h"
#include "gtest/gtest.h"
#include "ops/tensor.h"

namespace kiln::passes_testing {

// Uniform values in [low, high] from a seeded generator.
inline Tensor RandomTensor(std::mt19937_64& rng, DType dtype, Shape shape,
                           double low, double high) {
  std::uniform_real_distribution<double> uniform(low, high);
  Tensor tensor(dtype, std::move(shape));
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    tensor.Set(i, uniform(rng));
  }
  return tensor;
}

// Class indices in [0, classes), one per row, stored as values of `dtype`.
inline Tensor RandomLabels(std::mt19937_64& rng, DType dtype, int64_t rows,
                           int64_t classes) {
  std::uniform_int_distribution<int64_t> label(0, classes - 1);
  Tensor tensor(dtype, {rows});
  for (int64_t i = 0; i < rows; ++i) tensor.Set(i, label(rng));
  return tensor;
}

// Runs `outputs` on the interpreter, failing the test on error.
inline std::vector<Tensor> Run(Graph& graph, const std::vector<Node>& outputs,
                               const FeedMap& feeds) {
  Interpreter interpreter;
  absl::StatusOr<std::vector<Tensor>> values =
      Evaluate(interpreter, graph, outputs, feeds);
  EXPECT_TRUE(values.ok()) << values.status();
  if (!values.ok()) return std::vector<Tensor>(outputs.size());
  return *std::move(values);
}

// Runs the single node `output`.
inline Tensor RunOne(Graph& graph, Node output, const FeedMap& feeds) {
  return Run(graph, {output}, feeds)[0];
}

}  // namespace kiln::passes_testing

#endif  // KILN_TESTS_AD_PASSES_TEST_UTIL_H_
