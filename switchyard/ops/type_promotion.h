// Type promotion: the dtype an op computes in when its operands differ, as
// NumPy and PyTorch users expect. docs/ops.md has the table.
//
// The dtypes form a chain, bool < uint8 < int32 < int64 < {float16, bfloat16} <
// float32 < float64, so promoting two dtypes takes the later one; float16 and
// bfloat16 side by side promote to float32 (neither holds the other). Operands are ranked in three
// tiers: tensors with dimensions, zero-dimensional tensors, and Scalars. A
// lower tier changes the result only when it belongs to a higher category
// (bool < integral < floating): int32 tensor + 2.5 is float32, but
// float32 tensor + float64 zero-dim tensor stays float32, and uint8 tensor + 300
// stays uint8. A Scalar that raises the category brings its category's default
// dtype (float32 for a floating scalar, int64 for an integral one).
#pragma once

#include <optional>
#include <string_view>

#include "switchyard/core/error.h"
#include "switchyard/core/export.h"
#include "switchyard/tensor/array_ref.h"
#include "switchyard/tensor/scalar.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// A dtype's place in the chain above.
constexpr int promotion_rank(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return 0;
    case ScalarType::UInt8: return 1;
    case ScalarType::Int32: return 2;
    case ScalarType::Int64: return 3;
    case ScalarType::Float16:
    case ScalarType::BFloat16: return 4;
    case ScalarType::Float32: return 5;
    case ScalarType::Float64: return 6;
  }
  return 0;
}

// The smallest dtype both `a` and `b` convert to without losing category.
constexpr ScalarType promote_types(ScalarType a, ScalarType b) {
  if (a != b && is_reduced_float(a) && is_reduced_float(b)) return kFloat32;
  return promotion_rank(a) >= promotion_rank(b) ? a : b;
}

// The dtype an elementwise op over these operands computes in.
SY_API ScalarType result_type(const Tensor& a, const Tensor& b);
SY_API ScalarType result_type(const Tensor& a, const Scalar& b);
SY_API ScalarType result_type(ArrayRef<Tensor> tensors, ArrayRef<Scalar> scalars = {});

// Accumulates operands one at a time; result() applies the tier rules above.
class SY_API ResultTypeState {
 public:
  void add(const Tensor& t);
  void add(const Scalar& s);
  // float32 when nothing was added.
  ScalarType result() const;

 private:
  std::optional<ScalarType> dim_result_;
  std::optional<ScalarType> zero_dim_result_;
  std::optional<ScalarType> scalar_result_;
};

// The dtype a floating result of `t` gets: t itself when floating, else float32
// (int / int is float32, as in PyTorch).
constexpr ScalarType to_floating(ScalarType t) { return is_floating_point(t) ? t : kFloat32; }

// Whether a value of dtype `from` can be written into `to` without a category
// loss (float into int, or int into bool, cannot): the rule in-place ops and
// out= arguments follow.
constexpr bool can_cast(ScalarType from, ScalarType to) {
  if (is_floating_point(from)) return is_floating_point(to);
  if (is_integral(from, /*include_bool=*/false)) return to != kBool;
  return true;
}

namespace detail {

// Throws a ValueError when `value` (the argument `what` of `op`) cannot be
// converted to `dtype` without overflow, by Scalar::overflows (PyTorch's rule
// for checked conversions: fill values, clamp bounds, integer exponents).
inline void check_scalar_fits(std::string_view op, std::string_view what, const Scalar& value,
                              ScalarType dtype) {
  SY_CHECK(!value.overflows(dtype), ValueError,
           "{}: {} {} cannot be converted to {} without overflow", op, what, value.str(),
           to_string(dtype));
}

}  // namespace detail

}  // namespace sy
