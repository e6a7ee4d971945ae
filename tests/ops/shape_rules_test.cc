// Tests of the shape rules: the shapes they accept, what they give, and the
// status code and message of what they reject.

#include "ops/shape_rules.h"

#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/attributes.h"
#include "ops/shape.h"

namespace kiln {
namespace {

using ::testing::HasSubstr;

using Rule = absl::StatusOr<Shape> (*)(std::span<const Shape>,
                                       const Attributes&);

absl::StatusOr<Shape> Apply(Rule rule, std::vector<Shape> inputs,
                            const Attributes& attributes = {}) {
  return rule(inputs, attributes);
}

// Checks that `result` is an InvalidArgument error whose message contains
// every one of `parts`.
void ExpectInvalid(const absl::StatusOr<Shape>& result,
                   std::vector<std::string> parts) {
  ASSERT_FALSE(result.ok()) << "unexpectedly gave " << ShapeToString(*result);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  for (const std::string& part : parts) {
    EXPECT_THAT(std::string(result.status().message()), HasSubstr(part));
  }
}

Attributes WithShape(Shape shape) {
  Attributes attributes;
  attributes.shape = std::move(shape);
  return attributes;
}

Attributes WithAxis(int axis, bool keepdims) {
  Attributes attributes;
  attributes.axis = axis;
  attributes.keepdims = keepdims;
  return attributes;
}

TEST(ShapeRulesTest, LeafShapeIsTheShapeAttribute) {
  EXPECT_EQ(*Apply(LeafShape, {}, WithShape({2, 3})), Shape({2, 3}));
  EXPECT_EQ(*Apply(LeafShape, {}, WithShape({})), Shape({}));
}

TEST(ShapeRulesTest, LeafShapeRejectsInvalidShapes) {
  ExpectInvalid(Apply(LeafShape, {}, WithShape({2, 0})),
                {"[2,0]", "not positive"});
  ExpectInvalid(Apply(LeafShape, {}, WithShape({1 << 30, 1 << 30, 1 << 30})),
                {"[1073741824,1073741824,1073741824]", "more elements"});
}

TEST(ShapeRulesTest, SameShapesAcceptsEqualShapes) {
  EXPECT_EQ(*Apply(SameShapes, {{2, 3}, {2, 3}, {2, 3}}), Shape({2, 3}));
  EXPECT_EQ(*Apply(SameShapes, {{4}}), Shape({4}));
}

TEST(ShapeRulesTest, SameShapesNamesBothShapesWhenTheyDiffer) {
  ExpectInvalid(Apply(SameShapes, {{2, 3}, {3, 2}}),
                {"shapes [2,3] and [3,2] differ"});
  ExpectInvalid(Apply(SameShapes, {{2}, {2}, {1, 2}}),
                {"shapes [2] and [1,2] differ"});
}

TEST(ShapeRulesTest, TransposeShapePermutesDimensions) {
  Attributes attributes;
  attributes.permutation = {2, 0, 1};
  EXPECT_EQ(*Apply(TransposeShape, {{2, 3, 4}}, attributes), Shape({4, 2, 3}));
  attributes.permutation = {};
  EXPECT_EQ(*Apply(TransposeShape, {{}}, attributes), Shape({}));
}

TEST(ShapeRulesTest, TransposeShapeRejectsWhatIsNotAPermutation) {
  Attributes attributes;
  attributes.permutation = {0, 0};
  ExpectInvalid(Apply(TransposeShape, {{2, 3}}, attributes),
                {"[0,0] is not a permutation of the axes of shape [2,3]"});
  attributes.permutation = {1, 0};
  ExpectInvalid(Apply(TransposeShape, {{2, 3, 4}}, attributes),
                {"[1,0]", "[2,3,4]"});
  attributes.permutation = {0, 2};
  ExpectInvalid(Apply(TransposeShape, {{2, 3}}, attributes), {"[0,2]"});
}

TEST(ShapeRulesTest, ReshapeShapeKeepsTheElementCount) {
  EXPECT_EQ(*Apply(ReshapeShape, {{2, 3}}, WithShape({3, 2})), Shape({3, 2}));
  EXPECT_EQ(*Apply(ReshapeShape, {{1, 1}}, WithShape({})), Shape({}));
}

TEST(ShapeRulesTest, ReshapeShapeNamesBothCountsWhenTheyDiffer) {
  ExpectInvalid(Apply(ReshapeShape, {{2, 3}}, WithShape({4, 2})),
                {"cannot reshape [2,3] (6 elements) to [4,2] (8 elements)"});
  ExpectInvalid(Apply(ReshapeShape, {{2}}, WithShape({-1, -2})), {"[-1,-2]"});
}

TEST(ShapeRulesTest, BroadcastShapeAcceptsNumPyCompatibleTargets) {
  EXPECT_EQ(*Apply(BroadcastShape, {{3, 1}}, WithShape({2, 3, 4})),
            Shape({2, 3, 4}));
  EXPECT_EQ(*Apply(BroadcastShape, {{}}, WithShape({5})), Shape({5}));
}

TEST(ShapeRulesTest, BroadcastShapeRejectsIncompatibleOrShrinkingTargets) {
  ExpectInvalid(Apply(BroadcastShape, {{3, 2}}, WithShape({2, 3, 4})),
                {"shape [3,2] does not broadcast to [2,3,4]"});
  // [2,3] and [1,3] are compatible, but broadcasting never shrinks.
  ExpectInvalid(Apply(BroadcastShape, {{2, 3}}, WithShape({1, 3})),
                {"shape [2,3] does not broadcast to [1,3]"});
  ExpectInvalid(Apply(BroadcastShape, {{2, 3}}, WithShape({3})),
                {"[2,3]", "[3]"});
}

TEST(ShapeRulesTest, OneHotShapeAppendsTheClassCount) {
  Attributes attributes;
  attributes.num_classes = 10;
  EXPECT_EQ(*Apply(OneHotShape, {{4}}, attributes), Shape({4, 10}));
  EXPECT_EQ(*Apply(OneHotShape, {{}}, attributes), Shape({10}));
}

TEST(ShapeRulesTest, OneHotShapeNeedsAtLeastOneClass) {
  Attributes attributes;
  attributes.num_classes = 0;
  ExpectInvalid(Apply(OneHotShape, {{4}}, attributes),
                {"needs at least one class, got 0"});
}

TEST(ShapeRulesTest, MatMulShapeIsOuterDimensions) {
  EXPECT_EQ(*Apply(MatMulShape, {{2, 3}, {3, 5}}), Shape({2, 5}));
}

TEST(ShapeRulesTest, MatMulShapeNamesTheShapesItRejects) {
  ExpectInvalid(Apply(MatMulShape, {{2, 3}, {4, 5}}),
                {"inner dimensions differ: [2,3] and [4,5]"});
  ExpectInvalid(Apply(MatMulShape, {{2, 3, 4}, {4, 5}}),
                {"needs two matrices, got shapes [2,3,4] and [4,5]"});
  ExpectInvalid(Apply(MatMulShape, {{3}, {3}}), {"[3] and [3]"});
}

TEST(ShapeRulesTest, ReduceShapeRemovesOrKeepsTheAxis) {
  EXPECT_EQ(*Apply(ReduceShape, {{2, 3, 4}}, WithAxis(1, false)),
            Shape({2, 4}));
  EXPECT_EQ(*Apply(ReduceShape, {{2, 3, 4}}, WithAxis(1, true)),
            Shape({2, 1, 4}));
  EXPECT_EQ(*Apply(ReduceShape, {{5}}, WithAxis(0, false)), Shape({}));
}

TEST(ShapeRulesTest, ReduceShapeRejectsScalarsAndOutOfRangeAxes) {
  ExpectInvalid(Apply(ReduceShape, {{}}, WithAxis(0, false)),
                {"needs rank at least 1, got shape []"});
  ExpectInvalid(Apply(ReduceShape, {{2, 3}}, WithAxis(2, false)),
                {"axis 2 is out of range for rank 2"});
}

TEST(ShapeRulesTest, RowwiseShapeKeepsTheShape) {
  EXPECT_EQ(*Apply(RowwiseShape, {{2, 3}}), Shape({2, 3}));
  EXPECT_EQ(*Apply(RowwiseShape, {{7}}), Shape({7}));
  ExpectInvalid(Apply(RowwiseShape, {{}}),
                {"needs rank at least 1, got shape []"});
}

TEST(ShapeRulesTest, LossShapeIsAScalar) {
  EXPECT_EQ(*Apply(LossShape, {{8, 10}, {8, 10}}), Shape({}));
  EXPECT_EQ(*Apply(LossShape, {{2, 4, 3}, {2, 4, 3}}), Shape({}));
}

TEST(ShapeRulesTest, LossShapeRejectsScalarsAndMismatchedInputs) {
  ExpectInvalid(Apply(LossShape, {{}, {}}),
                {"needs rank at least 1, got shape []"});
  ExpectInvalid(Apply(LossShape, {{8, 10}, {8, 1}}),
                {"shapes [8,10] and [8,1] differ"});
}

}  // namespace
}  // namespace kiln
