// where with number branches, where(condition), clamp with tensor bounds,
// clamp_min / clamp_max / clip, max and min of two tensors, isclose and
// allclose (conditional_ops.yaml). The where and clamp overloads
// are composites: the number branches become zero-dim tensors of the promoted
// dtype (so promotion is where.self's), and clamp with tensors is
// minimum(maximum(self, min), max), which propagates NaN from every operand as
// PyTorch's clamp does. isclose has one kernel serving CPU and Meta.
#include <cmath>

#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::scalar_tensor;

// As in PyTorch, a Scalar branch that does not fit the result's dtype is an error.
Tensor where_scalar_self(const Tensor& cond, const Scalar& self, const Tensor& other) {
  const ScalarType t = result_type(other, self);
  detail::check_scalar_fits("where", "self", self, t);
  return where(cond, scalar_tensor(self, t), other);
}
Tensor where_scalar_other(const Tensor& cond, const Tensor& self, const Scalar& other) {
  const ScalarType t = result_type(self, other);
  detail::check_scalar_fits("where", "other", other, t);
  return where(cond, self, scalar_tensor(other, t));
}
Tensor where_scalars(const Tensor& cond, const Scalar& self, const Scalar& other) {
  const Scalar both[] = {self, other};
  const ScalarType t = result_type(ArrayRef<Tensor>(), ArrayRef<Scalar>(both, 2));
  return where(cond, scalar_tensor(self, t), scalar_tensor(other, t));
}
// The coordinates of condition's true elements, one 1-d tensor per dim.
std::vector<Tensor> where_nonzero(const Tensor& cond) {
  // As in PyTorch, a zero-dim condition counts as one dimension of size 1.
  if (cond.dim() == 0) return where_nonzero(cond.reshape({1}));
  const Tensor nz = nonzero(cond);
  std::vector<Tensor> out;
  for (int64_t d = 0; d < cond.dim(); ++d) out.push_back(select(nz, 1, d));
  return out;
}

Tensor clamp_tensor(const Tensor& self, const std::optional<Tensor>& lo,
                    const std::optional<Tensor>& hi) {
  SY_CHECK(lo || hi, ValueError, "clamp: at least one of min and max must be given");
  Tensor out = lo ? maximum(self, *lo) : self;
  return hi ? minimum(out, *hi) : out;
}
const Tensor& clamp_tensor_i(const Tensor& self, const std::optional<Tensor>& lo,
                             const std::optional<Tensor>& hi) {
  const Tensor r = clamp_tensor(self, lo, hi);
  detail::check_output("clamp_", self, r.sizes(), r.dtype(), true);
  return copy_(self, r);
}
const Tensor& clamp_tensor_o(const Tensor& self, const std::optional<Tensor>& lo,
                             const std::optional<Tensor>& hi, const Tensor& out) {
  const Tensor r = clamp_tensor(self, lo, hi);
  detail::check_output("clamp.Tensor_out", out, r.sizes(), r.dtype(), false);
  return copy_(out, r);
}

Tensor clamp_min_scalar(const Tensor& self, const Scalar& lo) { return clamp(self, lo, {}); }
Tensor clamp_max_scalar(const Tensor& self, const Scalar& hi) { return clamp(self, {}, hi); }
Tensor clamp_min_tensor(const Tensor& self, const Tensor& lo) { return maximum(self, lo); }
Tensor clamp_max_tensor(const Tensor& self, const Tensor& hi) { return minimum(self, hi); }
Tensor clip_scalar(const Tensor& self, const std::optional<Scalar>& lo,
                   const std::optional<Scalar>& hi) {
  return clamp(self, lo, hi);
}
Tensor clip_tensor(const Tensor& self, const std::optional<Tensor>& lo,
                   const std::optional<Tensor>& hi) {
  return clamp(self, lo, hi);
}
Tensor max_other(const Tensor& self, const Tensor& other) { return maximum(self, other); }
Tensor min_other(const Tensor& self, const Tensor& other) { return minimum(self, other); }

// ---- isclose ----------------------------------------------------------------------------------

// |a - b| <= atol + rtol * |b|, or a == b (infinities of one sign), or both NaN
// with equal_nan. Floats compute in their own type, integers in double.
struct IsCloseOp {
  double rtol, atol;
  bool equal_nan;
  template <typename T>
  auto bind() const {
    using C = std::conditional_t<std::is_floating_point_v<T>, T, double>;
    const C rt = static_cast<C>(rtol), at = static_cast<C>(atol);
    const bool nan_ok = equal_nan;
    return [rt, at, nan_ok](T a, T b) -> bool {
      if (a == b) return true;
      const C x = static_cast<C>(a), y = static_cast<C>(b);
      if (x != x || y != y) return nan_ok && x != x && y != y;
      const C actual = std::abs(x - y);
      return std::isfinite(actual) && actual <= at + std::abs(rt * y);
    };
  }
};

void check_isclose(std::string_view op, const Tensor& a, const Tensor& b, double rtol,
                   double atol) {
  SY_CHECK(a.dtype() == b.dtype(), TypeError,
           "{}: self is {} and other is {}; both must have one dtype (convert one with .to())", op,
           to_string(a.dtype()), to_string(b.dtype()));
  SY_CHECK(rtol >= 0 && atol >= 0, ValueError, "{}: rtol ({}) and atol ({}) must be non-negative",
           op, rtol, atol);
}

Tensor isclose_k(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  check_isclose("isclose", a, b, rtol, atol);
  return detail::binary_new<detail::ResultKind::Bool>(
      "isclose", a, b, IsCloseOp{rtol, atol, equal_nan}, detail::no_check);
}

bool allclose_composite(const Tensor& a, const Tensor& b, double rtol, double atol,
                        bool equal_nan) {
  check_isclose("allclose", a, b, rtol, atol);
  SY_CHECK(!a.is_meta() && !b.is_meta(), ValueError,
           "allclose: returns a Python bool, which a meta tensor (no values) cannot give; use "
           "isclose(...).all()");
  return isclose(a, b, rtol, atol, equal_nan).all().item<bool>();
}

// ---- lerp, equal, sign ------------------------------------------------------------------------

Tensor lerp_scalar(const Tensor& self, const Tensor& end, const Scalar& weight) {
  const Tensor diff = end.sub(self);
  if (weight.to<double>() < 0.5) return self.add(diff.mul(weight));
  return end.sub(diff.mul(1.0 - weight.to<double>()));
}
Tensor lerp_tensor(const Tensor& self, const Tensor& end, const Tensor& weight) {
  const Tensor diff = end.sub(self);
  return where(weight.lt(0.5), self.add(weight.mul(diff)), end.sub(diff.mul(weight.neg().add(1))));
}

bool equal_composite(const Tensor& self, const Tensor& other) {
  SY_CHECK(!self.is_meta() && !other.is_meta(), ValueError,
           "equal: returns a Python bool, which a meta tensor (no values) cannot give");
  if (self.sizes() != other.sizes()) return false;
  return self.eq(other).all().item<bool>();
}

Tensor sign_composite(const Tensor& self) {
  if (self.dtype() == kBool) return self.clone();
  return self.gt(Scalar(0)).to(self.dtype()).sub(self.lt(Scalar(0)).to(self.dtype()));
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/conditional_ops_registrations.h"
