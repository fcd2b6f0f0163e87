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
#pragma once

#include <optional>
#include <string_view>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// The shape two shapes broadcast to; a ValueError naming both when they cannot.
SY_API DimVector broadcast_shapes(IntArrayRef a, IntArrayRef b);

// self + alpha * other, and self - alpha * other.
SY_API Tensor add(const Tensor& self, const Tensor& other, const Scalar& alpha = 1);
SY_API Tensor add(const Tensor& self, const Scalar& other, const Scalar& alpha = 1);
SY_API const Tensor& add_(const Tensor& self, const Tensor& other, const Scalar& alpha = 1);
SY_API const Tensor& add_out(const Tensor& out, const Tensor& self, const Tensor& other,
                             const Scalar& alpha = 1);
SY_API Tensor sub(const Tensor& self, const Tensor& other, const Scalar& alpha = 1);
SY_API Tensor sub(const Tensor& self, const Scalar& other, const Scalar& alpha = 1);
SY_API const Tensor& sub_(const Tensor& self, const Tensor& other, const Scalar& alpha = 1);
SY_API const Tensor& sub_out(const Tensor& out, const Tensor& self, const Tensor& other,
                             const Scalar& alpha = 1);
SY_API Tensor mul(const Tensor& self, const Tensor& other);
SY_API Tensor mul(const Tensor& self, const Scalar& other);
SY_API const Tensor& mul_(const Tensor& self, const Tensor& other);
SY_API const Tensor& mul_out(const Tensor& out, const Tensor& self, const Tensor& other);
// True division (float result); rounding_mode "trunc" or "floor" rounds the
// quotient and keeps integer dtypes (integer division by zero is an error).
SY_API Tensor div(const Tensor& self, const Tensor& other,
                  std::optional<std::string_view> rounding_mode = {});
SY_API Tensor div(const Tensor& self, const Scalar& other,
                  std::optional<std::string_view> rounding_mode = {});
SY_API const Tensor& div_(const Tensor& self, const Tensor& other,
                          std::optional<std::string_view> rounding_mode = {});
SY_API const Tensor& div_out(const Tensor& out, const Tensor& self, const Tensor& other,
                             std::optional<std::string_view> rounding_mode = {});
// div(self, other, "floor").
SY_API Tensor floor_divide(const Tensor& self, const Tensor& other);
SY_API Tensor floor_divide(const Tensor& self, const Scalar& other);
// Python's %: the result has the sign of the divisor.
SY_API Tensor remainder(const Tensor& self, const Tensor& other);
SY_API Tensor remainder(const Tensor& self, const Scalar& other);
SY_API Tensor pow(const Tensor& self, const Tensor& exponent);
SY_API Tensor pow(const Tensor& self, const Scalar& exponent);
SY_API Tensor pow(const Scalar& self, const Tensor& exponent);
// Elementwise larger / smaller; NaN wins.
SY_API Tensor maximum(const Tensor& self, const Tensor& other);
SY_API Tensor minimum(const Tensor& self, const Tensor& other);
// self limited to [min, max] (either may be absent); NaN stays NaN.
SY_API Tensor clamp(const Tensor& self, const std::optional<Scalar>& min,
                    const std::optional<Scalar>& max = {});
// self where condition (a bool tensor) holds, other elsewhere; all three broadcast.
SY_API Tensor where(const Tensor& condition, const Tensor& self, const Tensor& other);

// Comparisons (bool results).
SY_API Tensor eq(const Tensor& self, const Tensor& other);
SY_API Tensor eq(const Tensor& self, const Scalar& other);
SY_API Tensor ne(const Tensor& self, const Tensor& other);
SY_API Tensor ne(const Tensor& self, const Scalar& other);
SY_API Tensor lt(const Tensor& self, const Tensor& other);
SY_API Tensor lt(const Tensor& self, const Scalar& other);
SY_API Tensor le(const Tensor& self, const Tensor& other);
SY_API Tensor le(const Tensor& self, const Scalar& other);
SY_API Tensor gt(const Tensor& self, const Tensor& other);
SY_API Tensor gt(const Tensor& self, const Scalar& other);
SY_API Tensor ge(const Tensor& self, const Tensor& other);
SY_API Tensor ge(const Tensor& self, const Scalar& other);
// Logic on truth values (nonzero is true); bool results.
SY_API Tensor logical_and(const Tensor& self, const Tensor& other);
SY_API Tensor logical_or(const Tensor& self, const Tensor& other);
SY_API Tensor logical_not(const Tensor& self);

// Unary math. neg and abs keep the dtype (neg of bool is an error); the others
// compute in float32 for integer inputs. gelu's approximate is "none" (erf) or "tanh".
SY_API Tensor neg(const Tensor& self);
SY_API Tensor abs(const Tensor& self);
SY_API Tensor exp(const Tensor& self);
SY_API Tensor log(const Tensor& self);
SY_API Tensor sqrt(const Tensor& self);
SY_API Tensor rsqrt(const Tensor& self);
SY_API Tensor sin(const Tensor& self);
SY_API Tensor cos(const Tensor& self);
SY_API Tensor tanh(const Tensor& self);
SY_API Tensor sigmoid(const Tensor& self);
SY_API Tensor relu(const Tensor& self);
SY_API Tensor gelu(const Tensor& self, std::string_view approximate = "none");

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
