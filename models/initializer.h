// Initial values for an MLP's weight matrices.
//
// Three schemes, each drawing from one NumpyRandom stream shared by all
// layers, matrix after matrix in row-major order:
//   uniform:LOW:HIGH  LOW + (HIGH − LOW)·u, exactly as NumPy's
//                     low + (high − low) * np.random.random(shape);
//   xavier            uniform on ±sqrt(6 / (fan_in + fan_out)) (Glorot);
//   he                uniform on ±sqrt(6 / fan_in), for relu-like layers.
// Biases start at zero and draw nothing.
//
//   absl::StatusOr<std::vector<InitScheme>> schemes =
//       ParseInitSchemes("uniform:-0.5:0.5,xavier");
//   NumpyRandom random(3);
//   Tensor w1 = InitialWeights(random, (*schemes)[0], 784, 200, kF64);

#ifndef KILN_MODELS_INITIALIZER_H_
#define KILN_MODELS_INITIALIZER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/numpy_random.h"
#include "ops/tensor.h"

namespace kiln {

struct InitScheme {
  enum class Kind { kUniform, kXavier, kHe };
  Kind kind = Kind::kUniform;
  // For kUniform.
  double low = 0.0;
  double high = 0.0;

  std::string ToString() const;
};

// Parses one scheme, "uniform:LOW:HIGH", "xavier" or "he".
absl::StatusOr<InitScheme> ParseInitScheme(absl::string_view text);

// Parses a comma-separated list of schemes, one per weight matrix.
absl::StatusOr<std::vector<InitScheme>> ParseInitSchemes(
    absl::string_view text);

// A [fan_in, fan_out] matrix drawn from `random` under `scheme`. Values are
// computed in double and then rounded to `dtype`.
Tensor InitialWeights(NumpyRandom& random, const InitScheme& scheme,
                      int64_t fan_in, int64_t fan_out, DType dtype);

}  // namespace kiln

#endif  // KILN_MODELS_INITIALIZER_H_
