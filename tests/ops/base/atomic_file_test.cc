// Atomic replacement: the destination holds the old bytes or the new ones,
// a failed write leaves it untouched, and no temporary file is left behind.

#include "ops/base/atomic_file.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fresh_directory.h"

namespace kiln {
namespace {

using ::kiln::testing::FreshDirectory;
using ::testing::HasSubstr;

int EntriesIn(const std::filesystem::path& dir) {
  int count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator(dir)) {
    ++count;
  }
  return count;
}

TEST(AtomicFileTest, WritesThenReplacesTheWholeFile) {
  const std::filesystem::path dir = FreshDirectory("replace");
  const std::string path = (dir / "file.bin").string();
  ASSERT_TRUE(WriteFileAtomically(path, std::string(1000, 'a')).ok());
  ASSERT_TRUE(WriteFileAtomically(path, "short").ok());
  absl::StatusOr<std::string> read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "short");
  EXPECT_EQ(EntriesIn(dir), 1);  // no temporary file left over
}

TEST(AtomicFileTest, WritesBinaryBytesExactly) {
  const std::filesystem::path dir = FreshDirectory("binary");
  const std::string path = (dir / "file.bin").string();
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
  EXPECT_EQ(*ReadFile(path), bytes);
}

TEST(AtomicFileTest, FailedRenameLeavesNoTemporaryFile) {
  // A non-empty directory at the destination makes the rename fail after
  // the temporary file was written.
  const std::filesystem::path dir = FreshDirectory("blocked");
  const std::filesystem::path blocker = dir / "model.safetensors";
  std::filesystem::create_directories(blocker / "inside");
  absl::Status status = WriteFileAtomically(blocker.string(), "data");
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("model.safetensors"));
  EXPECT_EQ(EntriesIn(dir), 1);
  EXPECT_TRUE(std::filesystem::is_directory(blocker / "inside"));
}

TEST(AtomicFileTest, MissingDirectoryIsNotFoundAndNamesThePath) {
  absl::Status status =
      WriteFileAtomically("/nonexistent_dir/model.safetensors", "data");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("/nonexistent_dir/model"));
}

TEST(AtomicFileTest, ReadFileRefusesMissingFilesAndDirectories) {
  EXPECT_EQ(ReadFile("/nonexistent_dir/x").status().code(),
            absl::StatusCode::kNotFound);
  const std::filesystem::path dir = FreshDirectory("not_a_file");
  absl::StatusOr<std::string> read = ReadFile(dir.string());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(read.status().message(), HasSubstr("not a regular file"));
}

TEST(AtomicFileTest, CheckWritableDestinationRefusesBadPaths) {
  const std::filesystem::path dir = FreshDirectory("destination");
  EXPECT_TRUE(CheckWritableDestination((dir / "new.bin").string()).ok());
  EXPECT_TRUE(CheckWritableDestination("relative_name.bin").ok());
  absl::Status missing =
      CheckWritableDestination((dir / "no" / "x.bin").string());
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("does not exist"));
  absl::Status directory = CheckWritableDestination(dir.string());
  EXPECT_THAT(directory.message(), HasSubstr("is a directory"));
}

}  // namespace
}  // namespace kiln
