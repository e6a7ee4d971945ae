// FreshDirectory: an empty directory for one test's files.
//
// Under `bazel test` each test binary has its own TEST_TMPDIR; elsewhere
// (a test binary run by hand) the directory goes under /tmp. Whatever an
// earlier run left at the path is removed first, so that a test never sees
// a cache entry or a checkpoint it did not write.
//
//   const std::filesystem::path cache = kiln::testing::FreshDirectory("cache");

#ifndef KILN_TESTS_FRESH_DIRECTORY_H_
#define KILN_TESTS_FRESH_DIRECTORY_H_

#include <cstdlib>
#include <filesystem>
#include <string_view>

namespace kiln::testing {

inline std::filesystem::path FreshDirectory(std::string_view name) {
  const char* root = std::getenv("TEST_TMPDIR");
  const std::filesystem::path dir =
      std::filesystem::path(root != nullptr ? root : "/tmp") / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace kiln::testing

#endif  // KILN_TESTS_FRESH_DIRECTORY_H_
