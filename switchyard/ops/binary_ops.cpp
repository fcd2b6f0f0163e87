// Elementwise binary ops with CPU and Meta kernels.
#include <algorithm>

#include <fmt/format.h>

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/loops.h"
#include "switchyard/ops/op_call.h"
#include "switchyard/ops/ops.h"
#include "switchyard/parallel/parallel.h"

namespace sy {
namespace {

using detail::broadcast_strides;
using detail::for_each_offset;
using detail::kGrain;

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  SY_CHECK(a.dtype() == b.dtype(), TypeError,
           "{}: both tensors must have one dtype, got {} and {}. Convert one first (type "
           "promotion comes with the full operator set).",
           op, to_string(a.dtype()), to_string(b.dtype()));
}

void add_cpu_into(const Tensor& out, const Tensor& a, const Tensor& b, const Scalar& alpha) {
  SY_DISPATCH_ALL_TYPES(out.dtype(), "add", [&] {
    constexpr bool is_bool = std::is_same_v<scalar_t, bool>;
    SY_CHECK(!is_bool || alpha.to<bool>(), ValueError,
             "add: alpha must be True for bool tensors");
    const auto al = alpha.to<scalar_t>();
    const scalar_t* pa = static_cast<const scalar_t*>(a.raw_data());
    const scalar_t* pb = static_cast<const scalar_t*>(b.raw_data());
    scalar_t* po = static_cast<scalar_t*>(out.raw_data());
    const bool simple = a.is_contiguous() && b.is_contiguous() && out.is_contiguous() &&
                        a.sizes() == out.sizes() && b.sizes() == out.sizes();
    if (simple) {
      parallel_for(0, out.numel(), kGrain, [&](int64_t lo, int64_t hi) {
        // Outputs alias inputs only element for element (add_), so iterations
        // are independent: ivdep lets GCC vectorise without runtime alias checks.
        if (al == scalar_t(1)) {
          _Pragma("GCC ivdep")
          for (int64_t i = lo; i < hi; ++i) po[i] = static_cast<scalar_t>(pa[i] + pb[i]);
        } else {
          _Pragma("GCC ivdep")
          for (int64_t i = lo; i < hi; ++i) po[i] = static_cast<scalar_t>(pa[i] + al * pb[i]);
        }
      });
      return;
    }
    const IntArrayRef sizes = out.sizes();
    for_each_offset(sizes, broadcast_strides(a, sizes), broadcast_strides(b, sizes),
                    DimVector(out.strides()), [&](int64_t oa, int64_t ob, int64_t oo) {
                      po[oo] = static_cast<scalar_t>(pa[oa] + al * pb[ob]);
                    });
  });
}

Tensor add_cpu(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  check_same_dtype("add", a, b);
  Tensor out = make_tensor(broadcast_shapes(a.sizes(), b.sizes()), a.dtype(), a.device());
  add_cpu_into(out, a, b, alpha);
  return out;
}

void check_out(const char* op, const Tensor& out, IntArrayRef shape, ScalarType dtype) {
  SY_CHECK(out.sizes() == shape, ValueError,
           "{}: out has shape {} but the result has shape {}; pass an out tensor of the "
           "result's shape",
           op, to_string(out.sizes()), to_string(shape));
  SY_CHECK(out.dtype() == dtype, TypeError, "{}: out has dtype {} but the result is {}", op,
           to_string(out.dtype()), to_string(dtype));
}

const Tensor& add_out_cpu(const Tensor& a, const Tensor& b, const Scalar& alpha,
                          const Tensor& out) {
  check_same_dtype("add.out", a, b);
  check_out("add.out", out, broadcast_shapes(a.sizes(), b.sizes()), a.dtype());
  add_cpu_into(out, a, b, alpha);
  return out;
}

const Tensor& add_inplace_cpu(const Tensor& self, const Tensor& other, const Scalar& alpha) {
  check_same_dtype("add_", self, other);
  SY_CHECK(broadcast_shapes(self.sizes(), other.sizes()) == self.sizes(), ValueError,
           "add_: other of shape {} does not broadcast to self's shape {}; an in-place op "
           "cannot change self's shape",
           to_string(other.sizes()), to_string(self.sizes()));
  add_cpu_into(self, self, other, alpha);
  return self;
}

Tensor add_meta(const Tensor& a, const Tensor& b, const Scalar&) {
  check_same_dtype("add", a, b);
  return make_tensor(broadcast_shapes(a.sizes(), b.sizes()), a.dtype(), a.device());
}

const Tensor& add_out_meta(const Tensor& a, const Tensor& b, const Scalar&, const Tensor& out) {
  check_same_dtype("add.out", a, b);
  check_out("add.out", out, broadcast_shapes(a.sizes(), b.sizes()), a.dtype());
  return out;
}

const Tensor& add_inplace_meta(const Tensor& self, const Tensor& other, const Scalar&) {
  check_same_dtype("add_", self, other);
  SY_CHECK(broadcast_shapes(self.sizes(), other.sizes()) == self.sizes(), ValueError,
           "add_: other of shape {} does not broadcast to self's shape {}",
           to_string(other.sizes()), to_string(self.sizes()));
  return self;
}

}  // namespace

SY_LIBRARY_FRAGMENT(sy, m) {
  m.def("add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor");
  m.def("add_.Tensor(Tensor(a!) self, Tensor other, *, Scalar alpha=1) -> Tensor(a!)");
  m.def("add.out(Tensor self, Tensor other, *, Scalar alpha=1, Tensor(a!) out) -> Tensor(a!)");
}

SY_LIBRARY_IMPL(sy, CPU, m) {
  m.impl("add.Tensor", SY_FN(add_cpu));
  m.impl("add_.Tensor", SY_FN(add_inplace_cpu));
  m.impl("add.out", SY_FN(add_out_cpu));
}

SY_LIBRARY_IMPL(sy, Meta, m) {
  m.impl("add.Tensor", SY_FN(add_meta));
  m.impl("add_.Tensor", SY_FN(add_inplace_meta));
  m.impl("add.out", SY_FN(add_out_meta));
}

// ---- free functions and methods ---------------------------------------------

using detail::typed_op;

DimVector broadcast_shapes(IntArrayRef a, IntArrayRef b) {
  const size_t n = std::max(a.size(), b.size());
  DimVector out(n, 1);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    SY_CHECK(da == db || da == 1 || db == 1, ValueError,
             "shapes {} and {} do not broadcast: dimension {} (from the right) is {} and {}; "
             "sizes must match or one of them be 1",
             to_string(a), to_string(b), n - i, da, db);
    out[i] = da == 1 ? db : da;
  }
  return out;
}


Tensor add(const Tensor& self, const Tensor& other, const Scalar& alpha) {
  static const auto op =
      typed_op<Tensor(const Tensor&, const Tensor&, const Scalar&)>("sy::add.Tensor");
  return op.call(self, other, alpha);
}

const Tensor& add_(const Tensor& self, const Tensor& other, const Scalar& alpha) {
  static const auto op =
      typed_op<Tensor(const Tensor&, const Tensor&, const Scalar&)>("sy::add_.Tensor");
  op.call(self, other, alpha);
  return self;
}

const Tensor& add_out(const Tensor& out, const Tensor& self, const Tensor& other,
                      const Scalar& alpha) {
  static const auto op = typed_op<Tensor(const Tensor&, const Tensor&, const Scalar&,
                                         const Tensor&)>("sy::add.out");
  op.call(self, other, alpha, out);
  return out;
}

Tensor Tensor::add(const Tensor& other, const Scalar& alpha) const {
  return sy::add(*this, other, alpha);
}
const Tensor& Tensor::add_(const Tensor& other, const Scalar& alpha) const {
  return sy::add_(*this, other, alpha);
}

}  // namespace sy
