// The flag parser: --name=value, plain --name for boolean flags, presets
// that explicit flags override, and clear refusals.

#include "models/command_line.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

CommandLine Flags() {
  return CommandLine({{"epochs", "10", "epochs"},
                      {"quiet", "false", "no progress", /*boolean=*/true}});
}

absl::Status Parse(CommandLine& flags, std::vector<const char*> args) {
  args.insert(args.begin(), "program");
  return flags.Parse(static_cast<int>(args.size()), args.data());
}

TEST(CommandLineTest, PlainBooleanFlagMeansTrue) {
  CommandLine flags = Flags();
  ASSERT_TRUE(Parse(flags, {"--quiet"}).ok());
  EXPECT_EQ(*flags.GetBool("quiet"), true);
  CommandLine explicit_false = Flags();
  ASSERT_TRUE(Parse(explicit_false, {"--quiet=false"}).ok());
  EXPECT_EQ(*explicit_false.GetBool("quiet"), false);
}

TEST(CommandLineTest, OtherFlagsStillNeedAValue) {
  CommandLine flags = Flags();
  absl::Status status = Parse(flags, {"--epochs"});
  EXPECT_THAT(status.message(), HasSubstr("--epochs needs a value"));
}

TEST(CommandLineTest, BooleanValuesAreTrueOrFalse) {
  CommandLine flags = Flags();
  ASSERT_TRUE(Parse(flags, {"--quiet=yes"}).ok());
  EXPECT_THAT(flags.GetBool("quiet").status().message(),
              HasSubstr("--quiet=yes is not true or false"));
}

TEST(CommandLineTest, ExplicitFlagsBeatPresets) {
  CommandLine flags = Flags();
  ASSERT_TRUE(Parse(flags, {"--epochs=3"}).ok());
  flags.SetDefault("epochs", "50");
  flags.SetDefault("quiet", "true");
  EXPECT_EQ(*flags.GetInt("epochs"), 3);
  EXPECT_EQ(*flags.GetBool("quiet"), true);
}

}  // namespace
}  // namespace kiln
