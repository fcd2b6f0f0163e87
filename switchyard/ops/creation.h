// Tensor factories and fill: empty, zeros, ones, full, ... Factories take sizes
// and TensorOptions (dtype float32 unless set, device cpu); on the meta device
// they make shapes without data.
#pragma once

#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

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

}  // namespace sy
