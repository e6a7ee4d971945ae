// The plot scripts gnuplot runs: paths relative to the report folder, CSV
// headers skipped, matrices drawn upright, and text quoted safely.

#include "models/chapter/gnuplot.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

TEST(GnuplotTest, LinePlotReadsEachSeriesFromItsCsv) {
  LinePanel panel{
      .title = "loss",
      .xlabel = "epoch",
      .ylabel = "sum",
      .series = {{"data/a.csv", 1, 2, "a"}, {"data/b.csv", 1, 4, "b", 2}},
      .log_y = true};
  const std::string script = LinePlotScript("plots/loss.png", {panel});
  EXPECT_THAT(script, HasSubstr("set output \"plots/loss.png\""));
  EXPECT_THAT(script, HasSubstr("pngcairo"));
  EXPECT_THAT(script, HasSubstr("set logscale y"));
  EXPECT_THAT(script, HasSubstr("\"data/a.csv\" skip 1 using 1:2 with lines "
                                "lw 2 title \"a\""));
  EXPECT_THAT(script, HasSubstr("\"data/b.csv\" skip 1 using 1:4 with lines "
                                "lw 2 dt 2 title \"b\""));
  EXPECT_THAT(script, Not(HasSubstr("multiplot")));
}

TEST(GnuplotTest, SeveralPanelsShareOnePicture) {
  LinePanel panel{.title = "t", .series = {{"data/a.csv", 1, 2, "a"}}};
  const std::string script = LinePlotScript("plots/two.png", {panel, panel});
  EXPECT_THAT(script, HasSubstr("set multiplot layout 1,2"));
  EXPECT_THAT(script, HasSubstr("unset multiplot"));
}

TEST(GnuplotTest, MontageDrawsRowZeroAtTheTop) {
  Montage montage{.title = "digits",
                  .columns = 2,
                  .panels = {{"data/d.csv", 0, "5"},
                             {"data/d.csv", 1, "0"},
                             {"data/d.csv", 2, "4"}}};
  const std::string script = MontageScript("plots/d.png", montage);
  EXPECT_THAT(script, HasSubstr("set yrange [27.5:-0.5]"));
  EXPECT_THAT(script, HasSubstr("set multiplot layout 2,2"));
  EXPECT_THAT(script, HasSubstr("plot \"data/d.csv\" index 2 matrix with "
                                "image"));
  EXPECT_THAT(script, HasSubstr("set title \"4\""));
}

TEST(GnuplotTest, QuotesEscapeQuotesAndBackslashes) {
  EXPECT_EQ(GnuplotQuote("a \"b\" c\\d"), "\"a \\\"b\\\" c\\\\d\"");
}

}  // namespace
}  // namespace kiln
