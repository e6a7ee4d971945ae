// Replays fuzz inputs as ordinary tests: one test case per file of each
// directory named on the command line, each running the linked fuzz
// target's LLVMFuzzerTestOneInput on the file's bytes. A target reports a
// bad input by crashing, so a case passes when the call returns 0, and a
// crash fails the whole test binary, naming the file on stderr first.
//
//   corpus_replay_test fuzz/corpus/idx fuzz/regressions/idx
//
// A directory that does not exist holds no inputs; at least one input in
// all must exist, so that a mistyped path cannot pass as an empty corpus.

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.h"
#include "gtest/gtest.h"

namespace {

std::vector<std::filesystem::path> InputsIn(const std::string& directory) {
  std::vector<std::filesystem::path> inputs;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(directory, error)) {
    if (entry.is_regular_file()) inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  return inputs;
}

// A test name from a path: every character outside [A-Za-z0-9] becomes '_'.
std::string TestName(const std::filesystem::path& path) {
  std::string name = path.string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

class ReplayTest : public ::testing::Test {
 public:
  explicit ReplayTest(std::filesystem::path input) : input_(std::move(input)) {}

  void TestBody() override {
    std::ifstream file(input_, std::ios::binary);
    ASSERT_TRUE(file.good()) << "cannot read " << input_;
    const std::string bytes((std::istreambuf_iterator<char>(file)), {});
    // Said before the call, since a finding ends the process.
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", input_.c_str(),
                 bytes.size());
    EXPECT_EQ(LLVMFuzzerTestOneInput(
                  reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
              0);
  }

 private:
  std::filesystem::path input_;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  int registered = 0;
  for (int i = 1; i < argc; ++i) {
    for (const std::filesystem::path& input : InputsIn(argv[i])) {
      ::testing::RegisterTest(
          "Replay", TestName(input).c_str(), nullptr, nullptr, __FILE__,
          __LINE__,
          [input]() -> ::testing::Test* { return new ReplayTest(input); });
      ++registered;
    }
  }
  if (registered == 0) {
    std::fprintf(stderr, "no inputs found in the directories given\n");
    return 1;
  }
  return RUN_ALL_TESTS();
}
