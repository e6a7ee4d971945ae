// safetensors files round-trip exactly, and every kind of corrupt file is
// refused with a message that names the file, the tensor and the value.

#include "models/checkpoint/safetensors.h"

#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

Safetensors Example() {
  Safetensors contents;
  contents.tensors["b"] = Tensor::FromValues<float>({3}, {1.5f, -2, 0.25f});
  contents.tensors["a.weight"] =
      Tensor::FromValues<double>({2, 2}, {0.1, 0.2, 0.3, 1e-300});
  contents.metadata["architecture"] = "4-3:softmax_cross_entropy";
  contents.metadata["note"] = "\xce\xb3 \"quoted\"";
  return contents;
}

// A file assembled by hand: length, header text and data bytes.
std::string FileOf(const std::string& header, const std::string& data) {
  std::string bytes(8, '\0');
  const uint64_t length = header.size();
  std::memcpy(bytes.data(), &length, 8);
  return bytes + header + data;
}

std::string Doubles(std::initializer_list<double> values) {
  std::string bytes;
  for (double value : values) {
    bytes.append(reinterpret_cast<const char*>(&value), sizeof(value));
  }
  return bytes;
}

absl::Status ParseError(const std::string& bytes) {
  absl::StatusOr<Safetensors> parsed = ParseSafetensors(bytes, "bad.st");
  return parsed.ok() ? absl::OkStatus() : parsed.status();
}

TEST(SafetensorsTest, RoundTripKeepsValuesShapesDTypesAndMetadata) {
  const Safetensors original = Example();
  absl::StatusOr<Safetensors> back =
      ParseSafetensors(SerializeSafetensors(original), "memory");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->metadata, original.metadata);
  ASSERT_EQ(back->tensors.size(), 2u);
  for (const auto& [name, tensor] : original.tensors) {
    const Tensor& read = back->tensors.at(name);
    EXPECT_EQ(read.dtype(), tensor.dtype()) << name;
    EXPECT_EQ(read.shape(), tensor.shape()) << name;
    EXPECT_EQ(
        std::memcmp(read.raw_data(), tensor.raw_data(), tensor.num_bytes()), 0)
        << name;
  }
}

TEST(SafetensorsTest, HeaderIsPaddedSoThatDataIsEightByteAligned) {
  const std::string bytes = SerializeSafetensors(Example());
  uint64_t length;
  std::memcpy(&length, bytes.data(), 8);
  EXPECT_EQ((8 + length) % 8, 0u);
  // Tensors are laid out in name order: "a.weight" (32 bytes), then "b".
  EXPECT_EQ(bytes.size(), 8 + length + 32 + 12);
  double first;
  std::memcpy(&first, bytes.data() + 8 + length, 8);
  EXPECT_EQ(first, 0.1);
}

TEST(SafetensorsTest, ReadsAHeaderWrittenByHand) {
  const std::string bytes =
      FileOf(R"({"w":{"shape":[2],"dtype":"F64","data_offsets":[0,16]},)"
             R"("__metadata__":{"k":"v"}}   )",
             Doubles({3, 4}));
  absl::StatusOr<Safetensors> parsed = ParseSafetensors(bytes, "hand.st");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->tensors.at("w").ToDoubles(), (std::vector<double>{3, 4}));
  EXPECT_EQ(parsed->metadata.at("k"), "v");
}

TEST(SafetensorsTest, TruncatedFileIsRefused) {
  const std::string bytes = SerializeSafetensors(Example());
  absl::Status short_length = ParseError(bytes.substr(0, 5));
  EXPECT_EQ(short_length.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(short_length.message(), HasSubstr("bad.st: the file is 5 bytes"));

  absl::Status short_data = ParseError(bytes.substr(0, bytes.size() - 1));
  EXPECT_THAT(short_data.message(), HasSubstr("leave the file"));

  // Every prefix, from empty to one byte short, is refused.
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(ParseError(bytes.substr(0, size)).ok()) << size << " bytes";
  }
}

TEST(SafetensorsTest, HeaderLengthThatOverflowsIsRefused) {
  std::string bytes = SerializeSafetensors(Example());
  const uint64_t huge = UINT64_MAX;
  std::memcpy(bytes.data(), &huge, 8);
  absl::Status status = ParseError(bytes);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("header length 18446744073709551615 overflows"));
}

TEST(SafetensorsTest, HeaderLengthAboveTheLimitIsRefused) {
  const std::string padding(kMaxSafetensorsHeaderBytes, ' ');
  absl::Status status = ParseError(FileOf("{}" + padding, ""));
  EXPECT_THAT(status.message(), HasSubstr("exceeds the limit"));
}

TEST(SafetensorsTest, TensorWhoseOffsetsLeaveTheFileIsRefused) {
  absl::Status status = ParseError(
      FileOf(R"({"w":{"dtype":"F64","shape":[2],"data_offsets":[8,24]}})",
             Doubles({1, 2})));
  EXPECT_THAT(status.message(),
              HasSubstr("tensor \"w\": data_offsets [8, 24] leave the file"));
}

TEST(SafetensorsTest, WrongDTypeIsRefused) {
  absl::Status half = ParseError(FileOf(
      R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", "abcd"));
  EXPECT_THAT(half.message(),
              HasSubstr("tensor \"w\" has dtype \"F16\"; Kiln reads F32 and "
                        "F64 only"));
  absl::Status unknown = ParseError(FileOf(
      R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,4]}})", "abcd"));
  EXPECT_THAT(unknown.message(), HasSubstr("unknown dtype \"Q4\""));
  // F32 where the byte count says F64.
  absl::Status mismatch = ParseError(
      FileOf(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})",
             Doubles({1, 2})));
  EXPECT_THAT(
      mismatch.message(),
      HasSubstr("F32[2] needs 8 bytes but data_offsets [0, 16] hold 16"));
}

TEST(SafetensorsTest, OverlapsGapsAndTrailingBytesAreRefused) {
  const std::string data = Doubles({1, 2, 3});
  absl::Status overlap = ParseError(
      FileOf(R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
             R"("b":{"dtype":"F64","shape":[2],"data_offsets":[8,24]}})",
             data));
  EXPECT_THAT(overlap.message(), HasSubstr("overlap"));
  absl::Status gap = ParseError(
      FileOf(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}})",
             data.substr(0, 16)));
  EXPECT_THAT(gap.message(), HasSubstr("leave a gap"));
  absl::Status trailing = ParseError(FileOf(
      R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})", data));
  EXPECT_THAT(trailing.message(), HasSubstr("trailing bytes"));
}

TEST(SafetensorsTest, MalformedHeadersAreRefusedWithTheirReason) {
  const std::string data = Doubles({1});
  const std::pair<const char*, const char*> cases[] = {
      {R"([1,2])", "does not start with '{'"},
      {R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]})",
       "header: JSON at byte"},
      {R"({"w":{"dtype":"F64","shape":[1]}})", "needs \"data_offsets\""},
      {R"({"w":{"shape":[1],"data_offsets":[0,8]}})", "needs a string"},
      {R"({"w":{"dtype":"F64","shape":[-1],"data_offsets":[0,8]}})",
       "shape entries must be non-negative integers"},
      {R"({"w":{"dtype":"F64","shape":[0],"data_offsets":[0,0]}})",
       "not positive"},
      {R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[8,0]}})",
       "end before they begin"},
      {R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8],"x":1}})",
       "unknown key \"x\""},
      {R"({"w":[1]})", "must be an object, got array"},
      {R"({"__metadata__":{"k":1},)"
       R"("w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})",
       "metadata \"k\" must be a string, got number"},
      {R"({"w":{"dtype":"F64","shape":[4611686018427387904,4],)"
       R"("data_offsets":[0,8]}})",
       "more elements than fit"},
  };
  for (const auto& [header, message] : cases) {
    absl::Status status = ParseError(FileOf(header, data));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << header;
    EXPECT_THAT(status.message(), HasSubstr("bad.st: ")) << header;
    EXPECT_THAT(status.message(), HasSubstr(message)) << header;
  }
}

TEST(SafetensorsTest, EverySingleByteCorruptionIsParsedOrRefusedCleanly) {
  const std::string original = SerializeSafetensors(Example());
  int refused = 0;
  for (size_t at = 0; at < original.size(); ++at) {
    for (unsigned char flip : {0x01, 0x80, 0xff}) {
      std::string bytes = original;
      bytes[at] = static_cast<char>(bytes[at] ^ flip);
      refused += !ParseError(bytes).ok();
    }
  }
  // Flips in the data section stay valid files; flips in the header and the
  // length mostly do not.
  EXPECT_GT(refused, 0);
}

TEST(SafetensorsTest, ReadingAMissingFileIsNotFound) {
  absl::StatusOr<Safetensors> read =
      ReadSafetensors(::testing::TempDir() + "/no_such.safetensors");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(read.status().message(), HasSubstr("no_such.safetensors"));
}

TEST(SafetensorsTest, WriteThenReadFromDisk) {
  const std::string path = ::testing::TempDir() + "/example.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, Example()).ok());
  absl::StatusOr<Safetensors> back = ReadSafetensors(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->tensors.at("b").ToDoubles(),
            (std::vector<double>{1.5, -2, 0.25}));
}

}  // namespace
}  // namespace kiln
