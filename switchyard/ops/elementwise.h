// Elementwise ops: arithmetic, comparisons, logic and unary math, with
// broadcasting and type promotion (docs/ops.md has the promotion table).
//
// Binary ops broadcast their operands and compute in result_type(a, b);
// comparisons and logical ops return bool; true division and the float
// functions (exp, sqrt, ...) of integer inputs compute in float32. In-place
// variants (name ending in '_') write into self, whose shape must be the
// broadcast shape and whose dtype must hold the result (sy::can_cast); `_out`
// variants write into `out` the same way. Scalar arguments take part in
// promotion as Scalars (int32 tensor + 2.5 is float32; uint8 tensor + 300 is uint8).
// The ops' functions are generated from the op table (binary_ops.yaml,
// unary_ops.yaml; docs/op-table.md); this header adds what is not an op.
#pragma once

#include "switchyard/core/export.h"
#include "switchyard/ops/generated/functions.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// The shape two shapes broadcast to; a ValueError naming both when they cannot.
SY_API DimVector broadcast_shapes(IntArrayRef a, IntArrayRef b);

// Operators, as in PyTorch's C++ API: each calls the op of the same meaning.
SY_API Tensor operator+(const Tensor& a, const Tensor& b);
SY_API Tensor operator+(const Tensor& a, const Scalar& b);
SY_API Tensor operator+(const Scalar& a, const Tensor& b);
SY_API Tensor operator-(const Tensor& a, const Tensor& b);
SY_API Tensor operator-(const Tensor& a, const Scalar& b);
SY_API Tensor operator-(const Scalar& a, const Tensor& b);
SY_API Tensor operator*(const Tensor& a, const Tensor& b);
SY_API Tensor operator*(const Tensor& a, const Scalar& b);
SY_API Tensor operator*(const Scalar& a, const Tensor& b);
SY_API Tensor operator/(const Tensor& a, const Tensor& b);
SY_API Tensor operator/(const Tensor& a, const Scalar& b);
SY_API Tensor operator/(const Scalar& a, const Tensor& b);
SY_API Tensor operator-(const Tensor& a);

}  // namespace sy
