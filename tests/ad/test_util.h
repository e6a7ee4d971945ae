// Helpers shared by the graph and autodiff tests: seeded random tensors and
// running a graph on the interpreter.
//
//   std::mt19937_64 rng(1);
//   Tensor w = RandomTensor(rng, kF64, {3, 4}, -1.0, 1.0);
//   Tensor y = RunOne(graph, output, {{"w", w}});

#ifndef KILN_TESTS_AD_TEST_UTIL_H_
#define KILN_TESTS_AD_TEST_UTIL_H_

#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "ad/executor.h"
#include "ad/graph.h"
#include "ad/interpreter.h"
#include "gtest/gtest.h"
#include "ops/tensor.h"

namespace kiln::testing {

// Uniform values in [low, high], redrawn while closer than `margin` to any
// of `avoid`, so that finite differences never straddle a kink.
inline Tensor RandomTensor(std::mt19937_64& rng, DType dtype, Shape shape,
                           double low, double high,
                           std::vector<double> avoid = {},
                           double margin = 0.0) {
  std::uniform_real_distribution<double> uniform(low, high);
  Tensor tensor(dtype, std::move(shape));
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    double value;
    bool too_close;
    do {
      value = uniform(rng);
      too_close = false;
      for (double point : avoid) {
        too_close = too_close || std::abs(value - point) < margin;
      }
    } while (too_close);
    tensor.Set(i, value);
  }
  return tensor;
}

// Rows of non-negative values summing to one, along the last axis.
inline Tensor RandomDistribution(std::mt19937_64& rng, DType dtype,
                                 Shape shape) {
  Tensor tensor = RandomTensor(rng, dtype, shape, 0.1, 1.0);
  const int64_t columns = shape.back();
  for (int64_t row = 0; row < tensor.num_elements() / columns; ++row) {
    double total = 0;
    for (int64_t c = 0; c < columns; ++c) total += tensor.At(row * columns + c);
    for (int64_t c = 0; c < columns; ++c) {
      tensor.Set(row * columns + c, tensor.At(row * columns + c) / total);
    }
  }
  return tensor;
}

// One-hot rows with the hot column drawn uniformly.
inline Tensor RandomOneHot(std::mt19937_64& rng, DType dtype, Shape shape) {
  Tensor tensor(dtype, shape);
  const int64_t columns = shape.back();
  std::uniform_int_distribution<int64_t> column(0, columns - 1);
  for (int64_t row = 0; row < tensor.num_elements() / columns; ++row) {
    tensor.Set(row * columns + column(rng), 1.0);
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

}  // namespace kiln::testing

#endif  // KILN_TESTS_AD_TEST_UTIL_H_
