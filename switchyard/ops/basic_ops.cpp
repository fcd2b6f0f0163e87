// The foundation's ops: factories, fill_ and add, with CPU and Meta kernels.
#include <algorithm>

#include <fmt/format.h>

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/ops.h"
#include "switchyard/parallel/parallel.h"

namespace sy {
namespace {

// Elements below which a loop is not worth splitting across threads.
constexpr int64_t kGrain = 32768;

// ---- kernels ----------------------------------------------------------------

Tensor empty_kernel(IntArrayRef sizes, std::optional<ScalarType> dtype,
                    std::optional<Device> device, bool requires_grad) {
  Tensor t = make_tensor(sizes, dtype.value_or(kFloat32), device.value_or(kCPU));
  if (requires_grad) t.requires_grad_(true);
  return t;
}

// Calls fn(offset_a, offset_b, offset_out) in elements for every element of
// `sizes`, given each operand's strides (0 along broadcast dimensions).
template <typename F>
void for_each_offset(IntArrayRef sizes, const DimVector& sa, const DimVector& sb,
                     const DimVector& so, F fn) {
  const size_t nd = sizes.size();
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  if (numel == 0) return;
  DimVector index(nd, 0);
  int64_t oa = 0, ob = 0, oo = 0;
  for (int64_t n = 0; n < numel; ++n) {
    fn(oa, ob, oo);
    for (size_t d = nd; d-- > 0;) {
      if (++index[d] < sizes[d]) {
        oa += sa[d];
        ob += sb[d];
        oo += so[d];
        break;
      }
      oa -= sa[d] * (sizes[d] - 1);
      ob -= sb[d] * (sizes[d] - 1);
      oo -= so[d] * (sizes[d] - 1);
      index[d] = 0;
    }
  }
}

// Strides of `t` seen at `sizes` (right-aligned), 0 where it broadcasts.
DimVector broadcast_strides(const Tensor& t, IntArrayRef sizes) {
  DimVector out(sizes.size(), 0);
  const int64_t shift = static_cast<int64_t>(sizes.size()) - t.dim();
  for (int64_t d = 0; d < t.dim(); ++d) {
    out[shift + d] = t.sizes()[d] == 1 ? 0 : t.strides()[d];
  }
  return out;
}

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

const Tensor& fill_cpu(const Tensor& self, const Scalar& value) {
  SY_DISPATCH_ALL_TYPES(self.dtype(), "fill_", [&] {
    const auto v = value.to<scalar_t>();
    scalar_t* p = static_cast<scalar_t*>(self.raw_data());
    if (self.is_contiguous()) {
      parallel_for(0, self.numel(), kGrain,
                   [&](int64_t lo, int64_t hi) { std::fill(p + lo, p + hi, v); });
      return;
    }
    const DimVector strides(self.strides());
    for_each_offset(self.sizes(), strides, strides, strides,
                    [&](int64_t, int64_t, int64_t o) { p[o] = v; });
  });
  return self;
}

const Tensor& fill_meta(const Tensor& self, const Scalar&) { return self; }

}  // namespace

SY_LIBRARY(sy, m) {
  m.def("empty(int[] size, *, ScalarType? dtype=None, Device? device=None, "
        "bool requires_grad=False) -> Tensor");
  m.def("zeros(int[] size, *, ScalarType? dtype=None, Device? device=None, "
        "bool requires_grad=False) -> Tensor");
  m.def("ones(int[] size, *, ScalarType? dtype=None, Device? device=None, "
        "bool requires_grad=False) -> Tensor");
  m.def("full(int[] size, Scalar fill_value, *, ScalarType? dtype=None, Device? device=None, "
        "bool requires_grad=False) -> Tensor");
  m.def("fill_(Tensor(a!) self, Scalar value) -> Tensor(a!)");
  m.def("add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor");
  m.def("add_.Tensor(Tensor(a!) self, Tensor other, *, Scalar alpha=1) -> Tensor(a!)");
  m.def("add.out(Tensor self, Tensor other, *, Scalar alpha=1, Tensor(a!) out) -> Tensor(a!)");
}

// Factories take no tensors, so they dispatch on nothing and run here; the
// device argument picks the allocator.
SY_LIBRARY_IMPL(sy, CompositeExplicitAutograd, m) {
  m.impl("empty", SY_FN(empty_kernel));
  m.impl("zeros", [](IntArrayRef sizes, std::optional<ScalarType> dtype,
                     std::optional<Device> device, bool requires_grad) {
    Tensor t = empty_kernel(sizes, dtype, device, false);
    fill_(t, 0);
    if (requires_grad) t.requires_grad_(true);
    return t;
  });
  m.impl("ones", [](IntArrayRef sizes, std::optional<ScalarType> dtype,
                    std::optional<Device> device, bool requires_grad) {
    Tensor t = empty_kernel(sizes, dtype, device, false);
    fill_(t, 1);
    if (requires_grad) t.requires_grad_(true);
    return t;
  });
  m.impl("full", [](IntArrayRef sizes, const Scalar& value, std::optional<ScalarType> dtype,
                    std::optional<Device> device, bool requires_grad) {
    // As in PyTorch, the dtype follows the fill value when none is given.
    const ScalarType t_dtype =
        dtype.value_or(value.is_floating_point() ? kFloat32 : value.type());
    Tensor t = empty_kernel(sizes, t_dtype, device, false);
    fill_(t, value);
    if (requires_grad) t.requires_grad_(true);
    return t;
  });
}

SY_LIBRARY_IMPL(sy, CPU, m) {
  m.impl("fill_", SY_FN(fill_cpu));
  m.impl("add.Tensor", SY_FN(add_cpu));
  m.impl("add_.Tensor", SY_FN(add_inplace_cpu));
  m.impl("add.out", SY_FN(add_out_cpu));
}

SY_LIBRARY_IMPL(sy, Meta, m) {
  m.impl("fill_", SY_FN(fill_meta));
  m.impl("add.Tensor", SY_FN(add_meta));
  m.impl("add_.Tensor", SY_FN(add_inplace_meta));
  m.impl("add.out", SY_FN(add_out_meta));
}

// ---- free functions and methods ---------------------------------------------

namespace {
template <typename Sig>
TypedOperatorHandle<Sig> typed_op(std::string_view name) {
  return Dispatcher::singleton().find_op(name).typed<Sig>();
}
using FactorySig = Tensor(IntArrayRef, std::optional<ScalarType>, std::optional<Device>, bool);
}  // namespace

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

Tensor empty(IntArrayRef sizes, TensorOptions o) {
  static const auto op = typed_op<FactorySig>("sy::empty");
  return op.call(sizes, o.dtype(), o.device(), o.requires_grad());
}
Tensor zeros(IntArrayRef sizes, TensorOptions o) {
  static const auto op = typed_op<FactorySig>("sy::zeros");
  return op.call(sizes, o.dtype(), o.device(), o.requires_grad());
}
Tensor ones(IntArrayRef sizes, TensorOptions o) {
  static const auto op = typed_op<FactorySig>("sy::ones");
  return op.call(sizes, o.dtype(), o.device(), o.requires_grad());
}
Tensor full(IntArrayRef sizes, const Scalar& value, TensorOptions o) {
  static const auto op = typed_op<Tensor(IntArrayRef, const Scalar&, std::optional<ScalarType>,
                                         std::optional<Device>, bool)>("sy::full");
  return op.call(sizes, value, o.dtype_opt(), o.device(), o.requires_grad());
}

const Tensor& fill_(const Tensor& self, const Scalar& value) {
  static const auto op = typed_op<Tensor(const Tensor&, const Scalar&)>("sy::fill_");
  op.call(self, value);
  return self;
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
const Tensor& Tensor::fill_(const Scalar& value) const { return sy::fill_(*this, value); }

}  // namespace sy
