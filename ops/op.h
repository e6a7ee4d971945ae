// OpKind and OpInfo: what the op table says about each op.
//
// The enum, the names and the per-op dispatch are generated from
// ops/op_table.def; nothing here lists ops by hand.
//
//   const OpInfo& info = GetOpInfo(OpKind::kMatMul);
//   info.name;   // "matmul"
//   info.arity;  // 2

#ifndef KILN_OPS_OP_H_
#define KILN_OPS_OP_H_

#include <optional>
#include <span>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ops/attributes.h"
#include "ops/shape.h"
#include "ops/tensor.h"

namespace kiln {

enum class OpKind {
#define KILN_OP(id, name, arity, op_class, shape_rule, kernel, backward) k##id,
#include "ops/op_table.def"
#undef KILN_OP
};

inline constexpr int kNumOpKinds = 0
#define KILN_OP(id, name, arity, op_class, shape_rule, kernel, backward) +1
#include "ops/op_table.def"
#undef KILN_OP
    ;

// How code generation treats an op.
enum class OpClass {
  kLeaf,         // No inputs: fed, or fixed in the graph.
  kElementwise,  // Output element i depends only on input elements i.
  kLayout,       // Moves or repeats values without arithmetic.
  kContraction,  // Matrix product.
  kReduction,    // Combines the elements along one axis.
  kRowwise,      // Normalises each row (last axis) using the whole row.
  kLoss,         // Reduces [rows, columns] inputs to a scalar mean over rows.
};

// Computes the result shape from the input shapes, or explains why the inputs
// are unacceptable. Messages name the offending shapes; the caller adds the
// op's name and the source location.
using ShapeRule = absl::StatusOr<Shape> (*)(std::span<const Shape> inputs,
                                            const Attributes& attributes);

// Computes `output`, already allocated with the shape and dtype the shape
// rule gave. Inputs have been validated by the shape rule.
using Kernel = void (*)(std::span<const Tensor* const> inputs,
                        const Attributes& attributes, Tensor& output);

struct OpInfo {
  OpKind kind;
  absl::string_view name;
  int arity;
  OpClass op_class;
  ShapeRule shape_rule;
  Kernel kernel;
};

const OpInfo& GetOpInfo(OpKind kind);

// Every row of the op table, in table order.
std::span<const OpInfo> AllOps();

inline absl::string_view OpName(OpKind kind) { return GetOpInfo(kind).name; }

// The op called `name`, if any.
std::optional<OpKind> OpKindFromName(absl::string_view name);

inline bool IsElementwise(OpKind kind) {
  return GetOpInfo(kind).op_class == OpClass::kElementwise;
}

}  // namespace kiln

#endif  // KILN_OPS_OP_H_
