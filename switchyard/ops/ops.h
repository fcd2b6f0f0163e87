// The built-in ops, as free functions that go through the dispatcher. Each is
// defined in namespace `sy` of the schema language ("sy::add.Tensor") with CPU
// and Meta kernels; docs/ops.md lists them. This is the foundation's small set;
// the full operator set builds on it.
#pragma once

#include <optional>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// Uninitialised, zero-filled, one-filled and `value`-filled tensors of `sizes`.
SY_API Tensor empty(IntArrayRef sizes, TensorOptions options = {});
SY_API Tensor zeros(IntArrayRef sizes, TensorOptions options = {});
SY_API Tensor ones(IntArrayRef sizes, TensorOptions options = {});
SY_API Tensor full(IntArrayRef sizes, const Scalar& value, TensorOptions options = {});

// Sets every element of `self` to `value`; returns `self`.
SY_API const Tensor& fill_(const Tensor& self, const Scalar& value);

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
