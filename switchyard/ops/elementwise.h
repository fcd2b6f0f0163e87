// Elementwise ops: arithmetic, comparisons, logic and unary math, with
// broadcasting and type promotion (docs/ops.md has the promotion table).
#pragma once

#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// self + alpha * other, broadcasting the two shapes. Both must have one dtype.
SY_API Tensor add(const Tensor& self, const Tensor& other, const Scalar& alpha = 1);
// In place: self += alpha * other; other must broadcast to self's shape.
SY_API const Tensor& add_(const Tensor& self, const Tensor& other, const Scalar& alpha = 1);
// Into `out`, which must already have the broadcast shape and the dtype.
SY_API const Tensor& add_out(const Tensor& out, const Tensor& self, const Tensor& other,
                             const Scalar& alpha = 1);

// The shape two shapes broadcast to; a ValueError naming both when they cannot.
SY_API DimVector broadcast_shapes(IntArrayRef a, IntArrayRef b);

}  // namespace sy
