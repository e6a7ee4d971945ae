#include "models/data/idx.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "ops/base/check.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
constexpr size_t kMagicBytes = 4;
constexpr size_t kDimBytes = 4;

// The data section is read in chunks, so that a file much shorter than its
// header claims costs memory in proportion to what it really holds.
constexpr size_t kReadChunkBytes = size_t{16} << 20;

// Bytes past the data are counted up to this bound and no further, so that
// reporting them never decompresses an unbounded stream.
constexpr size_t kMaxTrailingBytesCounted = size_t{1} << 20;

constexpr size_t kGzipInputBytes = size_t{64} << 10;

absl::Status PathError(absl::StatusCode code, const std::string& path,
                       absl::string_view what) {
  return absl::Status(code, absl::StrCat(path, ": ", what));
}

// `error` is an errno value, captured before anything else could change it.
// stdio does not promise to set errno, and errno 0 would map to OK.
absl::Status OsError(const std::string& path, absl::string_view action,
                     int error) {
  if (error == 0) {
    return PathError(absl::StatusCode::kUnknown, path,
                     absl::StrCat(action, " for an unknown reason"));
  }
  return absl::ErrnoToStatus(error, absl::StrCat(path, ": ", action));
}

std::string Hex2(uint8_t byte) {
  return absl::StrCat("0x", absl::Hex(byte, absl::kZeroPad2));
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using UniqueFile = std::unique_ptr<std::FILE, FileCloser>;

// The bytes of an IDX file, decompressed when the file is gzipped.
class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // Reads up to `size` bytes into `out` and returns how many it read. It
  // returns fewer than `size` only at the end of the data.
  virtual absl::StatusOr<size_t> Read(uint8_t* out, size_t size) = 0;

  // What the bytes are, for messages: "file" or "decompressed stream".
  virtual absl::string_view Noun() const = 0;

  // How many bytes are left to read, when that is known without reading
  // them: for a raw file, from its size.
  virtual absl::StatusOr<std::optional<int64_t>> Remaining() {
    return std::optional<int64_t>();
  }
};

class RawSource : public ByteSource {
 public:
  RawSource(std::string path, UniqueFile file)
      : path_(std::move(path)), file_(std::move(file)) {}

  absl::StatusOr<size_t> Read(uint8_t* out, size_t size) override {
    const size_t got = std::fread(out, 1, size, file_.get());
    if (got < size && std::ferror(file_.get())) {
      return OsError(path_, "read failed", errno);
    }
    return got;
  }

  absl::string_view Noun() const override { return "file"; }

  absl::StatusOr<std::optional<int64_t>> Remaining() override {
    struct stat status;
    if (fstat(fileno(file_.get()), &status) != 0) {
      return OsError(path_, "cannot find the file's size", errno);
    }
    // A pipe or a device has no size to go by.
    if (!S_ISREG(status.st_mode)) return std::optional<int64_t>();
    const long position = std::ftell(file_.get());
    if (position < 0) return OsError(path_, "cannot tell the position", errno);
    return std::optional<int64_t>(static_cast<int64_t>(status.st_size) -
                                  position);
  }

 private:
  std::string path_;
  UniqueFile file_;
};

// Inflates a gzip file as it is read. Several gzip members back to back read
// as one stream, as gunzip reads them. The z_stream points into `input_`, so
// a GzipSource is neither copied nor moved.
class GzipSource : public ByteSource {
 public:
  static absl::StatusOr<std::unique_ptr<GzipSource>> Open(std::string path,
                                                          UniqueFile file) {
    std::unique_ptr<GzipSource> source(
        new GzipSource(std::move(path), std::move(file)));
    // 16 + MAX_WBITS accepts the gzip wrapper and nothing else.
    if (inflateInit2(&source->stream_, 16 + MAX_WBITS) != Z_OK) {
      return PathError(absl::StatusCode::kResourceExhausted, source->path_,
                       "cannot start a gzip decompressor");
    }
    source->initialized_ = true;
    return source;
  }

  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  ~GzipSource() override {
    if (initialized_) inflateEnd(&stream_);
  }

  absl::StatusOr<size_t> Read(uint8_t* out, size_t size) override {
    KILN_CHECK(size <= kReadChunkBytes) << "read of " << size << " bytes";
    stream_.next_out = out;
    stream_.avail_out = static_cast<uInt>(size);
    while (stream_.avail_out > 0 && !at_end_) {
      KILN_RETURN_IF_ERROR(Inflate());
    }
    return size - stream_.avail_out;
  }

  absl::string_view Noun() const override { return "decompressed stream"; }

 private:
  GzipSource(std::string path, UniqueFile file)
      : path_(std::move(path)), file_(std::move(file)) {}

  // One call to inflate, with input fetched first if none is buffered.
  absl::Status Inflate() {
    if (stream_.avail_in == 0) {
      KILN_RETURN_IF_ERROR(Refill());
      if (stream_.avail_in == 0) {
        return PathError(
            absl::StatusCode::kDataLoss, path_,
            absl::StrCat("truncated gzip stream: the file ends after ",
                         compressed_read_,
                         " compressed bytes, before the stream does"));
      }
    }
    const int result = inflate(&stream_, Z_NO_FLUSH);
    if (result == Z_OK) return absl::OkStatus();
    if (result == Z_STREAM_END) return FinishMember();
    return InflateError(result);
  }

  // Ends the data after the last member; otherwise starts the next one.
  absl::Status FinishMember() {
    if (stream_.avail_in == 0) KILN_RETURN_IF_ERROR(Refill());
    if (stream_.avail_in == 0) {
      at_end_ = true;
      return absl::OkStatus();
    }
    inflateReset(&stream_);
    return absl::OkStatus();
  }

  absl::Status Refill() {
    const size_t got = std::fread(input_.data(), 1, input_.size(), file_.get());
    if (got < input_.size() && std::ferror(file_.get())) {
      return OsError(path_, "read failed", errno);
    }
    stream_.next_in = input_.data();
    stream_.avail_in = static_cast<uInt>(got);
    compressed_read_ += got;
    return absl::OkStatus();
  }

  absl::Status InflateError(int result) const {
    if (result == Z_MEM_ERROR) {
      return PathError(absl::StatusCode::kResourceExhausted, path_,
                       "out of memory while decompressing");
    }
    const char* reason = stream_.msg != nullptr ? stream_.msg : zError(result);
    return PathError(
        absl::StatusCode::kDataLoss, path_,
        absl::StrCat("corrupt gzip stream near compressed byte offset ",
                     compressed_read_ - stream_.avail_in, ": ", reason));
  }

  std::string path_;
  UniqueFile file_;
  z_stream stream_ = {};
  bool initialized_ = false;
  bool at_end_ = false;
  std::vector<uint8_t> input_ = std::vector<uint8_t>(kGzipInputBytes);
  // Compressed bytes fetched from the file so far.
  uint64_t compressed_read_ = 0;
};

// Opens `path` as raw or gzipped bytes, going by the gzip magic 1f 8b.
absl::StatusOr<std::unique_ptr<ByteSource>> OpenSource(
    const std::string& path) {
  UniqueFile file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return OsError(path, "cannot open", errno);

  uint8_t magic[2] = {0, 0};
  const size_t got = std::fread(magic, 1, sizeof(magic), file.get());
  if (got < sizeof(magic) && std::ferror(file.get())) {
    return OsError(path, "read failed", errno);
  }
  if (std::fseek(file.get(), 0, SEEK_SET) != 0) {
    return OsError(path, "cannot seek back to the start", errno);
  }

  const bool gzipped = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (gzipped) return GzipSource::Open(path, std::move(file));
  if (absl::EndsWith(path, ".gz")) {
    return PathError(absl::StatusCode::kInvalidArgument, path,
                     "the name ends in .gz but the file does not start with "
                     "the gzip magic bytes 1f 8b");
  }
  return std::make_unique<RawSource>(path, std::move(file));
}

absl::string_view TypeName(uint8_t type_code) {
  switch (type_code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "not an IDX type";
  }
}

// Checks the magic number: two zero bytes, a supported type, a usable rank.
absl::Status CheckMagic(const std::string& path,
                        const uint8_t (&magic)[kMagicBytes]) {
  if (magic[0] != 0 || magic[1] != 0) {
    return PathError(
        absl::StatusCode::kInvalidArgument, path,
        absl::StrCat("bad magic number ", Hex2(magic[0]), " ", Hex2(magic[1]),
                     " ", Hex2(magic[2]), " ", Hex2(magic[3]),
                     ": an IDX file starts with two zero bytes"));
  }
  if (magic[2] != kUnsignedByteType) {
    return PathError(
        absl::StatusCode::kInvalidArgument, path,
        absl::StrCat("unsupported type code ", Hex2(magic[2]), " (",
                     TypeName(magic[2]), "); only ", Hex2(kUnsignedByteType),
                     " (unsigned byte) is supported"));
  }
  const int rank = magic[3];
  if (rank < kMinIdxRank || rank > kMaxIdxRank) {
    return PathError(
        absl::StatusCode::kInvalidArgument, path,
        absl::StrCat("rank ", rank, " is outside the supported range ",
                     kMinIdxRank, " to ", kMaxIdxRank));
  }
  return absl::OkStatus();
}

absl::Status TruncatedHeader(const std::string& path, const ByteSource& source,
                             size_t got, size_t header_bytes) {
  return PathError(absl::StatusCode::kDataLoss, path,
                   absl::StrCat("truncated header: it needs ", header_bytes,
                                " bytes, the ", source.Noun(), " has ", got));
}

uint32_t BigEndian32(const uint8_t* bytes) {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 |
         uint32_t{bytes[2]} << 8 | uint32_t{bytes[3]};
}

std::vector<int64_t> DecodeDims(const std::vector<uint8_t>& bytes) {
  std::vector<int64_t> dims;
  for (size_t i = 0; i + kDimBytes <= bytes.size(); i += kDimBytes) {
    dims.push_back(BigEndian32(&bytes[i]));
  }
  return dims;
}

// The size of the data section the dimensions declare, once checked to be
// positive, representable and within kMaxIdxDataBytes.
absl::StatusOr<int64_t> DataBytes(const std::string& path,
                                  const std::vector<int64_t>& dims) {
  const std::string shape = absl::StrCat("[", absl::StrJoin(dims, ","), "]");
  int64_t bytes = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 0) {
      return PathError(absl::StatusCode::kInvalidArgument, path,
                       absl::StrCat("dimension ", i, " (at byte offset ",
                                    kMagicBytes + i * kDimBytes, ") of ", shape,
                                    " is 0; every dimension must be positive"));
    }
    if (__builtin_mul_overflow(bytes, dims[i], &bytes)) {
      return PathError(
          absl::StatusCode::kInvalidArgument, path,
          absl::StrCat("dimensions ", shape,
                       " overflow: their product does not fit in 64 bits"));
    }
  }
  if (bytes > kMaxIdxDataBytes) {
    return PathError(absl::StatusCode::kResourceExhausted, path,
                     absl::StrCat("dimensions ", shape, " declare ", bytes,
                                  " data bytes, more than the limit of ",
                                  kMaxIdxDataBytes, " (1 GiB)"));
  }
  return bytes;
}

// Reads and checks the header; returns the dimensions.
absl::StatusOr<std::vector<int64_t>> ReadHeader(const std::string& path,
                                                ByteSource& source) {
  uint8_t magic[kMagicBytes];
  KILN_ASSIGN_OR_RETURN(size_t got, source.Read(magic, kMagicBytes));
  if (got < kMagicBytes) {
    return TruncatedHeader(path, source, got, kMagicBytes);
  }
  KILN_RETURN_IF_ERROR(CheckMagic(path, magic));

  std::vector<uint8_t> dim_bytes(magic[3] * kDimBytes);
  KILN_ASSIGN_OR_RETURN(got, source.Read(dim_bytes.data(), dim_bytes.size()));
  if (got < dim_bytes.size()) {
    return TruncatedHeader(path, source, kMagicBytes + got,
                           kMagicBytes + dim_bytes.size());
  }
  return DecodeDims(dim_bytes);
}

// Reads the first `count` bytes of the data section; a shortfall is
// reported against the header's `data_bytes`.
absl::StatusOr<std::vector<uint8_t>> ReadData(const std::string& path,
                                              ByteSource& source, int64_t count,
                                              int64_t data_bytes) {
  const size_t total = static_cast<size_t>(count);
  std::vector<uint8_t> values;
  while (values.size() < total) {
    const size_t offset = values.size();
    const size_t chunk = std::min(kReadChunkBytes, total - offset);
    values.resize(offset + chunk);
    KILN_ASSIGN_OR_RETURN(size_t got,
                          source.Read(values.data() + offset, chunk));
    if (got < chunk) {
      return PathError(
          absl::StatusCode::kDataLoss, path,
          absl::StrCat("truncated: header says ", data_bytes, " data bytes, ",
                       source.Noun(), " has ", offset + got));
    }
  }
  return values;
}

absl::Status TrailingData(const std::string& path, size_t trailing,
                          int64_t data_bytes) {
  const std::string count =
      trailing > kMaxTrailingBytesCounted
          ? absl::StrCat("more than ", kMaxTrailingBytesCounted, " bytes")
          : absl::StrCat(trailing, trailing == 1 ? " byte" : " bytes");
  return PathError(absl::StatusCode::kInvalidArgument, path,
                   absl::StrCat("trailing data: ", count, " after the ",
                                data_bytes, " data bytes the header declares"));
}

// Fails if anything follows the data. For a gzip file this also reads the
// stream's trailer, whose checksum catches corruption inflate alone cannot.
absl::Status CheckAtEnd(const std::string& path, ByteSource& source,
                        int64_t data_bytes) {
  uint8_t buffer[4096];
  size_t trailing = 0;
  while (trailing <= kMaxTrailingBytesCounted) {
    KILN_ASSIGN_OR_RETURN(size_t got, source.Read(buffer, sizeof(buffer)));
    if (got == 0) break;
    trailing += got;
  }
  if (trailing == 0) return absl::OkStatus();
  return TrailingData(path, trailing, data_bytes);
}

// Fails unless exactly `data_bytes` bytes follow, going by the `remaining`
// bytes a raw file's size leaves after the header, with the messages
// ReadData and CheckAtEnd would give after reading them all.
absl::Status CheckDataSize(const std::string& path, const ByteSource& source,
                           int64_t remaining, int64_t data_bytes) {
  if (remaining < data_bytes) {
    return PathError(
        absl::StatusCode::kDataLoss, path,
        absl::StrCat("truncated: header says ", data_bytes, " data bytes, ",
                     source.Noun(), " has ", remaining));
  }
  if (remaining > data_bytes) {
    return TrailingData(path, static_cast<size_t>(remaining - data_bytes),
                        data_bytes);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<IdxArray> ReadIdx(const std::string& path, int64_t max_items) {
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenSource(path));
  IdxArray array;
  KILN_ASSIGN_OR_RETURN(array.dims, ReadHeader(path, *source));
  KILN_ASSIGN_OR_RETURN(const int64_t data_bytes, DataBytes(path, array.dims));
  array.file_items = array.dims[0];
  const int64_t items =
      max_items > 0 && max_items < array.dims[0] ? max_items : array.dims[0];
  const int64_t kept_bytes = data_bytes / array.dims[0] * items;
  KILN_ASSIGN_OR_RETURN(std::optional<int64_t> remaining, source->Remaining());
  if (items < array.dims[0] && remaining.has_value()) {
    // A raw file: its size vouches for the items left unread.
    KILN_RETURN_IF_ERROR(CheckDataSize(path, *source, *remaining, data_bytes));
    KILN_ASSIGN_OR_RETURN(array.values,
                          ReadData(path, *source, kept_bytes, data_bytes));
  } else {
    // A gzip stream is read to its end, whose checksum covers it all.
    KILN_ASSIGN_OR_RETURN(array.values,
                          ReadData(path, *source, data_bytes, data_bytes));
    KILN_RETURN_IF_ERROR(CheckAtEnd(path, *source, data_bytes));
    array.values.resize(static_cast<size_t>(kept_bytes));
  }
  array.dims[0] = items;
  return array;
}

}  // namespace kiln
