// Fuzz target: the JIT's object cache entries (jit/object_cache.h), which
// the engine reads from a directory anything may have written to.
//
// Every input is decoded as an entry found on disk. The decoder must refuse
// it with kDataLoss or kFailedPrecondition, or accept it; an accepted entry
// must be exactly what encoding its description and object gives, so that
// no two byte strings decode to the same code. Independently, the input as
// an object must survive encoding and decoding unchanged.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_target.h"
#include "jit/object_cache.h"
#include "ops/base/check.h"

namespace {

// The description seeds are written for (see make_seed_corpus.py).
constexpr absl::string_view kDescription = "kiln fuzz target\nkey 0";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::jit;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<absl::string_view> object =
      DecodeObjectCacheEntry(bytes, kDescription);
  if (object.ok()) {
    KILN_CHECK(EncodeObjectCacheEntry(kDescription, *object) == bytes)
        << "an accepted entry is not the encoding of what it holds";
  } else {
    const absl::StatusCode code = object.status().code();
    KILN_CHECK(code == absl::StatusCode::kDataLoss ||
               code == absl::StatusCode::kFailedPrecondition)
        << object.status().ToString();
  }

  const std::string entry = EncodeObjectCacheEntry(kDescription, bytes);
  absl::StatusOr<absl::string_view> round_trip =
      DecodeObjectCacheEntry(entry, kDescription);
  KILN_CHECK(round_trip.ok() && *round_trip == bytes)
      << "encoding and decoding changed " << size << " bytes";
  return 0;
}
