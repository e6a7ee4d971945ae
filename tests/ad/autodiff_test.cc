// Autodiff keeps working however the graph's node list grows while
// gradients are being built.

#include "ad/autodiff.h"

#include <vector>

#include "ad/builder.h"
#include "gtest/gtest.h"
#include "tests/ad/test_util.h"

namespace kiln {
namespace {

// The gradient of a broadcast sums over the broadcast axes, adding a node
// per axis. The shape it sums to belongs to a node of the same graph, so
// each added node may move the storage that shape lives in; with every
// count of nodes before it, one of those additions does. Run under
// AddressSanitizer, a rule that held on to the shape by reference fails
// here.
TEST(AutodiffTest, BroadcastGradientSurvivesTheGraphGrowingUnderIt) {
  for (int filler = 0; filler < 40; ++filler) {
    Graph g;
    for (int i = 0; i < filler; ++i) g.Fill(1.0, {1}, kF64);
    Node x = g.Input("x", {1, 3}, kF64);
    Node loss = SumAll(BroadcastTo(x, {2, 4, 3}));
    Node dx = Grad(loss, {x})[x];
    ASSERT_TRUE(g.status().ok()) << g.status();
    ASSERT_EQ(dx.shape(), (Shape{1, 3}));
    const Tensor gradient = testing::RunOne(
        g, dx, {{"x", Tensor::FromValues<double>({1, 3}, {1, 2, 3})}});
    EXPECT_EQ(gradient.ToDoubles(), (std::vector<double>{8, 8, 8}))
        << filler << " nodes before";
  }
}

}  // namespace
}  // namespace kiln
