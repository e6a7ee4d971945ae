// A small, strict JSON reader for file headers that come from outside.
//
// Checkpoint files carry a JSON header, and a header is untrusted input: it
// may be truncated, hand-edited or hostile. ParseJson accepts exactly the
// grammar of RFC 8259 and nothing more (no comments, no trailing commas, no
// NaN, no duplicate object keys, no invalid UTF-8) and never throws or
// aborts: every malformed input becomes an InvalidArgument status naming the
// byte offset where parsing stopped. Nesting deeper than kMaxJsonDepth is
// refused, so that recursion depth is bounded by a constant, not by the file.
//
// Numbers keep their text. AsUint64 reads an exact non-negative integer,
// which is what sizes and offsets need; a double would round above 2^53.
//
//   absl::StatusOr<JsonValue> header = ParseJson(R"({"shape": [2, 3]})");
//   const JsonValue* shape = header->Find("shape");
//   std::optional<uint64_t> rows = shape->array()[0].AsUint64();  // 2
//
// JsonQuote writes a string as a JSON string literal, for writers.

#ifndef KILN_MODELS_CHECKPOINT_JSON_H_
#define KILN_MODELS_CHECKPOINT_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kiln {

inline constexpr int kMaxJsonDepth = 64;

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  static JsonValue Null() { return JsonValue(Kind::kNull); }
  static JsonValue Bool(bool value);
  // `text` must be a number in JSON's grammar.
  static JsonValue Number(std::string text);
  static JsonValue String(std::string value);
  static JsonValue Array(std::vector<JsonValue> elements);
  // Member keys must be distinct; the parser guarantees it.
  static JsonValue Object(std::vector<Member> members);

  Kind kind() const { return kind_; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  // Each accessor requires the matching kind (checked).
  bool bool_value() const;
  // A number's text as written; a string's decoded UTF-8 value.
  const std::string& text() const;
  const std::vector<JsonValue>& array() const;
  // Members in document order.
  const std::vector<Member>& object() const;

  // For an object, the member called `key`, or null if absent.
  const JsonValue* Find(absl::string_view key) const;

  // The number as an exact integer in [0, 2^64): written with digits only,
  // no sign, fraction or exponent, and in range. Empty otherwise, or when
  // the value is not a number.
  std::optional<uint64_t> AsUint64() const;

  // "null", "boolean", "number", "string", "array" or "object".
  static absl::string_view KindName(Kind kind);

 private:
  explicit JsonValue(Kind kind) : kind_(kind) {}

  Kind kind_;
  bool bool_ = false;
  std::string text_;
  std::vector<JsonValue> elements_;
  std::vector<Member> members_;
};

// Parses one JSON value surrounded by optional whitespace. Fails with
// InvalidArgument, "at byte N: <what was expected>", on anything else.
absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

// `value` as a JSON string literal, quotes included. Quotes, backslashes and
// control characters are escaped; other bytes pass through unchanged.
std::string JsonQuote(absl::string_view value);

}  // namespace kiln

#endif  // KILN_MODELS_CHECKPOINT_JSON_H_
