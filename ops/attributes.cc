#include "ops/attributes.h"

#include <cstring>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kiln {
namespace {

bool SameTensor(const Tensor* a, const Tensor* b) {
  if (a == b) return true;
  if (a == nullptr || b == nullptr) return false;
  return a->dtype() == b->dtype() && a->shape() == b->shape() &&
         std::memcmp(a->raw_data(), b->raw_data(), a->num_bytes()) == 0;
}

}  // namespace

bool Attributes::operator==(const Attributes& other) const {
  // Fill values compare by bit pattern so that 0.0 and -0.0 stay distinct
  // and NaN equals itself: two nodes merge only if they are interchangeable.
  return axis == other.axis && keepdims == other.keepdims &&
         std::memcmp(&scalar, &other.scalar, sizeof(scalar)) == 0 &&
         shape == other.shape && permutation == other.permutation &&
         num_classes == other.num_classes &&
         SameTensor(value.get(), other.value.get());
}

size_t Attributes::Hash() const {
  uint64_t scalar_bits;
  std::memcpy(&scalar_bits, &scalar, sizeof(scalar));
  size_t value_hash = 0;
  if (value != nullptr) {
    value_hash = absl::HashOf(
        value->shape(),
        absl::string_view(static_cast<const char*>(value->raw_data()),
                         value->num_bytes()));
  }
  return absl::HashOf(axis, keepdims, scalar_bits, shape, permutation,
                      num_classes, value_hash);
}

std::string Attributes::ToString() const {
  std::vector<std::string> parts;
  if (axis != 0) parts.push_back(absl::StrCat("axis=", axis));
  if (keepdims) parts.push_back("keepdims=true");
  if (scalar != 0.0) parts.push_back(absl::StrCat("scalar=", scalar));
  if (!shape.empty()) parts.push_back("shape=" + ShapeToString(shape));
  if (!permutation.empty()) {
    parts.push_back(
        absl::StrCat("permutation=[", absl::StrJoin(permutation, ","), "]"));
  }
  if (num_classes != 0) {
    parts.push_back(absl::StrCat("num_classes=", num_classes));
  }
  if (value != nullptr) parts.push_back("value=" + value->DebugString(4));
  return absl::StrJoin(parts, " ");
}

}  // namespace kiln
