#include "ops/numerics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln {
namespace {

// Elements are tested in blocks: a branch-free pass over a block tells
// whether any element in it is bad, and only then is it searched.
constexpr int64_t kBlockElements = 1024;

// True when some element of `bits[0, count)` has every exponent bit set,
// which is what NaN and the infinities share. Masking out the exponent and
// adding one unit of it carries into the sign bit exactly when the exponent
// was all ones, so one OR of the sums tells whether any element was bad:
// integer operations with no branch, in four independent chains, which
// runs at the speed of reading the memory where isfinite per element would
// not.
template <typename Bits>
bool AnyAllOnesExponent(const Bits* bits, int64_t count, Bits exponent_mask) {
  const Bits unit = exponent_mask & ~(exponent_mask << 1);
  Bits any0 = 0, any1 = 0, any2 = 0, any3 = 0;
  int64_t i = 0;
  for (; i + 4 <= count; i += 4) {
    any0 |= (bits[i] & exponent_mask) + unit;
    any1 |= (bits[i + 1] & exponent_mask) + unit;
    any2 |= (bits[i + 2] & exponent_mask) + unit;
    any3 |= (bits[i + 3] & exponent_mask) + unit;
  }
  for (; i < count; ++i) any0 |= (bits[i] & exponent_mask) + unit;
  const Bits any = any0 | any1 | any2 | any3;
  return (any >> (8 * sizeof(Bits) - 1)) != 0;
}

template <typename T, typename Bits>
std::optional<NonFiniteValue> Find(const void* data, int64_t count,
                                   Bits exponent_mask) {
  static_assert(sizeof(T) == sizeof(Bits));
  const Bits* bits = static_cast<const Bits*>(data);
  for (int64_t begin = 0; begin < count; begin += kBlockElements) {
    const int64_t length = std::min(kBlockElements, count - begin);
    if (!AnyAllOnesExponent(bits + begin, length, exponent_mask)) continue;
    for (int64_t i = begin; i < begin + length; ++i) {
      T value;
      std::memcpy(&value, &bits[i], sizeof(T));
      if (!std::isfinite(value)) return NonFiniteValue{i, value};
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<NonFiniteValue> FindNonFinite(DType dtype, const void* data,
                                            int64_t count) {
  switch (dtype) {
    case DType::kF32:
      return Find<float, uint32_t>(data, count, 0x7f800000u);
    case DType::kF64:
      return Find<double, uint64_t>(data, count, 0x7ff0000000000000ull);
  }
  KILN_UNREACHABLE("invalid dtype");
}

std::optional<NonFiniteValue> FindNonFinite(const Tensor& tensor) {
  return FindNonFinite(tensor.dtype(), tensor.raw_data(),
                       tensor.num_elements());
}

std::string DescribeNonFinite(const NonFiniteValue& bad, const Shape& shape) {
  std::string text = absl::StrCat(bad.value, " at element ", bad.index);
  if (shape.empty()) return text;
  // Coordinates, innermost last, peeled off the row-major index.
  std::vector<int64_t> coordinates(shape.size());
  int64_t rest = bad.index;
  for (size_t i = shape.size(); i-- > 0;) {
    coordinates[i] = rest % shape[i];
    rest /= shape[i];
  }
  absl::StrAppend(&text, " [", absl::StrJoin(coordinates, ","), "]");
  return text;
}

}  // namespace kiln
