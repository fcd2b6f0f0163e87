// Vector norms (norm_ops.cpp).
#pragma once

#include <optional>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// The vector `ord`-norm of self over `dim` (every element when empty):
// (sum |x|^ord)^(1/ord); ord inf / -inf is the largest / smallest |x|, ord 0
// the count of nonzeros. Floating inputs only (or pass dtype).
SY_API Tensor linalg_vector_norm(const Tensor& self, const Scalar& ord = 2, IntArrayRef dim = {},
                                 bool keepdim = false, std::optional<ScalarType> dtype = {});
// PyTorch's norm: the p-norm of every element, or over `dim` (p absent means 2).
SY_API Tensor norm(const Tensor& self, const Scalar& p = 2);
SY_API Tensor norm(const Tensor& self, const std::optional<Scalar>& p, IntArrayRef dim,
                   bool keepdim = false);

}  // namespace sy
