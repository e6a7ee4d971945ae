// Encoding with libpng into memory, then an atomic write of the bytes.

#include "models/chapter/png.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>

#include "absl/strings/str_cat.h"
#include "ops/base/atomic_file.h"

namespace kiln {
namespace {

// libpng reports errors by longjmp to the setjmp in EncodePng. Jumping over
// C++ destructors is undefined, so everything between the setjmp and the
// last libpng call is plain C data, and the encoded bytes are collected
// through a callback into a buffer that outlives the jump.
struct Encoding {
  std::string* bytes;
  char message[256];
};

void AppendBytes(png_structp png, png_bytep data, png_size_t length) {
  auto* encoding = static_cast<Encoding*>(png_get_io_ptr(png));
  encoding->bytes->append(reinterpret_cast<const char*>(data), length);
}

void Flush(png_structp) {}

void OnError(png_structp png, png_const_charp message) {
  auto* encoding = static_cast<Encoding*>(png_get_error_ptr(png));
  std::snprintf(encoding->message, sizeof(encoding->message), "%s", message);
  png_longjmp(png, 1);
}

void OnWarning(png_structp, png_const_charp) {}

// Encodes `rows`, each `width` bytes, into `encoding->bytes`. Returns false
// with encoding->message set when libpng fails.
bool EncodePng(png_uint_32 width, png_uint_32 height, png_bytepp rows,
               Encoding* encoding) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, encoding,
                                            OnError, OnWarning);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, encoding, AppendBytes, Flush);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

uint8_t GrayLevel(double value, bool ink) {
  const double clamped = std::clamp(std::isnan(value) ? 0.0 : value, 0.0, 1.0);
  const double level = ink ? 1.0 - clamped : clamped;
  return static_cast<uint8_t>(std::lround(level * 255));
}

}  // namespace

absl::Status WriteGrayPng(const std::string& path, const GrayImage& image,
                          const PngOptions& options) {
  if (image.width <= 0 || image.height <= 0 ||
      static_cast<int64_t>(image.values.size()) != image.width * image.height) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": an image of ", image.width, "x", image.height, " needs ",
        image.width * image.height, " values, got ", image.values.size()));
  }
  if (options.scale < 1 || options.scale > 64 ||
      image.width * options.scale > (1 << 16) ||
      image.height * options.scale > (1 << 16)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": scale ", options.scale, " is out of range for ",
                     image.width, "x", image.height));
  }

  // Each value becomes a scale×scale block.
  const int64_t width = image.width * options.scale;
  const int64_t height = image.height * options.scale;
  std::vector<uint8_t> pixels(width * height);
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      const double value =
          image.values[(y / options.scale) * image.width + x / options.scale];
      pixels[y * width + x] = GrayLevel(value, options.ink);
    }
  }
  std::vector<png_bytep> rows(height);
  for (int64_t y = 0; y < height; ++y) rows[y] = &pixels[y * width];

  std::string bytes;
  Encoding encoding{&bytes, "out of memory"};
  if (!EncodePng(static_cast<png_uint_32>(width),
                 static_cast<png_uint_32>(height), rows.data(), &encoding)) {
    return absl::InternalError(
        absl::StrCat(path, ": libpng failed: ", encoding.message));
  }
  return WriteFileAtomically(path, bytes);
}

}  // namespace kiln
