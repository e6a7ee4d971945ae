// A recursive-descent parser over RFC 8259's grammar. Each Parse* method
// starts at the first byte of its production and leaves pos_ just past it;
// on error it returns a status and the caller stops.

#include "models/checkpoint/json.h"

#include <cstdint>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ops/base/check.h"
#include "ops/base/status_macros.h"

namespace kiln {

JsonValue JsonValue::Bool(bool value) {
  JsonValue json(Kind::kBool);
  json.bool_ = value;
  return json;
}

JsonValue JsonValue::Number(std::string text) {
  JsonValue json(Kind::kNumber);
  json.text_ = std::move(text);
  return json;
}

JsonValue JsonValue::String(std::string value) {
  JsonValue json(Kind::kString);
  json.text_ = std::move(value);
  return json;
}

JsonValue JsonValue::Array(std::vector<JsonValue> elements) {
  JsonValue json(Kind::kArray);
  json.elements_ = std::move(elements);
  return json;
}

JsonValue JsonValue::Object(std::vector<Member> members) {
  JsonValue json(Kind::kObject);
  json.members_ = std::move(members);
  return json;
}

bool JsonValue::bool_value() const {
  KILN_CHECK(kind_ == Kind::kBool) << "JSON " << KindName(kind_);
  return bool_;
}

const std::string& JsonValue::text() const {
  KILN_CHECK(kind_ == Kind::kNumber || kind_ == Kind::kString)
      << "JSON " << KindName(kind_);
  return text_;
}

const std::vector<JsonValue>& JsonValue::array() const {
  KILN_CHECK(kind_ == Kind::kArray) << "JSON " << KindName(kind_);
  return elements_;
}

const std::vector<JsonValue::Member>& JsonValue::object() const {
  KILN_CHECK(kind_ == Kind::kObject) << "JSON " << KindName(kind_);
  return members_;
}

const JsonValue* JsonValue::Find(absl::string_view key) const {
  if (kind_ != Kind::kObject) return nullptr;
  for (const Member& member : members_) {
    if (member.first == key) return &member.second;
  }
  return nullptr;
}

std::optional<uint64_t> JsonValue::AsUint64() const {
  if (kind_ != Kind::kNumber || text_.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text_) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

absl::string_view JsonValue::KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "boolean";
    case Kind::kNumber:
      return "number";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "array";
    case Kind::kObject:
      return "object";
  }
  KILN_UNREACHABLE("invalid JSON kind");
}

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Appends code point `cp` (at most U+10FFFF, not a surrogate) as UTF-8.
void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The length of the well-formed UTF-8 sequence at the start of `bytes`
// (Unicode's table 3-7: no overlong forms, no surrogates, nothing above
// U+10FFFF), or 0 if it is not one.
size_t Utf8SequenceLength(absl::string_view bytes) {
  const auto byte = [&](size_t i) {
    return static_cast<unsigned char>(bytes[i]);
  };
  const unsigned char lead = byte(0);
  size_t length;
  unsigned char low = 0x80, high = 0xBF;  // the second byte's range
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (bytes.size() < length) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::StatusOr<JsonValue> ParseDocument() {
    SkipWhitespace();
    KILN_ASSIGN_OR_RETURN(JsonValue value, ParseValue(0));
    SkipWhitespace();
    if (pos_ != text_.size()) return Error("expected the end of the text");
    return value;
  }

 private:
  absl::Status Error(absl::string_view what) const {
    std::string found =
        pos_ < text_.size()
            ? absl::StrFormat("0x%02x",
                              static_cast<unsigned>(
                                  static_cast<unsigned char>(text_[pos_])))
            : "the end";
    return absl::InvalidArgumentError(
        absl::StrCat("JSON at byte ", pos_, ": ", what, ", found ", found));
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  bool Consume(char c) {
    if (AtEnd() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  void SkipWhitespace() {
    while (!AtEnd() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                        text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  absl::StatusOr<JsonValue> ParseValue(int depth) {
    switch (Peek()) {
      case '{':
        return ParseObject(depth + 1);
      case '[':
        return ParseArray(depth + 1);
      case '"': {
        KILN_ASSIGN_OR_RETURN(std::string value, ParseString());
        return JsonValue::String(std::move(value));
      }
      case 't':
        return ParseLiteral("true", JsonValue::Bool(true));
      case 'f':
        return ParseLiteral("false", JsonValue::Bool(false));
      case 'n':
        return ParseLiteral("null", JsonValue::Null());
      default:
        if (Peek() == '-' || IsDigit(Peek())) return ParseNumber();
        return Error("expected a value");
    }
  }

  absl::StatusOr<JsonValue> ParseLiteral(absl::string_view word,
                                         JsonValue value) {
    if (text_.substr(pos_, word.size()) != word) {
      return Error(absl::StrCat("expected '", word, "'"));
    }
    pos_ += word.size();
    return value;
  }

  absl::StatusOr<JsonValue> ParseObject(int depth) {
    if (depth > kMaxJsonDepth) return Error("nesting is too deep");
    ++pos_;  // '{'
    std::vector<JsonValue::Member> members;
    // A set, so that a hostile object with many keys stays linear-time.
    std::set<std::string, std::less<>> keys;
    SkipWhitespace();
    if (Consume('}')) return JsonValue::Object(std::move(members));
    while (true) {
      SkipWhitespace();
      if (Peek() != '"') return Error("expected a string as object key");
      const size_t key_at = pos_;
      KILN_ASSIGN_OR_RETURN(std::string key, ParseString());
      if (!keys.insert(key).second) {
        pos_ = key_at;
        return Error(absl::StrCat("duplicate key ", JsonQuote(key)));
      }
      SkipWhitespace();
      if (!Consume(':')) return Error("expected ':' after object key");
      SkipWhitespace();
      KILN_ASSIGN_OR_RETURN(JsonValue value, ParseValue(depth));
      members.emplace_back(std::move(key), std::move(value));
      SkipWhitespace();
      if (Consume('}')) return JsonValue::Object(std::move(members));
      if (!Consume(',')) return Error("expected ',' or '}' in object");
    }
  }

  absl::StatusOr<JsonValue> ParseArray(int depth) {
    if (depth > kMaxJsonDepth) return Error("nesting is too deep");
    ++pos_;  // '['
    std::vector<JsonValue> elements;
    SkipWhitespace();
    if (Consume(']')) return JsonValue::Array(std::move(elements));
    while (true) {
      SkipWhitespace();
      KILN_ASSIGN_OR_RETURN(JsonValue element, ParseValue(depth));
      elements.push_back(std::move(element));
      SkipWhitespace();
      if (Consume(']')) return JsonValue::Array(std::move(elements));
      if (!Consume(',')) return Error("expected ',' or ']' in array");
    }
  }

  // number = [ '-' ] int [ frac ] [ exp ], with int = '0' / [1-9] *digit.
  absl::StatusOr<JsonValue> ParseNumber() {
    const size_t begin = pos_;
    Consume('-');
    if (Consume('0')) {
      // No leading zeros: "01" is not a number.
    } else if (IsDigit(Peek())) {
      while (IsDigit(Peek())) ++pos_;
    } else {
      return Error("expected a digit");
    }
    if (Consume('.')) {
      if (!IsDigit(Peek())) return Error("expected a digit after '.'");
      while (IsDigit(Peek())) ++pos_;
    }
    if (Consume('e') || Consume('E')) {
      if (!Consume('+')) Consume('-');
      if (!IsDigit(Peek())) return Error("expected a digit in the exponent");
      while (IsDigit(Peek())) ++pos_;
    }
    return JsonValue::Number(std::string(text_.substr(begin, pos_ - begin)));
  }

  absl::StatusOr<uint32_t> ParseHex4() {
    if (text_.size() - pos_ < 4) return Error("expected four hex digits");
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_];
      int digit;
      if (IsDigit(c)) {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return Error("expected a hex digit");
      }
      value = value * 16 + static_cast<uint32_t>(digit);
      ++pos_;
    }
    return value;
  }

  // After "\u": one code point, from a pair of escapes for a surrogate pair.
  absl::Status ParseUnicodeEscape(std::string& out) {
    KILN_ASSIGN_OR_RETURN(uint32_t cp, ParseHex4());
    if (cp >= 0xDC00 && cp <= 0xDFFF) return Error("lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (!Consume('\\') || !Consume('u')) {
        return Error("expected a low surrogate escape");
      }
      KILN_ASSIGN_OR_RETURN(uint32_t low, ParseHex4());
      if (low < 0xDC00 || low > 0xDFFF) return Error("expected low surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    AppendUtf8(cp, out);
    return absl::OkStatus();
  }

  absl::Status ParseEscape(std::string& out) {
    const char c = Peek();
    ++pos_;
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out += c;
        return absl::OkStatus();
      case 'b':
        out += '\b';
        return absl::OkStatus();
      case 'f':
        out += '\f';
        return absl::OkStatus();
      case 'n':
        out += '\n';
        return absl::OkStatus();
      case 'r':
        out += '\r';
        return absl::OkStatus();
      case 't':
        out += '\t';
        return absl::OkStatus();
      case 'u':
        return ParseUnicodeEscape(out);
      default:
        --pos_;
        return Error("invalid escape");
    }
  }

  absl::StatusOr<std::string> ParseString() {
    ++pos_;  // '"'
    std::string out;
    while (true) {
      if (AtEnd()) return Error("unterminated string");
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) return Error("control character in string");
      if (c == '\\') {
        ++pos_;
        KILN_RETURN_IF_ERROR(ParseEscape(out));
      } else if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
      } else {
        const size_t length = Utf8SequenceLength(text_.substr(pos_));
        if (length == 0) return Error("invalid UTF-8 in string");
        out.append(text_.data() + pos_, length);
        pos_ += length;
      }
    }
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<JsonValue> ParseJson(absl::string_view text) {
  return Parser(text).ParseDocument();
}

std::string JsonQuote(absl::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace kiln
