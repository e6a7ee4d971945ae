// The on-disk format of the JIT's object cache.
//
// A cache entry holds one object file together with what it was compiled
// for, so that a reader can tell a good entry from one that was truncated,
// damaged on disk, or written by another version of Kiln or for another
// target, and rebuild it instead of linking it. Every entry is
//
//   offset      bytes  field
//   0           8      magic "KILNJIT\x1a"
//   8           4      format version, kObjectCacheFormatVersion
//   12          4      description length D
//   16          8      object length N
//   24          8      checksum: 64-bit FNV-1a of the D + N bytes below
//   32          D      description: what the object was compiled for
//   32 + D      N      the object file
//
// with integers little-endian. The description is the engine's target
// description and the program's key, so an entry found under the right
// name but compiled for something else is refused too. The checksum catches
// any single corrupted byte and, with overwhelming odds, any other damage;
// it is no defence against a deliberate forgery, which needs write access
// to the cache directory anyway.
//
//   std::string entry = EncodeObjectCacheEntry(description, object);
//   absl::StatusOr<absl::string_view> object =
//       DecodeObjectCacheEntry(entry, description);

#ifndef KILN_JIT_OBJECT_CACHE_H_
#define KILN_JIT_OBJECT_CACHE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiln::jit {

// The version of the layout above. It changes whenever the layout or the
// meaning of a field does, so that entries of older versions are rebuilt.
inline constexpr uint32_t kObjectCacheFormatVersion = 1;

// The size of the fixed part of an entry, before the description.
inline constexpr size_t kObjectCacheHeaderBytes = 32;

// The file name suffix of cache entries.
inline constexpr absl::string_view kObjectCacheSuffix = ".kjit";

// The entry holding `object`, compiled for `description`.
std::string EncodeObjectCacheEntry(absl::string_view description,
                                   absl::string_view object);

// The object file inside `entry`, a view into `entry`, after checking that
// the entry is whole, undamaged and compiled for `expected_description`.
// Fails with
//   kDataLoss            the entry is truncated, has trailing bytes, lacks
//                        the magic number, or fails its checksum;
//   kFailedPrecondition  it is intact but of another format version, or
//                        compiled for another description.
// Messages name the offending field and values; the caller adds the path.
absl::StatusOr<absl::string_view> DecodeObjectCacheEntry(
    absl::string_view entry, absl::string_view expected_description);

// The 64-bit FNV-1a hash of `bytes`, continuing from `hash`.
uint64_t Fnv1a64(absl::string_view bytes,
                 uint64_t hash = 0xcbf29ce484222325ull);

}  // namespace kiln::jit

#endif  // KILN_JIT_OBJECT_CACHE_H_
