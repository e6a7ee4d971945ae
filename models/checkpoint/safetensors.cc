// The safetensors reader checks in three passes before it copies a byte:
// the length field and header bounds, each header entry on its own, then
// the entries' ranges against the data section together.

#include "models/checkpoint/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/base/atomic_file.h"
#include "models/checkpoint/json.h"
#include "ops/base/check.h"
#include "ops/base/status_macros.h"

namespace kiln {
namespace {

// Tensor bytes are copied as they are, and safetensors is little-endian.
static_assert(std::endian::native == std::endian::little,
              "safetensors I/O assumes a little-endian host");

constexpr size_t kLengthBytes = 8;

// One tensor as the header describes it, before its bytes are copied.
struct HeaderEntry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

absl::Status Invalid(absl::string_view source, auto&&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", parts...));
}

// safetensors dtypes that Kiln does not compute in; they are recognised so
// that the message can say why the file is refused.
constexpr absl::string_view kOtherDTypes[] = {
    "BOOL", "U8",   "I8",  "F8_E5M2", "F8_E4M3", "I16", "U16",
    "F16",  "BF16", "I32", "U32",     "I64",     "U64",
};

absl::StatusOr<DType> ParseEntryDType(const JsonValue* value,
                                      const std::string& name,
                                      absl::string_view source) {
  if (value == nullptr || !value->is_string()) {
    return Invalid(source, "tensor \"", name, "\" needs a string \"dtype\"");
  }
  const std::string& text = value->text();
  if (text == "F32") return kF32;
  if (text == "F64") return kF64;
  const bool known = std::find(std::begin(kOtherDTypes), std::end(kOtherDTypes),
                               text) != std::end(kOtherDTypes);
  return Invalid(source, "tensor \"", name, "\" has ",
                 known ? "dtype " : "unknown dtype ", JsonQuote(text),
                 "; Kiln reads F32 and F64 only");
}

absl::StatusOr<Shape> ParseEntryShape(const JsonValue* value,
                                      const std::string& name,
                                      absl::string_view source) {
  if (value == nullptr || !value->is_array()) {
    return Invalid(source, "tensor \"", name,
                   "\" needs an array of integers \"shape\"");
  }
  Shape shape;
  for (const JsonValue& dim : value->array()) {
    std::optional<uint64_t> size = dim.AsUint64();
    if (!size.has_value() ||
        *size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Invalid(source, "tensor \"", name,
                     "\": shape entries must be non-negative integers below "
                     "2^63, got ",
                     dim.kind() == JsonValue::Kind::kNumber
                         ? dim.text()
                         : JsonValue::KindName(dim.kind()));
    }
    shape.push_back(static_cast<int64_t>(*size));
  }
  if (absl::Status valid = ValidateShape(shape); !valid.ok()) {
    return Invalid(source, "tensor \"", name, "\": ", valid.message());
  }
  return shape;
}

absl::Status ParseEntryOffsets(const JsonValue* value, HeaderEntry& entry,
                               absl::string_view source) {
  const bool pair = value != nullptr && value->is_array() &&
                    value->array().size() == 2 &&
                    value->array()[0].AsUint64().has_value() &&
                    value->array()[1].AsUint64().has_value();
  if (!pair) {
    return Invalid(source, "tensor \"", entry.name,
                   "\" needs \"data_offsets\": [BEGIN, END], two "
                   "non-negative integers");
  }
  entry.begin = *value->array()[0].AsUint64();
  entry.end = *value->array()[1].AsUint64();
  if (entry.begin > entry.end) {
    return Invalid(source, "tensor \"", entry.name, "\": data_offsets [",
                   entry.begin, ", ", entry.end, "] end before they begin");
  }
  return absl::OkStatus();
}

absl::StatusOr<HeaderEntry> ParseEntry(const std::string& name,
                                       const JsonValue& value,
                                       absl::string_view source) {
  if (!value.is_object()) {
    return Invalid(source, "header entry \"", name,
                   "\" must be an object, got ",
                   JsonValue::KindName(value.kind()));
  }
  for (const JsonValue::Member& member : value.object()) {
    if (member.first != "dtype" && member.first != "shape" &&
        member.first != "data_offsets") {
      return Invalid(source, "tensor \"", name, "\" has unknown key ",
                     JsonQuote(member.first));
    }
  }
  HeaderEntry entry;
  entry.name = name;
  KILN_ASSIGN_OR_RETURN(entry.dtype,
                        ParseEntryDType(value.Find("dtype"), name, source));
  KILN_ASSIGN_OR_RETURN(entry.shape,
                        ParseEntryShape(value.Find("shape"), name, source));
  KILN_RETURN_IF_ERROR(
      ParseEntryOffsets(value.Find("data_offsets"), entry, source));

  // ValidateShape bounds the byte count below 2^63, so this cannot wrap.
  const uint64_t expected =
      static_cast<uint64_t>(NumElements(entry.shape)) * DTypeSize(entry.dtype);
  if (entry.end - entry.begin != expected) {
    return Invalid(source, "tensor \"", name,
                   "\": ", SafetensorsDTypeName(entry.dtype),
                   ShapeToString(entry.shape), " needs ", expected,
                   " bytes but data_offsets [", entry.begin, ", ", entry.end,
                   "] hold ", entry.end - entry.begin);
  }
  return entry;
}

absl::Status ParseMetadata(const JsonValue& value, absl::string_view source,
                           Safetensors& contents) {
  if (!value.is_object()) {
    return Invalid(source, "\"", kSafetensorsMetadataKey,
                   "\" must be an object of strings");
  }
  for (const auto& [key, entry] : value.object()) {
    if (!entry.is_string()) {
      return Invalid(source, "metadata ", JsonQuote(key),
                     " must be a string, got ",
                     JsonValue::KindName(entry.kind()));
    }
    contents.metadata[key] = entry.text();
  }
  return absl::OkStatus();
}

// The tensors' byte ranges must cover [0, data_bytes) exactly once each, so
// that no byte of the file is unaccounted for and no two tensors share one.
absl::Status CheckTiling(std::vector<HeaderEntry>& entries, uint64_t data_bytes,
                         absl::string_view source) {
  // A range outside the file is the clearest diagnosis of a truncated or
  // corrupt file, so it is looked for before gaps and overlaps.
  for (const HeaderEntry& entry : entries) {
    if (entry.end > data_bytes) {
      return Invalid(source, "tensor \"", entry.name, "\": data_offsets [",
                     entry.begin, ", ", entry.end, "] leave the file, whose ",
                     "data section is ", data_bytes, " bytes");
    }
  }
  std::sort(entries.begin(), entries.end(),
            [](const HeaderEntry& a, const HeaderEntry& b) {
              return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
            });
  uint64_t covered = 0;
  for (const HeaderEntry& entry : entries) {
    if (entry.begin != covered) {
      return Invalid(source, "tensor \"", entry.name, "\": data_offsets [",
                     entry.begin, ", ", entry.end, "] ",
                     entry.begin < covered ? "overlap" : "leave a gap after",
                     " the previous tensor, which ends at ", covered);
    }
    covered = entry.end;
  }
  if (covered != data_bytes) {
    return Invalid(source, "the tensors end at data byte ", covered,
                   " but the data section is ", data_bytes,
                   " bytes; the file has trailing bytes");
  }
  return absl::OkStatus();
}

// The header length and the header's text, after checking that both fit.
absl::StatusOr<absl::string_view> SplitHeader(absl::string_view bytes,
                                              absl::string_view source) {
  if (bytes.size() < kLengthBytes) {
    return Invalid(source, "the file is ", bytes.size(),
                   " bytes, too short for the 8-byte header length; it is "
                   "truncated or not a safetensors file");
  }
  uint64_t length = 0;
  std::memcpy(&length, bytes.data(), kLengthBytes);
  const uint64_t available = bytes.size() - kLengthBytes;
  if (length > available) {
    return Invalid(source, "header length ", length,
                   " overflows the file: only ", available,
                   " bytes follow the length field; the file is truncated or "
                   "not a safetensors file");
  }
  if (length > kMaxSafetensorsHeaderBytes) {
    return Invalid(source, "header length ", length, " exceeds the limit of ",
                   kMaxSafetensorsHeaderBytes, " bytes");
  }
  absl::string_view header = bytes.substr(kLengthBytes, length);
  if (header.empty() || header[0] != '{') {
    return Invalid(source,
                   "the header does not start with '{'; this is not a "
                   "safetensors file");
  }
  return header;
}

std::string EntryJson(absl::string_view name, const Tensor& tensor,
                      uint64_t begin) {
  return absl::StrCat(
      JsonQuote(name), ":{\"dtype\":\"", SafetensorsDTypeName(tensor.dtype()),
      "\",\"shape\":[", absl::StrJoin(tensor.shape(), ","),
      "],\"data_offsets\":[", begin, ",", begin + tensor.num_bytes(), "]}");
}

}  // namespace

absl::string_view SafetensorsDTypeName(DType dtype) {
  return dtype == kF32 ? "F32" : "F64";
}

std::string SerializeSafetensors(const Safetensors& contents) {
  std::vector<std::string> members;
  if (!contents.metadata.empty()) {
    std::vector<std::string> pairs;
    for (const auto& [key, value] : contents.metadata) {
      pairs.push_back(absl::StrCat(JsonQuote(key), ":", JsonQuote(value)));
    }
    members.push_back(absl::StrCat(JsonQuote(kSafetensorsMetadataKey), ":{",
                                   absl::StrJoin(pairs, ","), "}"));
  }
  uint64_t offset = 0;
  for (const auto& [name, tensor] : contents.tensors) {
    KILN_CHECK(name != kSafetensorsMetadataKey)
        << "a tensor may not be called " << kSafetensorsMetadataKey;
    members.push_back(EntryJson(name, tensor, offset));
    offset += tensor.num_bytes();
  }
  std::string header = absl::StrCat("{", absl::StrJoin(members, ","), "}");
  // Spaces are JSON whitespace, so padding keeps the header valid.
  header.append((8 - (kLengthBytes + header.size()) % 8) % 8, ' ');

  std::string bytes(kLengthBytes, '\0');
  const uint64_t length = header.size();
  std::memcpy(bytes.data(), &length, kLengthBytes);
  bytes += header;
  bytes.reserve(bytes.size() + offset);
  for (const auto& [name, tensor] : contents.tensors) {
    bytes.append(static_cast<const char*>(tensor.raw_data()),
                 tensor.num_bytes());
  }
  return bytes;
}

absl::StatusOr<Safetensors> ParseSafetensors(absl::string_view bytes,
                                             absl::string_view source) {
  KILN_ASSIGN_OR_RETURN(absl::string_view header_text,
                        SplitHeader(bytes, source));
  absl::StatusOr<JsonValue> header = ParseJson(header_text);
  if (!header.ok()) {
    return Invalid(source, "header: ", header.status().message());
  }
  if (!header->is_object()) {
    return Invalid(source, "the header is not a JSON object");
  }

  Safetensors contents;
  std::vector<HeaderEntry> entries;
  for (const auto& [key, value] : header->object()) {
    if (key == kSafetensorsMetadataKey) {
      KILN_RETURN_IF_ERROR(ParseMetadata(value, source, contents));
      continue;
    }
    KILN_ASSIGN_OR_RETURN(HeaderEntry entry, ParseEntry(key, value, source));
    entries.push_back(std::move(entry));
  }
  absl::string_view data = bytes.substr(kLengthBytes + header_text.size());
  KILN_RETURN_IF_ERROR(CheckTiling(entries, data.size(), source));

  // Only now, with every range checked against the data, is memory
  // allocated for the tensors.
  for (const HeaderEntry& entry : entries) {
    Tensor tensor(entry.dtype, entry.shape);
    std::memcpy(tensor.raw_data(), data.data() + entry.begin,
                tensor.num_bytes());
    contents.tensors.emplace(entry.name, std::move(tensor));
  }
  return contents;
}

absl::StatusOr<Safetensors> ReadSafetensors(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseSafetensors(bytes, path);
}

absl::Status WriteSafetensors(const std::string& path,
                              const Safetensors& contents) {
  return WriteFileAtomically(path, SerializeSafetensors(contents));
}

}  // namespace kiln
