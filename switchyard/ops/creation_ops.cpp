// Factories (empty, zeros, ones, full) and fill_, with CPU and Meta kernels.
#include <algorithm>

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/loops.h"
#include "switchyard/ops/op_call.h"
#include "switchyard/ops/ops.h"
#include "switchyard/ops/overlap.h"
#include "switchyard/parallel/parallel.h"

namespace sy {
namespace {

using detail::for_each_offset;
using detail::kGrain;

Tensor empty_kernel(IntArrayRef sizes, std::optional<ScalarType> dtype,
                    std::optional<Device> device, bool requires_grad) {
  Tensor t = make_tensor(sizes, dtype.value_or(kFloat32), device.value_or(kCPU));
  if (requires_grad) t.requires_grad_(true);
  return t;
}


const Tensor& fill_cpu(const Tensor& self, const Scalar& value) {
  detail::check_writable("fill_", self);
  SY_DISPATCH_ALL_TYPES(self.dtype(), "fill_", [&] {
    const auto v = value.to<scalar_t>();
    scalar_t* p = static_cast<scalar_t*>(self.raw_data());
    if (self.is_contiguous()) {
      parallel_for(0, self.numel(), kGrain,
                   [&](int64_t lo, int64_t hi) { std::fill(p + lo, p + hi, v); });
      return;
    }
    for_each_offset(self.sizes(), self.strides(), [&](int64_t o) { p[o] = v; });
  });
  return self;
}

const Tensor& fill_meta(const Tensor& self, const Scalar&) {
  detail::check_writable("fill_", self);
  return self;
}

}  // namespace

SY_LIBRARY_FRAGMENT(sy, m) {
  m.def("empty(int[] size, *, ScalarType? dtype=None, Device? device=None, "
        "bool requires_grad=False) -> Tensor");
  m.def("zeros(int[] size, *, ScalarType? dtype=None, Device? device=None, "
        "bool requires_grad=False) -> Tensor");
  m.def("ones(int[] size, *, ScalarType? dtype=None, Device? device=None, "
        "bool requires_grad=False) -> Tensor");
  m.def("full(int[] size, Scalar fill_value, *, ScalarType? dtype=None, Device? device=None, "
        "bool requires_grad=False) -> Tensor");
  m.def("fill_(Tensor(a!) self, Scalar value) -> Tensor(a!)");
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


SY_LIBRARY_IMPL(sy, CPU, m) { m.impl("fill_", SY_FN(fill_cpu)); }
SY_LIBRARY_IMPL(sy, Meta, m) { m.impl("fill_", SY_FN(fill_meta)); }

// ---- free functions and methods ---------------------------------------------

namespace {
using detail::typed_op;
using FactorySig = Tensor(IntArrayRef, std::optional<ScalarType>, std::optional<Device>, bool);
}  // namespace

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


const Tensor& Tensor::fill_(const Scalar& value) const { return sy::fill_(*this, value); }

}  // namespace sy
