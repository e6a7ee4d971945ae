#include "models/initializer.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ops/base/status_macros.h"

namespace kiln {

std::string InitScheme::ToString() const {
  switch (kind) {
    case Kind::kUniform:
      return absl::StrCat("uniform:", low, ":", high);
    case Kind::kXavier:
      return "xavier";
    case Kind::kHe:
      return "he";
  }
  KILN_UNREACHABLE("invalid init scheme");
}

absl::StatusOr<InitScheme> ParseInitScheme(absl::string_view text) {
  if (text == "xavier") return InitScheme{InitScheme::Kind::kXavier};
  if (text == "he") return InitScheme{InitScheme::Kind::kHe};
  std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  InitScheme scheme;
  if (parts.size() != 3 || parts[0] != "uniform" ||
      !absl::SimpleAtod(parts[1], &scheme.low) ||
      !absl::SimpleAtod(parts[2], &scheme.high)) {
    return absl::InvalidArgumentError(
        absl::StrCat("init scheme '", text,
                     "' is not uniform:LOW:HIGH, xavier or he"));
  }
  if (!(scheme.low < scheme.high)) {
    return absl::InvalidArgumentError(
        absl::StrCat("init scheme '", text, "' needs LOW < HIGH"));
  }
  return scheme;
}

absl::StatusOr<std::vector<InitScheme>> ParseInitSchemes(
    absl::string_view text) {
  std::vector<InitScheme> schemes;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    KILN_ASSIGN_OR_RETURN(InitScheme scheme, ParseInitScheme(part));
    schemes.push_back(scheme);
  }
  return schemes;
}

Tensor InitialWeights(NumpyRandom& random, const InitScheme& scheme,
                      int64_t fan_in, int64_t fan_out, DType dtype) {
  double low = scheme.low, high = scheme.high;
  if (scheme.kind != InitScheme::Kind::kUniform) {
    const double fans = scheme.kind == InitScheme::Kind::kXavier
                            ? static_cast<double>(fan_in + fan_out)
                            : static_cast<double>(fan_in);
    high = std::sqrt(6.0 / fans);
    low = -high;
  }
  Tensor weights(dtype, {fan_in, fan_out});
  for (int64_t i = 0; i < weights.num_elements(); ++i) {
    weights.Set(i, low + (high - low) * random.NextDouble());
  }
  return weights;
}

}  // namespace kiln
