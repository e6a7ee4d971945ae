// The JSON reader accepts RFC 8259 exactly: values come back with their
// kinds and text, and every malformed document is a status naming a byte
// offset, never a crash.

#include "models/checkpoint/json.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

TEST(JsonTest, ParsesNestedObjectsInDocumentOrder) {
  absl::StatusOr<JsonValue> json = ParseJson(
      R"( {"b": [1, 2.5, -3e2], "a": {"x": true, "y": null}, "s": "hi"} )");
  ASSERT_TRUE(json.ok()) << json.status();
  ASSERT_TRUE(json->is_object());
  ASSERT_EQ(json->object().size(), 3u);
  EXPECT_EQ(json->object()[0].first, "b");
  EXPECT_EQ(json->object()[1].first, "a");
  const JsonValue* b = json->Find("b");
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->array().size(), 3u);
  EXPECT_EQ(b->array()[1].text(), "2.5");
  EXPECT_EQ(b->array()[2].text(), "-3e2");
  EXPECT_TRUE(json->Find("a")->Find("x")->bool_value());
  EXPECT_EQ(json->Find("a")->Find("y")->kind(), JsonValue::Kind::kNull);
  EXPECT_EQ(json->Find("s")->text(), "hi");
  EXPECT_EQ(json->Find("missing"), nullptr);
}

TEST(JsonTest, AsUint64IsExactUpToTwoToTheSixtyFour) {
  auto number = [](const char* text) { return ParseJson(text)->AsUint64(); };
  EXPECT_EQ(number("0"), 0u);
  EXPECT_EQ(number("9007199254740993"), 9007199254740993u);  // 2^53 + 1
  EXPECT_EQ(number("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(number("18446744073709551616"), std::nullopt);  // 2^64
  EXPECT_EQ(number("-1"), std::nullopt);
  EXPECT_EQ(number("1.0"), std::nullopt);
  EXPECT_EQ(number("1e3"), std::nullopt);
  EXPECT_EQ(ParseJson("\"7\"")->AsUint64(), std::nullopt);
}

TEST(JsonTest, DecodesEscapesAndSurrogatePairs) {
  absl::StatusOr<JsonValue> json =
      ParseJson(R"("a\"b\\c\/d\n\u00e9\ud83d\ude00")");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->text(), "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(JsonTest, AcceptsRawUtf8InStrings) {
  absl::StatusOr<JsonValue> json = ParseJson("\"\xce\xb3 = 0.01\"");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->text(), "\xce\xb3 = 0.01");
}

TEST(JsonTest, QuoteRoundTripsThroughTheParser) {
  const std::string original = "tab\there \"quoted\" back\\slash \x01 \xce\xb3";
  absl::StatusOr<JsonValue> json = ParseJson(JsonQuote(original));
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->text(), original);
}

struct MalformedCase {
  const char* text;
  const char* message;
};

class MalformedJsonTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedJsonTest, IsRefusedWithTheOffset) {
  absl::StatusOr<JsonValue> json = ParseJson(GetParam().text);
  ASSERT_FALSE(json.ok()) << "accepted: " << GetParam().text;
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(json.status().message(), HasSubstr("JSON at byte "));
  EXPECT_THAT(json.status().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Grammar, MalformedJsonTest,
    ::testing::Values(
        MalformedCase{"", "expected a value"},
        MalformedCase{"   ", "expected a value"},
        MalformedCase{"{", "expected a string as object key"},
        MalformedCase{"{\"a\"", "expected ':'"},
        MalformedCase{"{\"a\":1", "expected ',' or '}'"},
        MalformedCase{"{\"a\":1,}", "expected a string as object key"},
        MalformedCase{"[1,]", "expected a value"},
        MalformedCase{"[1 2]", "expected ',' or ']'"},
        MalformedCase{"{a:1}", "expected a string as object key"},
        MalformedCase{"{\"a\":1,\"a\":2}", "duplicate key \"a\""},
        MalformedCase{"01", "expected the end"},
        MalformedCase{"1.", "expected a digit after '.'"},
        MalformedCase{"1e", "expected a digit in the exponent"},
        MalformedCase{"-", "expected a digit"},
        MalformedCase{"+1", "expected a value"},
        MalformedCase{"NaN", "expected a value"},
        MalformedCase{"tru", "expected 'true'"},
        MalformedCase{"\"abc", "unterminated string"},
        MalformedCase{"\"a\nb\"", "control character"},
        MalformedCase{"\"\\x\"", "invalid escape"},
        MalformedCase{"\"\\u12\"", "hex digit"},
        MalformedCase{"\"\\ud800\"", "low surrogate"},
        MalformedCase{"\"\\udc00\"", "lone low surrogate"},
        MalformedCase{"\"\xff\"", "invalid UTF-8"},
        MalformedCase{"\"\xc0\xaf\"", "invalid UTF-8"},      // overlong '/'
        MalformedCase{"\"\xed\xa0\x80\"", "invalid UTF-8"},  // a surrogate
        MalformedCase{"\"\xe2\x82\"", "invalid UTF-8"},      // cut short
        MalformedCase{"{} {}", "expected the end"},
        MalformedCase{"// comment\n{}", "expected a value"}));

TEST(JsonTest, RefusesNestingBeyondTheLimitAndAcceptsItAtTheLimit) {
  const std::string at_limit =
      std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseJson(at_limit).ok());
  const std::string too_deep = "[" + at_limit + "]";
  absl::StatusOr<JsonValue> json = ParseJson(too_deep);
  ASSERT_FALSE(json.ok());
  EXPECT_THAT(json.status().message(), HasSubstr("nesting is too deep"));
}

TEST(JsonTest, HostileDepthFailsWithoutExhaustingTheStack) {
  const std::string hostile(1 << 20, '[');
  EXPECT_FALSE(ParseJson(hostile).ok());
}

TEST(JsonTest, ManyKeysParseInReasonableTime) {
  // A quadratic duplicate check would take minutes here.
  std::string text = "{";
  for (int i = 0; i < 100000; ++i) {
    text += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  }
  text += "}";
  absl::StatusOr<JsonValue> json = ParseJson(text);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->object().size(), 100000u);
}

}  // namespace
}  // namespace kiln
