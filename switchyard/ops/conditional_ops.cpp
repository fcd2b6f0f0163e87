// where with number branches, where(condition), and clamp with tensor bounds
// (elementwise.h). All composites: the number branches become zero-dim tensors
// of the promoted dtype (so promotion is where.self's), and clamp with tensors
// is minimum(maximum(self, min), max), which propagates NaN from every operand
// as PyTorch's clamp does.
#include "switchyard/dispatch/library.h"
#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::scalar_tensor;

Tensor where_scalar_self(const Tensor& cond, const Scalar& self, const Tensor& other) {
  return where(cond, scalar_tensor(self, result_type(other, self)), other);
}
Tensor where_scalar_other(const Tensor& cond, const Tensor& self, const Scalar& other) {
  return where(cond, self, scalar_tensor(other, result_type(self, other)));
}
Tensor where_scalars(const Tensor& cond, const Scalar& self, const Scalar& other) {
  const Scalar both[] = {self, other};
  const ScalarType t = result_type(ArrayRef<Tensor>(), ArrayRef<Scalar>(both, 2));
  return where(cond, scalar_tensor(self, t), scalar_tensor(other, t));
}
// The coordinates of condition's true elements, one 1-d tensor per dim.
std::vector<Tensor> where_nonzero(const Tensor& cond) {
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

}  // namespace

// ---- registration (schemas, kernels) -----------------------------------------------------------

SY_LIBRARY_FRAGMENT(sy, m) {
  m.def("where.ScalarSelf(Tensor condition, Scalar self, Tensor other) -> Tensor");
  m.def("where.ScalarOther(Tensor condition, Tensor self, Scalar other) -> Tensor");
  m.def("where.Scalar(Tensor condition, Scalar self, Scalar other) -> Tensor");
  m.def("where(Tensor condition) -> Tensor[]");
  m.def("clamp.Tensor(Tensor self, Tensor? min=None, Tensor? max=None) -> Tensor");
  m.def("clamp_.Tensor(Tensor(a!) self, Tensor? min=None, Tensor? max=None) -> Tensor(a!)");
  m.def("clamp.Tensor_out(Tensor self, Tensor? min=None, Tensor? max=None, *, Tensor(a!) out) "
        "-> Tensor(a!)");
}

SY_LIBRARY_IMPL(sy, CompositeImplicitAutograd, m) {
  m.impl("where.ScalarSelf", SY_FN(where_scalar_self));
  m.impl("where.ScalarOther", SY_FN(where_scalar_other));
  m.impl("where.Scalar", SY_FN(where_scalars));
  m.impl("where", SY_FN(where_nonzero));
  m.impl("clamp.Tensor", SY_FN(clamp_tensor));
  m.impl("clamp_.Tensor", SY_FN(clamp_tensor_i));
  m.impl("clamp.Tensor_out", SY_FN(clamp_tensor_o));
}

// ---- free functions and methods -------------------------------------------------------------

using detail::typed_op;
using OptTensor = std::optional<Tensor>;

Tensor where(const Tensor& cond, const Scalar& self, const Tensor& other) {
  static const auto op =
      typed_op<Tensor(const Tensor&, const Scalar&, const Tensor&)>("sy::where.ScalarSelf");
  return op.call(cond, self, other);
}
Tensor where(const Tensor& cond, const Tensor& self, const Scalar& other) {
  static const auto op =
      typed_op<Tensor(const Tensor&, const Tensor&, const Scalar&)>("sy::where.ScalarOther");
  return op.call(cond, self, other);
}
Tensor where(const Tensor& cond, const Scalar& self, const Scalar& other) {
  static const auto op =
      typed_op<Tensor(const Tensor&, const Scalar&, const Scalar&)>("sy::where.Scalar");
  return op.call(cond, self, other);
}
std::vector<Tensor> where(const Tensor& cond) {
  static const auto op = typed_op<std::vector<Tensor>(const Tensor&)>("sy::where");
  return op.call(cond);
}
Tensor clamp(const Tensor& self, const OptTensor& min, const OptTensor& max) {
  static const auto op =
      typed_op<Tensor(const Tensor&, const OptTensor&, const OptTensor&)>("sy::clamp.Tensor");
  return op.call(self, min, max);
}

Tensor Tensor::where(const Tensor& cond, const Scalar& other) const {
  return sy::where(cond, *this, other);
}
Tensor Tensor::clamp(const OptTensor& min, const OptTensor& max) const {
  return sy::clamp(*this, min, max);
}
const Tensor& Tensor::clamp_(const OptTensor& min, const OptTensor& max) const {
  static const auto op =
      typed_op<Tensor(const Tensor&, const OptTensor&, const OptTensor&)>("sy::clamp_.Tensor");
  op.call(*this, min, max);
  return *this;
}

}  // namespace sy
