// Runs with KILN_VERBOSE=2 (see BUILD.bazel), the level that logs each pass
// and dumps the graph after it.

#include <string>

#include "ad/builder.h"
#include "ad/graph.h"
#include "ad/passes/pipeline.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/base/logging.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

TEST(PipelineLoggingTest, LogsEachPassAndDumpsTheGraph) {
  ASSERT_EQ(Verbosity(), 2);
  Graph g;
  Node x = g.Input("x", {4, 3}, kF64);
  g.AddOutput(Exp(x) * 1.0);

  ::testing::internal::CaptureStderr();
  RunPasses(g);
  const std::string log = ::testing::internal::GetCapturedStderr();

  EXPECT_THAT(log, HasSubstr("kiln: round 1: algebraic_simplification "
                             "changed the graph ("));
  EXPECT_THAT(log, HasSubstr("kiln: round 2: dead_code_elimination no change"));
  EXPECT_THAT(log, HasSubstr("graph after fuse_softmax:\n"));
  EXPECT_THAT(log, HasSubstr("= exp(%0) : f64[4,3]\n"));
}

}  // namespace
}  // namespace kiln
