// A reader for IDX files, the format MNIST and Fashion-MNIST are shipped in.
//
// An IDX file is a 4-byte magic number (two zero bytes, a type code and the
// rank), then one big-endian uint32 per dimension, then the elements in
// row-major order. Data sets are often distributed gzipped, so the reader
// accepts both raw files and gzip-compressed ones and tells them apart by the
// gzip magic bytes 1f 8b.
//
// A data file comes from outside the program, so every defect in one is
// returned as an error naming the path and the offending values; nothing in a
// file can make the reader crash or allocate more than kMaxIdxDataBytes.
//
//   absl::StatusOr<IdxArray> labels = ReadIdx(dir +
//   "/train-labels-idx1-ubyte"); if (!labels.ok()) return labels.status();
//   int64_t count = labels->dims[0];
//   uint8_t first = labels->values[0];

#ifndef KILN_MODELS_DATA_IDX_H_
#define KILN_MODELS_DATA_IDX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln {

// The contents of an IDX file of unsigned bytes.
struct IdxArray {
  // Dimension sizes, outermost first; each is at least 1.
  std::vector<int64_t> dims;
  // The elements in row-major order; as many as the product of `dims`.
  std::vector<uint8_t> values;
  // The items (the extent of the first dimension) in the file, of which
  // dims[0] were read.
  int64_t file_items = 0;
};

// Files may have between kMinIdxRank and kMaxIdxRank dimensions. IDX itself
// allows up to 255, but no data set Kiln reads has more than 3 and a bound
// keeps a corrupt rank byte from being read as a huge header.
inline constexpr int kMinIdxRank = 1;
inline constexpr int kMaxIdxRank = 4;

// The largest data section ReadIdx accepts: 1 GiB. MNIST's largest file holds
// 47 MB, so a header declaring more is far more likely corrupt, or a gzip
// bomb, than a real data set.
inline constexpr int64_t kMaxIdxDataBytes = int64_t{1} << 30;

// Reads the IDX file at `path`, raw or gzipped. Only type code 0x08 (unsigned
// byte) is supported. On failure the message starts with the path, and the
// code says what kind of failure it was:
//   NotFound           there is no file at `path`.
//   InvalidArgument    the header is malformed (magic, type code, rank or a
//                      dimension), data follows the declared elements, or
//                      the name ends in .gz but the file is not gzipped.
//   ResourceExhausted  the header declares more than kMaxIdxDataBytes.
//   DataLoss           the file, or its gzip stream, ends early or is corrupt.
//   other codes        the operating system could not read the file.
// With a positive `max_items`, at most the first that many items (slices
// along the first dimension) are returned, and dims[0] says how many; the
// whole file is still checked, but a raw file's unread part only by its
// size, so that taking 1000 of MNIST's 60000 training images reads 1000.
absl::StatusOr<IdxArray> ReadIdx(const std::string& path,
                                 int64_t max_items = 0);

}  // namespace kiln

#endif  // KILN_MODELS_DATA_IDX_H_
