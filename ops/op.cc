#include "ops/op.h"

#include "ops/kernels.h"
#include "ops/shape_rules.h"

namespace kiln {
namespace {

constexpr OpInfo kOpTable[] = {
#define KILN_OP(id, name, arity, op_class, shape_rule, kernel, backward) \
  {OpKind::k##id, name, arity, OpClass::op_class, &shape_rule, &kernel},
#include "ops/op_table.def"
#undef KILN_OP
};

static_assert(std::size(kOpTable) == kNumOpKinds);

}  // namespace

const OpInfo& GetOpInfo(OpKind kind) {
  const int index = static_cast<int>(kind);
  KILN_CHECK(index >= 0 && index < kNumOpKinds) << "op kind " << index;
  return kOpTable[index];
}

std::span<const OpInfo> AllOps() { return kOpTable; }

std::optional<OpKind> OpKindFromName(absl::string_view name) {
  for (const OpInfo& info : kOpTable) {
    if (info.name == name) return info.kind;
  }
  return std::nullopt;
}

}  // namespace kiln
