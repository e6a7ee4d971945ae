// The object cache's entry format: an entry round-trips, and every way an
// entry can go bad on disk (cut short, a flipped bit anywhere, another
// format version, another target) is refused with a status that says so.

#include "jit/object_cache.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::jit {
namespace {

using ::testing::HasSubstr;

constexpr absl::string_view kDescription =
    "kiln codegen 2; llvm 19.1.7; x86_64-pc-linux-gnu; cpu skylake\nkey 42";

std::string SomeObject() {
  std::string object;
  for (int i = 0; i < 300; ++i) object.push_back(static_cast<char>(i * 7));
  return object;
}

TEST(ObjectCacheTest, EntryRoundTrips) {
  const std::string object = SomeObject();
  const std::string entry = EncodeObjectCacheEntry(kDescription, object);
  EXPECT_EQ(entry.size(),
            kObjectCacheHeaderBytes + kDescription.size() + object.size());
  absl::StatusOr<absl::string_view> decoded =
      DecodeObjectCacheEntry(entry, kDescription);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, object);
}

// The layout byte for byte, as the header comment documents it; entries
// written by other tools (such as the fuzz seeds) rely on it.
TEST(ObjectCacheTest, LayoutIsTheDocumentedOne) {
  const std::string expected(
      "KILNJIT\x1a"
      "\x01\x00\x00\x00"                  // format version 1
      "\x02\x00\x00\x00"                  // description length
      "\x03\x00\x00\x00\x00\x00\x00\x00"  // object length
      "\x05\xe7\x9d\xa3\x2d\x25\xcc\xb2"  // FNV-1a of "abxyz"
      "ab"
      "xyz",
      37);
  EXPECT_EQ(EncodeObjectCacheEntry("ab", "xyz"), expected);
  EXPECT_EQ(Fnv1a64("abxyz"), 0xb2cc252da39de705ull);
}

TEST(ObjectCacheTest, EmptyObjectRoundTrips) {
  const std::string entry = EncodeObjectCacheEntry(kDescription, "");
  absl::StatusOr<absl::string_view> decoded =
      DecodeObjectCacheEntry(entry, kDescription);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->empty());
}

TEST(ObjectCacheTest, EveryTruncationIsDataLoss) {
  const std::string entry = EncodeObjectCacheEntry(kDescription, SomeObject());
  for (size_t size = 0; size < entry.size(); ++size) {
    absl::StatusOr<absl::string_view> decoded =
        DecodeObjectCacheEntry(entry.substr(0, size), kDescription);
    ASSERT_FALSE(decoded.ok()) << "cut to " << size << " bytes";
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss)
        << decoded.status();
  }
}

TEST(ObjectCacheTest, TrailingBytesAreDataLoss) {
  const std::string entry =
      EncodeObjectCacheEntry(kDescription, SomeObject()) + "x";
  absl::StatusOr<absl::string_view> decoded =
      DecodeObjectCacheEntry(entry, kDescription);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(decoded.status().message(), HasSubstr("header declares"));
}

// A single flipped bit anywhere in the entry is refused, whichever field it
// lands in.
TEST(ObjectCacheTest, EverySingleBitFlipIsRefused) {
  const std::string entry = EncodeObjectCacheEntry(kDescription, SomeObject());
  for (size_t byte = 0; byte < entry.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = entry;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      EXPECT_FALSE(DecodeObjectCacheEntry(damaged, kDescription).ok())
          << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(ObjectCacheTest, FlippedObjectBitFailsTheChecksum) {
  std::string entry = EncodeObjectCacheEntry(kDescription, SomeObject());
  entry[entry.size() - 100] ^= 0x10;
  absl::StatusOr<absl::string_view> decoded =
      DecodeObjectCacheEntry(entry, kDescription);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(decoded.status().message(), HasSubstr("checksum"));
}

TEST(ObjectCacheTest, OtherFormatVersionIsFailedPrecondition) {
  std::string entry = EncodeObjectCacheEntry(kDescription, SomeObject());
  // The version is the little-endian word at offset 8.
  entry[8] = static_cast<char>(kObjectCacheFormatVersion + 1);
  absl::StatusOr<absl::string_view> decoded =
      DecodeObjectCacheEntry(entry, kDescription);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(decoded.status().message(),
              HasSubstr(absl::StrCat("format version ",
                                     kObjectCacheFormatVersion + 1)));
}

TEST(ObjectCacheTest, OtherDescriptionIsFailedPreconditionNamingTheDifference) {
  const std::string entry = EncodeObjectCacheEntry(kDescription, SomeObject());
  absl::StatusOr<absl::string_view> decoded = DecodeObjectCacheEntry(
      entry,
      "kiln codegen 2; llvm 19.1.7; x86_64-pc-linux-gnu; cpu znver4\nkey 42");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(decoded.status().message(), HasSubstr("'skylake"));
  EXPECT_THAT(decoded.status().message(), HasSubstr("'znver4"));
}

TEST(ObjectCacheTest, ForeignFileIsDataLoss) {
  absl::StatusOr<absl::string_view> decoded = DecodeObjectCacheEntry(
      "\x7f"
      "ELF and the rest of an object file, but no entry header",
      kDescription);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(decoded.status().message(), HasSubstr("magic"));
}

}  // namespace
}  // namespace kiln::jit
