// PNG images: libpng's own reader gets back the size and the gray levels
// written, scaled and inked as asked, and bad images are refused.

#include "models/chapter/png.h"

#include <png.h>

#include <cstdio>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

struct Decoded {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> gray;
};

// Reads a grayscale PNG with libpng's simplified API.
Decoded ReadPng(const std::string& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  Decoded decoded;
  if (!png_image_begin_read_from_file(&image, path.c_str())) return decoded;
  image.format = PNG_FORMAT_GRAY;
  decoded.gray.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, decoded.gray.data(), 0,
                             nullptr)) {
    return decoded;
  }
  decoded.width = static_cast<int>(image.width);
  decoded.height = static_cast<int>(image.height);
  return decoded;
}

TEST(PngTest, WritesScaledInkedPixelsThatReadBack) {
  const std::string path = ::testing::TempDir() + "/two_by_three.png";
  // Row 0 is the top: 0, 1, 0.5 / 1, 0, 0.25.
  GrayImage image{3, 2, {0, 1, 0.5, 1, 0, 0.25}};
  ASSERT_TRUE(WriteGrayPng(path, image, {.scale = 2, .ink = true}).ok());
  Decoded decoded = ReadPng(path);
  ASSERT_EQ(decoded.width, 6);
  ASSERT_EQ(decoded.height, 4);
  // Ink: 0 is white, 1 black; each value is a 2x2 block.
  EXPECT_EQ(decoded.gray[0], 255);
  EXPECT_EQ(decoded.gray[1], 255);
  EXPECT_EQ(decoded.gray[2], 0);
  EXPECT_EQ(decoded.gray[4], 128);
  EXPECT_EQ(decoded.gray[6 * 2 + 0], 0);    // row 1 of the image, x = 0
  EXPECT_EQ(decoded.gray[6 * 3 + 5], 191);  // 1 − 0.25, bottom right
}

TEST(PngTest, WithoutInkOneIsWhiteAndValuesAreClamped) {
  const std::string path = ::testing::TempDir() + "/light.png";
  ASSERT_TRUE(
      WriteGrayPng(path, {2, 1, {1.0, -3.0}}, {.scale = 1, .ink = false}).ok());
  Decoded decoded = ReadPng(path);
  ASSERT_EQ(decoded.width, 2);
  EXPECT_EQ(decoded.gray[0], 255);
  EXPECT_EQ(decoded.gray[1], 0);
}

TEST(PngTest, RefusesMismatchedSizesAndScales) {
  const std::string path = ::testing::TempDir() + "/bad.png";
  absl::Status short_values = WriteGrayPng(path, {2, 2, {0, 1, 0}}, {});
  EXPECT_EQ(short_values.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(short_values.message(), HasSubstr("2x2 needs 4 values, got 3"));
  EXPECT_FALSE(WriteGrayPng(path, {1, 1, {0}}, {.scale = 0}).ok());
  EXPECT_FALSE(WriteGrayPng(path, {0, 0, {}}, {}).ok());
  EXPECT_EQ(std::fopen(path.c_str(), "rb"), nullptr);
}

}  // namespace
}  // namespace kiln
