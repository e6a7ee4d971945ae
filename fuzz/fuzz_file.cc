#include "fuzz/fuzz_file.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "ops/base/check.h"

namespace kiln::fuzz {
namespace {

const std::string& ScratchDirectory() {
  static const std::string* const directory = [] {
    const char* root = std::getenv("TEST_TMPDIR");
    if (root == nullptr) root = std::getenv("TMPDIR");
    if (root == nullptr) root = "/tmp";
    std::string pattern = std::string(root) + "/kiln_fuzz.XXXXXX";
    KILN_CHECK(mkdtemp(pattern.data()) != nullptr)
        << "cannot create a scratch directory from " << pattern;
    return new std::string(pattern);
  }();
  return *directory;
}

}  // namespace

std::string WriteFuzzFile(const std::string& name, const uint8_t* data,
                          size_t size) {
  const std::string path = ScratchDirectory() + "/" + name;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  KILN_CHECK(file != nullptr) << "cannot write " << path;
  const size_t written = size == 0 ? 0 : std::fwrite(data, 1, size, file);
  KILN_CHECK(std::fclose(file) == 0 && written == size)
      << "cannot write " << size << " bytes to " << path;
  return path;
}

}  // namespace kiln::fuzz
