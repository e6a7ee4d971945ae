// KernelProfile turns the nanoseconds recorded over several runs into mean
// microseconds per run, per part and kernel, and prints them as a table
// naming every kernel.

#include "jit/kernel_profile.h"

#include "gtest/gtest.h"

namespace kiln::jit {
namespace {

TEST(KernelProfileTest, MeansAreMicrosecondsPerRun) {
  KernelProfile profile({"k0_matmul", "k1_add"}, /*num_parts=*/2);
  for (int run = 0; run < 4; ++run) {
    profile.AddKernel(0, 1, 3000);
    profile.AddWait(1, 0, 500);
    profile.AddFinalWait(0, 1000);
    profile.AddRun();
  }
  EXPECT_EQ(profile.runs(), 4);
  EXPECT_DOUBLE_EQ(profile.KernelMicros(0, 1), 3.0);
  EXPECT_DOUBLE_EQ(profile.KernelMicros(1, 1), 0.0);
  EXPECT_DOUBLE_EQ(profile.WaitMicros(1, 0), 0.5);
  EXPECT_DOUBLE_EQ(profile.FinalWaitMicros(0), 1.0);
  EXPECT_DOUBLE_EQ(profile.JoinedFraction(0), 1.0);
  EXPECT_DOUBLE_EQ(profile.JoinedFraction(1), 0.0)
      << "part 1 recorded no final wait, so it joined no run";
}

TEST(KernelProfileTest, TableNamesEveryKernelAndTheTotals) {
  KernelProfile profile({"k0_matmul_sigmoid", "k1_softmax"}, 1);
  profile.AddKernel(0, 0, 12'500);
  profile.AddRun();
  const std::string table = profile.ToString();
  EXPECT_NE(table.find("k0_matmul_sigmoid"), std::string::npos) << table;
  EXPECT_NE(table.find("k1_softmax"), std::string::npos) << table;
  EXPECT_NE(table.find("12.50"), std::string::npos) << table;
  EXPECT_NE(table.find("total"), std::string::npos) << table;
}

TEST(KernelProfileTest, NoRunsGiveZeroMeans) {
  KernelProfile profile({"k0"}, 1);
  profile.AddKernel(0, 0, 1000);
  EXPECT_EQ(profile.KernelMicros(0, 0), 0.0);
}

}  // namespace
}  // namespace kiln::jit
