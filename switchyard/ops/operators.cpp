// The C++ operators on tensors, and broadcast_shapes: the parts of the elementwise
// API that are not ops of their own (elementwise.h).
#include "switchyard/ops/elementwise.h"
#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/type_promotion.h"

namespace sy {

DimVector broadcast_shapes(IntArrayRef a, IntArrayRef b) {
  return detail::broadcast_for("broadcast_shapes", a, b);
}

// Operators.
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator+(const Tensor& a, const Scalar& b) { return add(a, b); }
Tensor operator+(const Scalar& a, const Tensor& b) { return add(b, a); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator-(const Tensor& a, const Scalar& b) { return sub(a, b); }
Tensor operator-(const Scalar& a, const Tensor& b) {
  return sub(detail::scalar_tensor(a, result_type(b, a)), b);
}
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator*(const Tensor& a, const Scalar& b) { return mul(a, b); }
Tensor operator*(const Scalar& a, const Tensor& b) { return mul(b, a); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator/(const Tensor& a, const Scalar& b) { return div(a, b); }
// True division computes in a floating dtype: the Scalar joins it there first.
Tensor operator/(const Scalar& a, const Tensor& b) {
  return div(detail::scalar_tensor(a, to_floating(result_type(b, a))), b);
}

Tensor operator-(const Tensor& a) { return neg(a); }

}  // namespace sy
