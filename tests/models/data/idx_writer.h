// Helpers that write small IDX files, raw or gzipped, for the tests of the
// data readers. They build files byte by byte, so that a test can produce
// exactly the malformed header or data section it means to reject.
//
//   std::string dir = FreshTestDir();
//   std::string bytes = IdxBytes(IdxMagic(0x08, 2), {2, 3}, {0, 1, 2, 3, 4,
//   5}); std::string path = WriteGzipFile(dir + "/x.gz", bytes);

#ifndef KILN_TESTS_MODELS_DATA_IDX_WRITER_H_
#define KILN_TESTS_MODELS_DATA_IDX_WRITER_H_

#include <zlib.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kiln::testdata {

// The four magic bytes: two zeros, the type code and the rank.
inline std::array<uint8_t, 4> IdxMagic(uint8_t type_code, uint8_t rank) {
  return {0, 0, type_code, rank};
}

// A whole IDX file: `magic`, each of `dims` as a big-endian uint32, `data`.
// Nothing is checked, so any of the three may disagree with the others.
inline std::string IdxBytes(const std::array<uint8_t, 4>& magic,
                            const std::vector<uint32_t>& dims,
                            const std::vector<uint8_t>& data) {
  std::string bytes(magic.begin(), magic.end());
  for (uint32_t dim : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      bytes.push_back(static_cast<char>(dim >> shift & 0xFF));
    }
  }
  bytes.append(data.begin(), data.end());
  return bytes;
}

// A well-formed unsigned-byte IDX file.
inline std::string ValidIdx(const std::vector<uint32_t>& dims,
                            const std::vector<uint8_t>& data) {
  return IdxBytes(IdxMagic(0x08, static_cast<uint8_t>(dims.size())), dims,
                  data);
}

// An empty directory of the test's own, named after the running test.
inline std::string FreshTestDir() {
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / test->test_suite_name() /
      test->name();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::string WriteRawFile(const std::string& path,
                                const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  EXPECT_TRUE(out.good()) << "cannot write " << path;
  return path;
}

// `bytes` compressed as one gzip member, as gzip(1) writes it.
inline std::string GzipBytes(const std::string& bytes) {
  z_stream stream = {};
  // 16 + MAX_WBITS asks deflate for the gzip wrapper.
  EXPECT_EQ(deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED,
                         16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&stream, bytes.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// Writes `bytes` gzipped through zlib's file interface.
inline std::string WriteGzipFile(const std::string& path,
                                 const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  EXPECT_NE(file, nullptr) << "cannot open " << path;
  if (file == nullptr) return path;
  EXPECT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  EXPECT_EQ(gzclose(file), Z_OK);
  return path;
}

// The contents of the file at `path`.
inline std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace kiln::testdata

#endif  // KILN_TESTS_MODELS_DATA_IDX_WRITER_H_
