// Reference kernels: one plain, correct implementation of every op.
//
// The interpreter runs graphs with these, and the JIT is checked against
// them. They favour clarity but are not made slow on purpose: loops run over
// contiguous memory in row-major order, and matmul uses the cache-friendly
// i-k-j order.
//
// Each kernel has the signature of kiln::Kernel (ops/op.h): it reads inputs
// already validated by the op's shape rule and writes every element of
// `output`, which arrives allocated with the right shape and dtype.
//
// Definitions of losses, for inputs of shape [rows..., C] with N rows (the
// product of all but the last dimension):
//   HalfMse(p, y)             = 1/(2N) Σ (p − y)²
//   SigmoidCrossEntropy(s, y) = 1/N Σ −y log σ(s) − (1 − y) log(1 − σ(s))
//   SoftmaxCrossEntropy(s, y) = 1/N Σ_rows −Σ_c y_c log softmax(s)_c
//   Accuracy(s, y)            = 1/N #{rows where argmax s = argmax y}

#ifndef KILN_OPS_KERNELS_H_
#define KILN_OPS_KERNELS_H_

#include <span>

#include "ops/attributes.h"
#include "ops/tensor.h"

namespace kiln {

#define KILN_OP(id, name, arity, op_class, shape_rule, kernel, backward) \
  void kernel(std::span<const Tensor* const> inputs,                     \
              const Attributes& attributes, Tensor& output);
#include "ops/op_table.def"
#undef KILN_OP

}  // namespace kiln

#endif  // KILN_OPS_KERNELS_H_
