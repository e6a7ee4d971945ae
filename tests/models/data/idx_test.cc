// Tests of the IDX reader: well-formed files, raw and gzipped, read back
// exactly, and every kind of malformed file is refused with a message that
// names the path and the offending values.

#include "models/data/idx.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/models/data/idx_writer.h"

namespace kiln {
namespace {

using ::kiln::testdata::FreshTestDir;
using ::kiln::testdata::GzipBytes;
using ::kiln::testdata::IdxBytes;
using ::kiln::testdata::IdxMagic;
using ::kiln::testdata::ReadFileBytes;
using ::kiln::testdata::ValidIdx;
using ::kiln::testdata::WriteGzipFile;
using ::kiln::testdata::WriteRawFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Bytes that do not compress to nearly nothing, so that a gzipped file of
// them spans many deflate blocks and can be cut in the middle of one.
std::vector<uint8_t> NoisyBytes(size_t count) {
  std::vector<uint8_t> bytes(count);
  uint32_t state = 12345;
  for (uint8_t& byte : bytes) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<uint8_t>(state >> 24);
  }
  return bytes;
}

// Asserts that reading `path` fails with `code` and a message holding the
// path and each of `parts`, whether the whole file is asked for or only its
// first item or two: a read of the first items checks the whole file too.
void ExpectError(const std::string& path, absl::StatusCode code,
                 const std::vector<std::string>& parts) {
  for (int64_t max_items : {0, 1, 2}) {
    absl::StatusOr<IdxArray> array = ReadIdx(path, max_items);
    ASSERT_FALSE(array.ok())
        << path << " was accepted, max_items " << max_items;
    EXPECT_EQ(array.status().code(), code)
        << array.status() << ", max_items " << max_items;
    // A std::string, so that gMock prints it as text on failure.
    const std::string message(array.status().message());
    EXPECT_THAT(message, HasSubstr(path));
    for (const std::string& part : parts) {
      EXPECT_THAT(message, HasSubstr(part)) << "max_items " << max_items;
    }
  }
}

// --- Well-formed files
// --------------------------------------------------------

TEST(IdxTest, ReadsRawFile) {
  const std::string path = WriteRawFile(FreshTestDir() + "/a-idx2-ubyte",
                                        ValidIdx({2, 3}, {0, 1, 2, 3, 4, 255}));
  absl::StatusOr<IdxArray> array = ReadIdx(path);
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_THAT(array->dims, ElementsAre(2, 3));
  EXPECT_THAT(array->values, ElementsAre(0, 1, 2, 3, 4, 255));
}

TEST(IdxTest, ReadsGzipFile) {
  const std::string path = WriteGzipFile(FreshTestDir() + "/a-idx3-ubyte.gz",
                                         ValidIdx({2, 1, 2}, {9, 8, 7, 6}));
  absl::StatusOr<IdxArray> array = ReadIdx(path);
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_THAT(array->dims, ElementsAre(2, 1, 2));
  EXPECT_THAT(array->values, ElementsAre(9, 8, 7, 6));
}

TEST(IdxTest, ReadsOnlyTheFirstItemsWhenAskedTo) {
  const std::string dir = FreshTestDir();
  const std::vector<uint8_t> values = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  for (const std::string& path :
       {WriteRawFile(dir + "/a-idx3-ubyte", ValidIdx({3, 2, 2}, values)),
        WriteGzipFile(dir + "/a-idx3-ubyte.gz", ValidIdx({3, 2, 2}, values))}) {
    absl::StatusOr<IdxArray> two = ReadIdx(path, 2);
    ASSERT_TRUE(two.ok()) << two.status();
    EXPECT_THAT(two->dims, ElementsAre(2, 2, 2)) << path;
    EXPECT_THAT(two->values, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8)) << path;
    EXPECT_EQ(two->file_items, 3) << path;
    // More items than the file holds, or 0, give all of them.
    for (int64_t max_items : {0, 3, 4}) {
      absl::StatusOr<IdxArray> all = ReadIdx(path, max_items);
      ASSERT_TRUE(all.ok()) << all.status();
      EXPECT_THAT(all->dims, ElementsAre(3, 2, 2)) << path;
      EXPECT_EQ(all->values, values) << path;
      EXPECT_EQ(all->file_items, 3) << path;
    }
  }
}

TEST(IdxTest, ReadsLargeGzipFileSpanningManyInputBuffers) {
  const std::vector<uint8_t> data = NoisyBytes(300 * 1000);
  const std::string path =
      WriteGzipFile(FreshTestDir() + "/big.gz", ValidIdx({300, 1000}, data));
  absl::StatusOr<IdxArray> array = ReadIdx(path);
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_EQ(array->values, data);
}

TEST(IdxTest, DetectsGzipByMagicBytesWithoutSuffix) {
  const std::string path =
      WriteGzipFile(FreshTestDir() + "/no-suffix", ValidIdx({3}, {1, 2, 3}));
  absl::StatusOr<IdxArray> array = ReadIdx(path);
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_THAT(array->values, ElementsAre(1, 2, 3));
}

TEST(IdxTest, ReadsConcatenatedGzipMembersAsOneStream) {
  // gzip allows members back to back; `cat a.gz b.gz` makes such a file.
  const std::string idx = ValidIdx({4}, {1, 2, 3, 4});
  const std::string path =
      WriteRawFile(FreshTestDir() + "/two-members.gz",
                   GzipBytes(idx.substr(0, 6)) + GzipBytes(idx.substr(6)));
  absl::StatusOr<IdxArray> array = ReadIdx(path);
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_THAT(array->values, ElementsAre(1, 2, 3, 4));
}

// --- Files that cannot be opened
// ----------------------------------------------

TEST(IdxTest, MissingFileIsNotFound) {
  const std::string path = FreshTestDir() + "/absent-idx1-ubyte";
  ExpectError(path, absl::StatusCode::kNotFound, {});
}

TEST(IdxTest, DirectoryIsRejected) {
  const std::string path = FreshTestDir();
  ExpectError(path, absl::StatusCode::kFailedPrecondition,
              {"read failed", "Is a directory"});
}

TEST(IdxTest, GzSuffixWithoutGzipMagicIsRejected) {
  const std::string path =
      WriteRawFile(FreshTestDir() + "/raw.gz", ValidIdx({1}, {0}));
  ExpectError(path, absl::StatusCode::kInvalidArgument,
              {".gz", "gzip magic bytes 1f 8b"});
}

// --- Malformed headers
// ---------------------------------------------------------

TEST(IdxTest, EmptyFileHasTruncatedHeader) {
  const std::string path = WriteRawFile(FreshTestDir() + "/empty", "");
  ExpectError(path, absl::StatusCode::kDataLoss,
              {"truncated header: it needs 4 bytes, the file has 0"});
}

TEST(IdxTest, MissingDimensionsAreATruncatedHeader) {
  // Rank 3 needs 4 + 3 * 4 bytes of header; the file stops after one dim.
  const std::string path = WriteRawFile(FreshTestDir() + "/short",
                                        IdxBytes(IdxMagic(0x08, 3), {5}, {}));
  ExpectError(path, absl::StatusCode::kDataLoss,
              {"truncated header: it needs 16 bytes, the file has 8"});
}

TEST(IdxTest, NonZeroLeadingMagicBytesAreRejected) {
  const std::string path = WriteRawFile(
      FreshTestDir() + "/bad-magic", IdxBytes({0x12, 0x34, 0x08, 1}, {1}, {0}));
  ExpectError(path, absl::StatusCode::kInvalidArgument,
              {"bad magic number 0x12 0x34 0x08 0x01", "two zero bytes"});
}

TEST(IdxTest, UnsupportedTypeCodeIsRejected) {
  const std::string path =
      WriteRawFile(FreshTestDir() + "/floats",
                   IdxBytes(IdxMagic(0x0D, 1), {1}, {0, 0, 0, 0}));
  ExpectError(path, absl::StatusCode::kInvalidArgument,
              {"unsupported type code 0x0d (float32)",
               "only 0x08 (unsigned byte) is supported"});
}

TEST(IdxTest, RankZeroIsRejected) {
  const std::string path = WriteRawFile(FreshTestDir() + "/rank0",
                                        IdxBytes(IdxMagic(0x08, 0), {}, {7}));
  ExpectError(path, absl::StatusCode::kInvalidArgument,
              {"rank 0 is outside the supported range 1 to 4"});
}

TEST(IdxTest, RankFiveIsRejected) {
  const std::string path =
      WriteRawFile(FreshTestDir() + "/rank5",
                   IdxBytes(IdxMagic(0x08, 5), {1, 1, 1, 1, 1}, {7}));
  ExpectError(path, absl::StatusCode::kInvalidArgument,
              {"rank 5 is outside the supported range 1 to 4"});
}

TEST(IdxTest, ZeroDimensionIsRejected) {
  const std::string path =
      WriteRawFile(FreshTestDir() + "/zero-dim", ValidIdx({3, 0, 2}, {}));
  ExpectError(
      path, absl::StatusCode::kInvalidArgument,
      {"dimension 1 (at byte offset 8) of [3,0,2] is 0", "must be positive"});
}

TEST(IdxTest, DimensionsWhoseProductOverflowsAreRejected) {
  // The product is about 3.4e38; reading must fail before any allocation.
  const uint32_t max = 0xFFFFFFFF;
  const std::string path = WriteRawFile(FreshTestDir() + "/overflow",
                                        ValidIdx({max, max, max, max}, {1}));
  ExpectError(path, absl::StatusCode::kInvalidArgument,
              {"[4294967295,4294967295,4294967295,4294967295] overflow"});
}

TEST(IdxTest, DataLargerThanTheLimitIsRefusedBeforeDecompressing) {
  // A gzip bomb's header: 1024 * 1024 * 1025 bytes declared, none present.
  const std::string path = WriteGzipFile(FreshTestDir() + "/bomb.gz",
                                         ValidIdx({1024, 1024, 1025}, {}));
  ExpectError(path, absl::StatusCode::kResourceExhausted,
              {"[1024,1024,1025] declare 1074790400 data bytes",
               "limit of 1073741824"});
}

// --- Malformed data sections
// ----------------------------------------------------

TEST(IdxTest, TruncatedRawDataIsRejected) {
  const std::string path = WriteRawFile(FreshTestDir() + "/truncated",
                                        ValidIdx({3, 4}, {1, 2, 3, 4, 5}));
  ExpectError(path, absl::StatusCode::kDataLoss,
              {"truncated: header says 12 data bytes, file has 5"});
}

TEST(IdxTest, TruncatedGzipDataIsRejected) {
  // A complete gzip stream of an IDX file whose data section is cut short.
  const std::string path = WriteGzipFile(FreshTestDir() + "/truncated.gz",
                                         ValidIdx({3, 4}, {1, 2, 3}));
  ExpectError(path, absl::StatusCode::kDataLoss,
              {"truncated: header says 12 data bytes, decompressed stream "
               "has 3"});
}

TEST(IdxTest, TruncatedGzipStreamIsRejected) {
  const std::string dir = FreshTestDir();
  const std::string whole = ReadFileBytes(WriteGzipFile(
      dir + "/whole.gz", ValidIdx({200, 1000}, NoisyBytes(200 * 1000))));
  const std::string path =
      WriteRawFile(dir + "/cut.gz", whole.substr(0, whole.size() / 2));
  ExpectError(path, absl::StatusCode::kDataLoss,
              {"truncated gzip stream: the file ends after " +
               std::to_string(whole.size() / 2) + " compressed bytes"});
}

TEST(IdxTest, GzipStreamWithoutItsTrailerIsRejected) {
  // The data is all there; only the checksum and length at the end are not.
  const std::string dir = FreshTestDir();
  const std::string whole =
      ReadFileBytes(WriteGzipFile(dir + "/whole.gz", ValidIdx({2}, {1, 2})));
  const std::string path =
      WriteRawFile(dir + "/no-trailer.gz", whole.substr(0, whole.size() - 8));
  ExpectError(path, absl::StatusCode::kDataLoss, {"truncated gzip stream"});
}

TEST(IdxTest, GzipChecksumMismatchIsRejected) {
  const std::string dir = FreshTestDir();
  std::string bytes =
      ReadFileBytes(WriteGzipFile(dir + "/whole.gz", ValidIdx({2}, {1, 2})));
  bytes[bytes.size() - 8] ^= 0x01;  // The first byte of the CRC-32.
  const std::string path = WriteRawFile(dir + "/bad-crc.gz", bytes);
  ExpectError(path, absl::StatusCode::kDataLoss,
              {"corrupt gzip stream", "incorrect data check"});
}

TEST(IdxTest, TrailingBytesInRawFileAreRejected) {
  const std::string path = WriteRawFile(FreshTestDir() + "/trailing",
                                        ValidIdx({2}, {1, 2, 3, 4, 5}));
  ExpectError(
      path, absl::StatusCode::kInvalidArgument,
      {"trailing data: 3 bytes after the 2 data bytes the header declares"});
}

TEST(IdxTest, TrailingBytesInGzipFileAreRejected) {
  const std::string path =
      WriteGzipFile(FreshTestDir() + "/trailing.gz", ValidIdx({2}, {1, 2, 3}));
  ExpectError(path, absl::StatusCode::kInvalidArgument,
              {"trailing data: 1 byte after the 2 data bytes"});
}

TEST(IdxTest, TrailingDataIsCountedOnlyUpToABound) {
  // Two MiB of zeros compress to a few KiB; the reader stops counting at 1 MiB
  // rather than inflating whatever follows.
  std::vector<uint8_t> data(size_t{2} << 20, 0);
  data[0] = 1;
  const std::string path =
      WriteGzipFile(FreshTestDir() + "/long-tail.gz", ValidIdx({1}, data));
  ExpectError(
      path, absl::StatusCode::kInvalidArgument,
      {"trailing data: more than 1048576 bytes after the 1 data bytes"});
}

}  // namespace
}  // namespace kiln
