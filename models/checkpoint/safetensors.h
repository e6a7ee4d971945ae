// The safetensors file format: named tensors plus a string-to-string map of
// metadata, readable by Python's `safetensors`, PyTorch and NumPy.
//
// A file is three parts:
//   1. 8 bytes: N, the header's length, an unsigned little-endian integer;
//   2. N bytes: the header, a UTF-8 JSON object. Each member but one names
//      a tensor and holds {"dtype": "F32", "shape": [784, 200],
//      "data_offsets": [BEGIN, END]}; the optional member "__metadata__"
//      maps strings to strings. Trailing spaces may pad the header;
//   3. the data: every tensor's elements, row-major and little-endian, at
//      bytes [BEGIN, END) counted from the first byte after the header.
//
// ParseSafetensors treats the bytes as hostile and checks everything before
// it copies a byte: the file is long enough for the header length and the
// header, the length is below kMaxSafetensorsHeaderBytes, the header is
// strict JSON of the shape above with no unknown keys, each dtype is one
// Kiln computes in (F32 or F64; others are named and refused), each shape is
// valid, each tensor's byte range matches its shape and dtype, and the
// ranges tile the data exactly, with no gap, overlap, or byte left over.
// Every failure is an InvalidArgument status whose message names the source
// (the file), the tensor and the offending value; nothing aborts or throws.
//
// SerializeSafetensors writes tensors in name order and pads the header with
// spaces so that the data starts at a multiple of 8 bytes, which keeps f64
// elements aligned for readers that map the file.
//
//   Safetensors contents;
//   contents.tensors["output.weight"] = weights;
//   contents.metadata["architecture"] = "784-10:softmax_cross_entropy";
//   KILN_RETURN_IF_ERROR(WriteSafetensors("model.safetensors", contents));
//   KILN_ASSIGN_OR_RETURN(Safetensors back,
//                         ReadSafetensors("model.safetensors"));
//
// WriteSafetensors replaces its file atomically (ops/base/
// atomic_file.h): an existing file at the path is either left as it was or
// replaced whole, never truncated or half-written, even if the process dies.

#ifndef KILN_MODELS_CHECKPOINT_SAFETENSORS_H_
#define KILN_MODELS_CHECKPOINT_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ops/tensor.h"

namespace kiln {

// Headers are a few hundred bytes per tensor; a larger length is refused
// before anything is allocated for it.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = uint64_t{16} << 20;

// The reserved header key that holds the metadata.
inline constexpr absl::string_view kSafetensorsMetadataKey = "__metadata__";

struct Safetensors {
  std::map<std::string, Tensor, std::less<>> tensors;
  std::map<std::string, std::string, std::less<>> metadata;
};

// The file's bytes. No tensor may be named kSafetensorsMetadataKey
// (checked).
std::string SerializeSafetensors(const Safetensors& contents);

// Parses and validates `bytes` as described above. `source` names the bytes
// in error messages, usually the file's path.
absl::StatusOr<Safetensors> ParseSafetensors(absl::string_view bytes,
                                             absl::string_view source);

// Reads and parses the file at `path`.
absl::StatusOr<Safetensors> ReadSafetensors(const std::string& path);

// Serializes `contents` and replaces `path` with it atomically.
absl::Status WriteSafetensors(const std::string& path,
                              const Safetensors& contents);

// The safetensors dtype string, "F32" or "F64".
absl::string_view SafetensorsDTypeName(DType dtype);

}  // namespace kiln

#endif  // KILN_MODELS_CHECKPOINT_SAFETENSORS_H_
