// The progress line's text: durations read as a clock, and the ETA is the
// average epoch so far times the epochs left.

#include "models/progress.h"

#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(ProgressTest, DurationsReadAsAClock) {
  EXPECT_EQ(FormatDuration(0), "0:00");
  EXPECT_EQ(FormatDuration(7.4), "0:07");
  EXPECT_EQ(FormatDuration(59.6), "1:00");
  EXPECT_EQ(FormatDuration(754), "12:34");
  EXPECT_EQ(FormatDuration(3723), "1:02:03");
  EXPECT_EQ(FormatDuration(-5), "0:00");
}

TEST(ProgressTest, EtaIsTheAverageEpochTimesTheEpochsLeft) {
  EXPECT_EQ(FormatProgress(3, 10, 6.0, 1.25),
            "epoch 3/10  elapsed 0:06  eta 0:14  loss 1.250");
  EXPECT_EQ(FormatProgress(10, 10, 20.0, 0.5),
            "epoch 10/10  elapsed 0:20  eta 0:00  loss 0.500");
  EXPECT_EQ(FormatProgress(200, 2000, 60.0, 123.4567),
            "epoch 200/2000  elapsed 1:00  eta 9:00  loss 123.457");
}

TEST(ProgressTest, NoEtaBeforeTheFirstEpoch) {
  EXPECT_EQ(FormatProgress(0, 5, 0.0, 0.0),
            "epoch 0/5  elapsed 0:00  eta 0:00  loss 0.000");
}

}  // namespace
}  // namespace kiln
