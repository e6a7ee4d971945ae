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
// integer operations with no branch, on 64-byte vectors in two independent
// chains, which runs at the speed of reading the memory where isfinite per
// element would not.
typedef uint32_t U32x16 __attribute__((vector_size(64)));
typedef uint64_t U64x8 __attribute__((vector_size(64)));

template <typename Bits, typename Vector>
inline __attribute__((always_inline)) bool AnyAllOnesExponent(
    const Bits* bits, int64_t count, Bits exponent_mask) {
  constexpr int64_t kLanes = sizeof(Vector) / sizeof(Bits);
  const Bits unit = exponent_mask & ~(exponent_mask << 1);
  Vector any0 = {}, any1 = {};
  int64_t i = 0;
  for (; i + 2 * kLanes <= count; i += 2 * kLanes) {
    Vector first, second;
    std::memcpy(&first, bits + i, sizeof(Vector));
    std::memcpy(&second, bits + i + kLanes, sizeof(Vector));
    any0 |= (first & exponent_mask) + unit;
    any1 |= (second & exponent_mask) + unit;
  }
  any0 |= any1;
  Bits any = 0;
  for (int64_t lane = 0; lane < kLanes; ++lane) any |= any0[lane];
  for (; i < count; ++i) any |= (bits[i] & exponent_mask) + unit;
  return (any >> (8 * sizeof(Bits) - 1)) != 0;
}

// The blocks' tests for f32 and f64, each compiled for AVX-512, for AVX2
// and for baseline x86-64, of which the first call picks the widest the
// processor has: the trainer checks every parameter after every step, and
// the baseline build's 16-byte vectors read the cache at half the speed
// that 64-byte ones do. The pick is a function pointer rather than an
// ifunc, whose resolver would run before a sanitizer's runtime starts.
template <typename Bits, typename Vector, Bits kExponentMask>
struct BlockTest {
  using Function = bool (*)(const Bits* bits, int64_t count);

  __attribute__((target("avx512f"))) static bool Avx512(const Bits* bits,
                                                        int64_t count) {
    return AnyAllOnesExponent<Bits, Vector>(bits, count, kExponentMask);
  }
  __attribute__((target("avx2"))) static bool Avx2(const Bits* bits,
                                                   int64_t count) {
    return AnyAllOnesExponent<Bits, Vector>(bits, count, kExponentMask);
  }
  static bool Baseline(const Bits* bits, int64_t count) {
    return AnyAllOnesExponent<Bits, Vector>(bits, count, kExponentMask);
  }

  static Function Pick() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return &Avx512;
    if (__builtin_cpu_supports("avx2")) return &Avx2;
    return &Baseline;
  }

  static bool Run(const Bits* bits, int64_t count) {
    static const Function picked = Pick();
    return picked(bits, count);
  }
};

using F32BlockTest = BlockTest<uint32_t, U32x16, 0x7f800000u>;
using F64BlockTest = BlockTest<uint64_t, U64x8, 0x7ff0000000000000ull>;

template <typename T, typename Bits, typename Test>
std::optional<NonFiniteValue> Find(const void* data, int64_t count) {
  static_assert(sizeof(T) == sizeof(Bits));
  const Bits* bits = static_cast<const Bits*>(data);
  for (int64_t begin = 0; begin < count; begin += kBlockElements) {
    const int64_t length = std::min(kBlockElements, count - begin);
    if (!Test::Run(bits + begin, length)) continue;
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
      return Find<float, uint32_t, F32BlockTest>(data, count);
    case DType::kF64:
      return Find<double, uint64_t, F64BlockTest>(data, count);
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
