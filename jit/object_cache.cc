#include "jit/object_cache.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kiln::jit {
namespace {

constexpr absl::string_view kMagic("KILNJIT\x1a", 8);

// Field offsets of the fixed header; see the layout in the header file.
constexpr size_t kVersionOffset = 8;
constexpr size_t kDescriptionLengthOffset = 12;
constexpr size_t kObjectLengthOffset = 16;
constexpr size_t kChecksumOffset = 24;

void AppendLittleEndian(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<char>(value >> (8 * i) & 0xff));
  }
}

uint64_t ReadLittleEndian(absl::string_view bytes, size_t offset, int count) {
  uint64_t value = 0;
  for (int i = 0; i < count; ++i) {
    value |= uint64_t{static_cast<unsigned char>(bytes[offset + i])} << (8 * i);
  }
  return value;
}

// Where two descriptions part, for messages: the offset of the first byte
// that differs and a few bytes of each from there. Descriptions are long and
// mostly equal, so printing them whole would hide the difference.
std::string Difference(absl::string_view stored, absl::string_view expected) {
  constexpr size_t kShown = 40;
  size_t at = 0;
  while (at < stored.size() && at < expected.size() &&
         stored[at] == expected[at]) {
    ++at;
  }
  return absl::StrCat("they differ from byte ", at, ": the entry has '",
                      stored.substr(at, kShown), "', this build expects '",
                      expected.substr(at, kShown), "'");
}

}  // namespace

uint64_t Fnv1a64(absl::string_view bytes, uint64_t hash) {
  for (unsigned char byte : bytes) {
    hash = (hash ^ byte) * 0x100000001b3ull;
  }
  return hash;
}

std::string EncodeObjectCacheEntry(absl::string_view description,
                                   absl::string_view object) {
  std::string entry(kMagic);
  entry.reserve(kObjectCacheHeaderBytes + description.size() + object.size());
  AppendLittleEndian(entry, kObjectCacheFormatVersion, 4);
  AppendLittleEndian(entry, description.size(), 4);
  AppendLittleEndian(entry, object.size(), 8);
  AppendLittleEndian(entry, Fnv1a64(object, Fnv1a64(description)), 8);
  absl::StrAppend(&entry, description, object);
  return entry;
}

absl::StatusOr<absl::string_view> DecodeObjectCacheEntry(
    absl::string_view entry, absl::string_view expected_description) {
  if (entry.size() < kObjectCacheHeaderBytes) {
    return absl::DataLossError(absl::StrCat(
        "truncated cache entry: ", entry.size(), " bytes, fewer than the ",
        kObjectCacheHeaderBytes, "-byte header"));
  }
  if (entry.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError(
        "not a cache entry: the magic number KILNJIT is missing");
  }
  const uint64_t version = ReadLittleEndian(entry, kVersionOffset, 4);
  if (version != kObjectCacheFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("cache entry of format version ", version,
                     ", this build reads ", kObjectCacheFormatVersion));
  }

  // Both lengths are checked against the bytes present before any sum, so
  // that a damaged length can neither overflow nor reach past the end.
  const uint64_t description_length =
      ReadLittleEndian(entry, kDescriptionLengthOffset, 4);
  const uint64_t object_length =
      ReadLittleEndian(entry, kObjectLengthOffset, 8);
  const uint64_t available = entry.size() - kObjectCacheHeaderBytes;
  if (description_length > available ||
      object_length != available - description_length) {
    return absl::DataLossError(absl::StrCat(
        "cache entry of ", entry.size(), " bytes, but its header declares a ",
        description_length, "-byte description and a ", object_length,
        "-byte object after the ", kObjectCacheHeaderBytes, "-byte header"));
  }
  const absl::string_view description =
      entry.substr(kObjectCacheHeaderBytes, description_length);
  const absl::string_view object =
      entry.substr(kObjectCacheHeaderBytes + description_length);

  const uint64_t stored = ReadLittleEndian(entry, kChecksumOffset, 8);
  const uint64_t computed = Fnv1a64(object, Fnv1a64(description));
  if (stored != computed) {
    return absl::DataLossError(
        absl::StrCat("cache entry fails its checksum: stored ",
                     absl::Hex(stored), ", computed ", absl::Hex(computed)));
  }
  if (description != expected_description) {
    return absl::FailedPreconditionError(
        absl::StrCat("cache entry compiled for another target or program; ",
                     Difference(description, expected_description)));
  }
  return object;
}

}  // namespace kiln::jit
