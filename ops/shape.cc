#include "ops/shape.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/base/check.h"

namespace kiln {

int64_t NumElements(const Shape& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    // Valid shapes never overflow (see ValidateShape); a wrapped count
    // would size a buffer too small for its elements.
    KILN_CHECK(!__builtin_mul_overflow(count, dim, &count))
        << "the element count of " << ShapeToString(shape) << " overflows";
  }
  return count;
}

std::string ShapeToString(const Shape& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

absl::Status ValidateShape(const Shape& shape) {
  // Eight bytes per element at f64: the byte size must fit too.
  constexpr int64_t kMaxElements = std::numeric_limits<int64_t>::max() / 8;
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeToString(shape),
                       " has a dimension that is not positive: ", dim));
    }
    if (count > kMaxElements / dim) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", ShapeToString(shape),
                       " has more elements than fit in memory addresses"));
    }
    count *= dim;
  }
  return absl::OkStatus();
}

std::vector<int64_t> RowMajorStrides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i) {
    strides[i] = strides[i + 1] * shape[i + 1];
  }
  return strides;
}

absl::StatusOr<Shape> BroadcastShapes(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Walk both shapes from their last dimension; missing leading dims are 1.
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shapes ", ShapeToString(a), " and ", ShapeToString(b),
          " are not broadcastable: dimension ", da, " vs ", db));
    }
    result[rank - 1 - i] = da == 1 ? db : da;
  }
  return result;
}

bool BroadcastsTo(const Shape& from, const Shape& to) {
  absl::StatusOr<Shape> joined = BroadcastShapes(from, to);
  return joined.ok() && *joined == to;
}

absl::StatusOr<int> NormalizeAxis(int axis, int rank) {
  const int resolved = axis < 0 ? axis + rank : axis;
  if (resolved < 0 || resolved >= rank) {
    return absl::InvalidArgumentError(
        absl::StrCat("axis ", axis, " is out of range for rank ", rank));
  }
  return resolved;
}

}  // namespace kiln
