// Memory budgets: byte counts parse with their suffixes and refuse
// anything else, sizes print for people, sums saturate instead of
// wrapping, and a refusal names the figures.

#include "ad/memory_budget.h"

#include <cstdlib>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(MemoryBudgetTest, ParsesCountsWithSuffixes) {
  EXPECT_EQ(*ParseByteCount("4096"), 4096);
  EXPECT_EQ(*ParseByteCount("3K"), 3 << 10);
  EXPECT_EQ(*ParseByteCount("512m"), int64_t{512} << 20);
  EXPECT_EQ(*ParseByteCount("8G"), int64_t{8} << 30);
  EXPECT_EQ(*ParseByteCount("2T"), int64_t{2} << 40);
}

TEST(MemoryBudgetTest, RefusesWhatIsNotAPositiveCount) {
  for (const char* text : {"", "G", "0", "-5", "1.5G", "12 M", "10Q", "+7",
                           "9223372036854775808", "9000000T"}) {
    absl::StatusOr<int64_t> bytes = ParseByteCount(text);
    ASSERT_FALSE(bytes.ok()) << "'" << text << "' parsed as " << *bytes;
    EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(bytes.status().message(), HasSubstr(absl::StrCat("'", text)));
  }
}

TEST(MemoryBudgetTest, EnvironmentOverridesTheDefault) {
  ASSERT_EQ(setenv("KILN_MEMORY_BUDGET", "3M", 1), 0);
  EXPECT_EQ(*DefaultMemoryBudget(), 3 << 20);
  EXPECT_EQ(*ResolveMemoryBudget(0), 3 << 20);
  EXPECT_EQ(*ResolveMemoryBudget(100), 100);
  ASSERT_EQ(setenv("KILN_MEMORY_BUDGET", "lots", 1), 0);
  absl::StatusOr<int64_t> bad = DefaultMemoryBudget();
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("KILN_MEMORY_BUDGET"));
  ASSERT_EQ(unsetenv("KILN_MEMORY_BUDGET"), 0);
  // Without it, the machine's memory: more than nothing, less than the
  // whole address space.
  absl::StatusOr<int64_t> machine = DefaultMemoryBudget();
  ASSERT_TRUE(machine.ok()) << machine.status();
  EXPECT_GT(*machine, int64_t{64} << 20);
  EXPECT_LT(*machine, kMax);
}

TEST(MemoryBudgetTest, FormatsSizesForPeople) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(int64_t{12} << 30), "12.0 GiB");
  EXPECT_EQ(FormatBytes(kMax), "8.0 EiB");
}

TEST(MemoryBudgetTest, SumsSaturate) {
  EXPECT_EQ(SaturatingAdd(2, 3), 5);
  EXPECT_EQ(SaturatingAdd(kMax - 1, 1), kMax);
  EXPECT_EQ(SaturatingAdd(kMax, kMax), kMax);
}

TEST(MemoryBudgetTest, RefusalNamesNeedBudgetAndLargestBuffer) {
  EXPECT_TRUE(CheckMemoryBudget("p", 100, 100, {}).ok());
  absl::Status refused = CheckMemoryBudget(
      "the test program", int64_t{3} << 30, int64_t{1} << 30,
      {int64_t{2} << 30, "matmul f64[16384,16384] (at model.cc:7)"});
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(),
              HasSubstr("the test program needs 3.0 GiB (3221225472 bytes)"));
  EXPECT_THAT(refused.message(), HasSubstr("budget of 1.0 GiB"));
  EXPECT_THAT(refused.message(),
              HasSubstr("matmul f64[16384,16384] (at model.cc:7), 2.0 GiB"));

  absl::Status uncountable = CheckMemoryBudget("p", kMax, 1 << 30, {});
  EXPECT_THAT(uncountable.message(), HasSubstr("more than 8 EiB"));
}

}  // namespace
}  // namespace kiln
