// RunProgram reports how a program ended: success, a non-zero exit, a
// signal, or a program that is not installed.

#include "models/subprocess.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

TEST(SubprocessTest, SucceedsWhenTheProgramExitsZero) {
  EXPECT_TRUE(RunProgram({"true"}).ok());
  EXPECT_TRUE(RunProgram({"sh", "-c", "exit 0"}).ok());
}

TEST(SubprocessTest, NonZeroExitNamesTheCommandAndStatus) {
  absl::Status status = RunProgram({"sh", "-c", "exit 3"});
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("sh -c exit 3 exited with status 3"));
}

TEST(SubprocessTest, DeathBySignalIsReported) {
  absl::Status status = RunProgram({"sh", "-c", "kill -9 $$"});
  EXPECT_THAT(status.message(), HasSubstr("died from signal 9"));
}

TEST(SubprocessTest, MissingProgramIsNotFound) {
  absl::Status status = RunProgram({"kiln-no-such-program", "x"});
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("kiln-no-such-program is not "
                                          "installed"));
}

}  // namespace
}  // namespace kiln
