// any, all (reduction.h), isclose and allclose (elementwise.h). any, all and
// isclose have one kernel each serving CPU and Meta; allclose is a composite.
#include <cmath>
#include <cstring>

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::kGrain;
using detail::wrap_dim;

// ---- any, all ---------------------------------------------------------------------------------

// Whether the bytes of p[0, n) (0 or 1) have any 1 (any) or are all 1 (all).
bool reduce_flags(const uint8_t* p, int64_t n, bool all) {
  if (all) return std::memchr(p, 0, static_cast<size_t>(n)) == nullptr;
  for (int64_t i = 0; i < n; ++i) {
    if (p[i]) return true;
  }
  return false;
}

// any / all over every element (dim absent) or along one dim. The result is
// bool, except for uint8 inputs, which give uint8 (as in PyTorch).
Tensor any_all_impl(std::string_view op, const Tensor& self, std::optional<int64_t> dim,
                    bool keepdim, bool all) {
  const ScalarType out_t = self.dtype() == kUInt8 ? kUInt8 : kBool;
  DimVector shape;
  int64_t d = -1;
  if (dim) {
    d = wrap_dim(op, *dim, self.dim());
    for (int64_t k = 0; k < self.dim(); ++k) {
      if (k != d) {
        shape.push_back(self.sizes()[k]);
      } else if (keepdim) {
        shape.push_back(1);
      }
    }
  }
  Tensor out = make_tensor(shape, out_t, self.device());
  if (out.is_meta() || out.numel() == 0) return out;
  // One byte per element, 1 where the element is nonzero (NaN counts as nonzero).
  const Tensor flags = (self.dtype() == kBool ? self : ne(self, 0)).contiguous();
  const auto* p = static_cast<const uint8_t*>(flags.raw_data());
  auto* o = static_cast<uint8_t*>(out.raw_data());
  if (!dim || self.dim() == 0) {
    o[0] = reduce_flags(p, flags.numel(), all);
    return out;
  }
  int64_t outer = 1, R = self.sizes()[d], inner = 1;
  for (int64_t k = 0; k < self.dim(); ++k) {
    if (k < d) outer *= self.sizes()[k];
    if (k > d) inner *= self.sizes()[k];
  }
  parallel_for(0, outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, R * inner)),
               [&](int64_t b, int64_t e) {
                 for (int64_t k = b; k < e; ++k) {
                   const uint8_t* in = p + k * R * inner;
                   uint8_t* res = o + k * inner;
                   if (inner == 1) {
                     res[0] = reduce_flags(in, R, all);
                     continue;
                   }
                   for (int64_t i = 0; i < inner; ++i) res[i] = all ? 1 : 0;
                   for (int64_t r = 0; r < R; ++r) {
                     for (int64_t i = 0; i < inner; ++i) {
                       res[i] = all ? (res[i] & in[r * inner + i]) : (res[i] | in[r * inner + i]);
                     }
                   }
                 }
               });
  return out;
}

Tensor any_k(const Tensor& self) { return any_all_impl("any", self, std::nullopt, false, false); }
Tensor any_dim_k(const Tensor& self, int64_t dim, bool keepdim) {
  return any_all_impl("any", self, dim, keepdim, false);
}
Tensor all_k(const Tensor& self) { return any_all_impl("all", self, std::nullopt, false, true); }
Tensor all_dim_k(const Tensor& self, int64_t dim, bool keepdim) {
  return any_all_impl("all", self, dim, keepdim, true);
}

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
           "{}: self is {} and other is {}; both must have one dtype (convert one with .to())",
           op, to_string(a.dtype()), to_string(b.dtype()));
  SY_CHECK(rtol >= 0 && atol >= 0, ValueError,
           "{}: rtol ({}) and atol ({}) must be non-negative", op, rtol, atol);
}

Tensor isclose_k(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  check_isclose("isclose", a, b, rtol, atol);
  return detail::binary_new<detail::ResultKind::Bool>("isclose", a, b,
                                                      IsCloseOp{rtol, atol, equal_nan},
                                                      detail::no_check);
}

bool allclose_composite(const Tensor& a, const Tensor& b, double rtol, double atol,
                        bool equal_nan) {
  check_isclose("allclose", a, b, rtol, atol);
  SY_CHECK(!a.is_meta() && !b.is_meta(), ValueError,
           "allclose: returns a Python bool, which a meta tensor (no values) cannot give; use "
           "isclose(...).all()");
  return isclose(a, b, rtol, atol, equal_nan).all().item<bool>();
}

void register_kernels(Library& m) {
  m.impl("any", SY_FN(any_k));
  m.impl("any.dim", SY_FN(any_dim_k));
  m.impl("all", SY_FN(all_k));
  m.impl("all.dim", SY_FN(all_dim_k));
  m.impl("isclose", SY_FN(isclose_k));
}

}  // namespace

// ---- registration (schemas, kernels) -----------------------------------------------------------

SY_LIBRARY_FRAGMENT(sy, m) {
  m.def("any(Tensor self) -> Tensor");
  m.def("any.dim(Tensor self, int dim, bool keepdim=False) -> Tensor");
  m.def("all(Tensor self) -> Tensor");
  m.def("all.dim(Tensor self, int dim, bool keepdim=False) -> Tensor");
  m.def("isclose(Tensor self, Tensor other, float rtol=1e-05, float atol=1e-08, "
        "bool equal_nan=False) -> Tensor");
  m.def("allclose(Tensor self, Tensor other, float rtol=1e-05, float atol=1e-08, "
        "bool equal_nan=False) -> bool");
}

SY_LIBRARY_IMPL(sy, CPU, m) { register_kernels(m); }
SY_LIBRARY_IMPL(sy, Meta, m) { register_kernels(m); }
SY_LIBRARY_IMPL(sy, CompositeImplicitAutograd, m) {
  m.impl("allclose", SY_FN(allclose_composite));
}

// ---- free functions and methods -------------------------------------------------------------

using detail::typed_op;
using CloseSig = Tensor(const Tensor&, const Tensor&, double, double, bool);

Tensor any(const Tensor& self) {
  static const auto op = typed_op<Tensor(const Tensor&)>("sy::any");
  return op.call(self);
}
Tensor any(const Tensor& self, int64_t dim, bool keepdim) {
  static const auto op = typed_op<Tensor(const Tensor&, int64_t, bool)>("sy::any.dim");
  return op.call(self, dim, keepdim);
}
Tensor all(const Tensor& self) {
  static const auto op = typed_op<Tensor(const Tensor&)>("sy::all");
  return op.call(self);
}
Tensor all(const Tensor& self, int64_t dim, bool keepdim) {
  static const auto op = typed_op<Tensor(const Tensor&, int64_t, bool)>("sy::all.dim");
  return op.call(self, dim, keepdim);
}
Tensor isclose(const Tensor& self, const Tensor& other, double rtol, double atol,
               bool equal_nan) {
  static const auto op = typed_op<CloseSig>("sy::isclose");
  return op.call(self, other, rtol, atol, equal_nan);
}
bool allclose(const Tensor& self, const Tensor& other, double rtol, double atol,
              bool equal_nan) {
  static const auto op =
      typed_op<bool(const Tensor&, const Tensor&, double, double, bool)>("sy::allclose");
  return op.call(self, other, rtol, atol, equal_nan);
}

Tensor Tensor::any() const { return sy::any(*this); }
Tensor Tensor::any(int64_t dim, bool keepdim) const { return sy::any(*this, dim, keepdim); }
Tensor Tensor::all() const { return sy::all(*this); }
Tensor Tensor::all(int64_t dim, bool keepdim) const { return sy::all(*this, dim, keepdim); }
Tensor Tensor::isclose(const Tensor& other, double rtol, double atol, bool equal_nan) const {
  return sy::isclose(*this, other, rtol, atol, equal_nan);
}
bool Tensor::allclose(const Tensor& other, double rtol, double atol, bool equal_nan) const {
  return sy::allclose(*this, other, rtol, atol, equal_nan);
}

}  // namespace sy
