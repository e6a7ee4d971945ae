// Grayscale PNG images, written with libpng, for the chapter report's
// pictures of digits, clothes and learned weights.
//
// An image is a row-major grid of intensities in [0, 1], row 0 at the top,
// the way MNIST stores its pixels, so an MNIST image written as it is comes
// out upright. Each value becomes a scale×scale block of pixels, because a
// 28×28 image is too small to look at; `ink` chooses whether 1 is black (as
// digits are usually printed) or white.
//
//   GrayImage digit{.width = 28, .height = 28, .values = pixels};
//   KILN_RETURN_IF_ERROR(WriteGrayPng("digit.png", digit, {.scale = 4}));

#ifndef KILN_MODELS_CHAPTER_PNG_H_
#define KILN_MODELS_CHAPTER_PNG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace kiln {

struct GrayImage {
  int64_t width = 0;
  int64_t height = 0;
  // width·height values, row-major; values outside [0, 1] are clamped.
  std::vector<double> values;
};

struct PngOptions {
  // Pixels per value along each side, 1 to 64.
  int scale = 1;
  // Whether 1 is drawn black on white (ink) rather than white on black.
  bool ink = true;
};

// Writes `image` as an 8-bit grayscale PNG, atomically. Fails with
// InvalidArgument for an empty image, a value count that does not match
// the size, or a scale out of range; with the file's name when libpng or
// the file system fails.
absl::Status WriteGrayPng(const std::string& path, const GrayImage& image,
                          const PngOptions& options);

}  // namespace kiln

#endif  // KILN_MODELS_CHAPTER_PNG_H_
