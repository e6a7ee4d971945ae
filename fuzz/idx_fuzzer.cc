// Fuzz target: the IDX reader (models/data/idx.h), raw and gzipped.
//
// The first byte of an input picks how the rest reaches ReadIdx:
//   0  written as is to a file named *.idx: the raw reader;
//   1  gzip-compressed first, into *.idx.gz: the IDX parser behind the
//      decompressor, which mutations of compressed bytes rarely reach;
//   2  written as is to *.idx.gz: the decompressor itself, and the check
//      that a .gz name holds gzip data.
// The same byte, divided by 3, picks how many items a second read asks for:
// 0 (all of them) to 3.
// Whatever the bytes, ReadIdx must return: either an array that keeps the
// header's promises, or an error of a documented code whose message starts
// with the path. A read of the first items must succeed or fail with the
// whole read, and agree with its first items. Anything else aborts, and the
// input is a finding.

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "fuzz/fuzz_file.h"
#include "fuzz/fuzz_target.h"
#include "models/data/idx.h"
#include "ops/base/check.h"

namespace kiln::fuzz {
namespace {

// `bytes` as one gzip member.
std::vector<uint8_t> Gzip(const uint8_t* bytes, size_t size) {
  z_stream stream = {};
  // 16 + MAX_WBITS asks deflate for the gzip wrapper.
  KILN_CHECK(deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                          16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::vector<uint8_t> out(deflateBound(&stream, size));
  stream.next_in = const_cast<Bytef*>(bytes);
  stream.avail_in = static_cast<uInt>(size);
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  KILN_CHECK(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

void CheckArray(const IdxArray& array) {
  KILN_CHECK(array.dims.size() >= kMinIdxRank &&
             array.dims.size() <= kMaxIdxRank)
      << "rank " << array.dims.size();
  int64_t elements = 1;
  for (int64_t dim : array.dims) {
    KILN_CHECK(dim >= 1) << "dimension " << dim;
    KILN_CHECK(!__builtin_mul_overflow(elements, dim, &elements));
  }
  KILN_CHECK(elements <= kMaxIdxDataBytes) << elements << " elements";
  KILN_CHECK(static_cast<int64_t>(array.values.size()) == elements)
      << array.values.size() << " values for " << elements << " elements";
}

void CheckError(const absl::Status& status, const std::string& path) {
  const absl::StatusCode code = status.code();
  KILN_CHECK(code == absl::StatusCode::kInvalidArgument ||
             code == absl::StatusCode::kDataLoss ||
             code == absl::StatusCode::kResourceExhausted)
      << "unexpected code: " << status.ToString();
  KILN_CHECK(absl::StartsWith(status.message(), path + ": "))
      << "the message does not start with the path: " << status.ToString();
}

}  // namespace
}  // namespace kiln::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln;
  using namespace kiln::fuzz;
  if (size == 0) return 0;
  const int mode = data[0] % 3;
  const uint8_t* rest = data + 1;
  const size_t rest_size = size - 1;

  std::string path;
  if (mode == 1) {
    const std::vector<uint8_t> compressed = Gzip(rest, rest_size);
    path = WriteFuzzFile("input.idx.gz", compressed.data(), compressed.size());
  } else {
    path = WriteFuzzFile(mode == 0 ? "input.idx" : "input.idx.gz", rest,
                         rest_size);
  }
  absl::StatusOr<IdxArray> array = ReadIdx(path);
  if (array.ok()) {
    CheckArray(*array);
  } else {
    CheckError(array.status(), path);
  }

  const int64_t max_items = data[0] / 3 % 4;
  absl::StatusOr<IdxArray> first = ReadIdx(path, max_items);
  KILN_CHECK(first.ok() == array.ok())
      << "the read of " << max_items << " items gives "
      << first.status().ToString() << ", the whole read "
      << array.status().ToString();
  if (!first.ok()) {
    KILN_CHECK(first.status().code() == array.status().code())
        << first.status().ToString() << " against "
        << array.status().ToString();
    return 0;
  }
  CheckArray(*first);
  KILN_CHECK(first->file_items == array->dims[0]) << first->file_items;
  const int64_t items = max_items > 0
                            ? std::min<int64_t>(max_items, array->dims[0])
                            : array->dims[0];
  std::vector<int64_t> dims = array->dims;
  dims[0] = items;
  KILN_CHECK(first->dims == dims) << "dimensions differ";
  KILN_CHECK(std::equal(first->values.begin(), first->values.end(),
                        array->values.begin()))
      << "values differ";
  return 0;
}
