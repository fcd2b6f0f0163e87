// Truth and closeness: any, all, isclose, allclose (logic_ops.cpp); where with
// number branches and clamp with tensor bounds (conditional_ops.cpp).
#pragma once

#include <optional>
#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// Whether any / every element is nonzero (NaN counts), over everything or
// along `dim`: bool results, uint8 for uint8 inputs (as in PyTorch).
SY_API Tensor any(const Tensor& self);
SY_API Tensor any(const Tensor& self, int64_t dim, bool keepdim = false);
SY_API Tensor all(const Tensor& self);
SY_API Tensor all(const Tensor& self, int64_t dim, bool keepdim = false);

// Elementwise |self - other| <= atol + rtol * |other| (or equal; NaNs equal only
// with equal_nan), broadcast; self and other must have one dtype. allclose is
// whether that holds everywhere.
SY_API Tensor isclose(const Tensor& self, const Tensor& other, double rtol = 1e-05,
                      double atol = 1e-08, bool equal_nan = false);
SY_API bool allclose(const Tensor& self, const Tensor& other, double rtol = 1e-05,
                     double atol = 1e-08, bool equal_nan = false);

// where with number branches, which take part in promotion as Scalars:
// where(c, int_tensor, 0.5) is float32, where(c, 1, 0) int64, where(c, 1.0, 0.0) float32.
SY_API Tensor where(const Tensor& condition, const Scalar& self, const Tensor& other);
SY_API Tensor where(const Tensor& condition, const Tensor& self, const Scalar& other);
SY_API Tensor where(const Tensor& condition, const Scalar& self, const Scalar& other);
// The coordinates of condition's true elements: one 1-d tensor per dim.
SY_API std::vector<Tensor> where(const Tensor& condition);
// self limited by tensors (broadcast; either may be absent): minimum(maximum(self,
// min), max), in the promoted dtype; NaN in any operand gives NaN.
SY_API Tensor clamp(const Tensor& self, const std::optional<Tensor>& min,
                    const std::optional<Tensor>& max = {});

}  // namespace sy
