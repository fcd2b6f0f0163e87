// Ops PyTorch users reach by another name or signature, each a composite of an
// existing op: rand_like and randn_like (creation.h), var and std with
// `unbiased` beside `correction`, and split with a list of sizes.
#include "switchyard/dispatch/library.h"
#include "switchyard/ops/op_call.h"
#include "switchyard/ops/ops.h"

namespace sy {
namespace {

TensorOptions like(const Tensor& self, std::optional<ScalarType> dtype,
                   std::optional<Device> device, bool requires_grad) {
  return TensorOptions()
      .dtype(dtype.value_or(self.dtype()))
      .device(device.value_or(self.device()))
      .requires_grad(requires_grad);
}

Tensor rand_like_k(const Tensor& self, std::optional<ScalarType> dtype,
                   std::optional<Device> device, bool requires_grad) {
  return rand(self.sizes(), like(self, dtype, device, requires_grad));
}
Tensor randn_like_k(const Tensor& self, std::optional<ScalarType> dtype,
                    std::optional<Device> device, bool requires_grad) {
  return randn(self.sizes(), like(self, dtype, device, requires_grad));
}

int64_t correction_of(bool unbiased) { return unbiased ? 1 : 0; }

}  // namespace

// ---- registration (schemas, kernels) -----------------------------------------------------------

SY_LIBRARY_FRAGMENT(sy, m) {
  m.def("rand_like(Tensor self, *, ScalarType? dtype=None, Device? device=None, "
        "bool requires_grad=False) -> Tensor");
  m.def("randn_like(Tensor self, *, ScalarType? dtype=None, Device? device=None, "
        "bool requires_grad=False) -> Tensor");
  for (const char* op : {"var", "std"}) {
    m.def(fmt::format("{}(Tensor self, bool unbiased=True) -> Tensor", op));
    m.def(fmt::format(
        "{}.dim(Tensor self, int[1]? dim, bool unbiased=True, bool keepdim=False) -> Tensor", op));
  }
  m.def("split.sizes(Tensor(a) self, int[] split_size, int dim=0) -> Tensor[]");
}

// The *_like factories dispatch on self, so they run at every backend; the
// device argument picks where the result lives.
SY_LIBRARY_IMPL(sy, CompositeExplicitAutograd, m) {
  m.impl("rand_like", SY_FN(rand_like_k));
  m.impl("randn_like", SY_FN(randn_like_k));
}

SY_LIBRARY_IMPL(sy, CompositeImplicitAutograd, m) {
  m.impl("var", [](const Tensor& self, bool unbiased) {
    return var(self, {}, correction_of(unbiased));
  });
  m.impl("var.dim", [](const Tensor& self, std::optional<IntArrayRef> dim, bool unbiased,
                       bool keepdim) {
    return var(self, dim.value_or(IntArrayRef()), correction_of(unbiased), keepdim);
  });
  m.impl("std", [](const Tensor& self, bool unbiased) {
    return std(self, {}, correction_of(unbiased));
  });
  m.impl("std.dim", [](const Tensor& self, std::optional<IntArrayRef> dim, bool unbiased,
                       bool keepdim) {
    return std(self, dim.value_or(IntArrayRef()), correction_of(unbiased), keepdim);
  });
  m.impl("split.sizes", [](const Tensor& self, IntArrayRef sizes, int64_t dim) {
    return split(self, sizes, dim);
  });
}

// ---- free functions ---------------------------------------------------------------------------
// var/std with `unbiased` and split.sizes have no C++ spelling of their own:
// C++ passes correction (1 is unbiased) and split(self, sizes).

using detail::typed_op;
using LikeSig = Tensor(const Tensor&, std::optional<ScalarType>, std::optional<Device>, bool);

Tensor rand_like(const Tensor& self, TensorOptions o) {
  static const auto op = typed_op<LikeSig>("sy::rand_like");
  return op.call(self, o.dtype_opt(),
                 o.device() == kCPU ? std::optional<Device>() : std::optional<Device>(o.device()),
                 o.requires_grad());
}
Tensor randn_like(const Tensor& self, TensorOptions o) {
  static const auto op = typed_op<LikeSig>("sy::randn_like");
  return op.call(self, o.dtype_opt(),
                 o.device() == kCPU ? std::optional<Device>() : std::optional<Device>(o.device()),
                 o.requires_grad());
}

}  // namespace sy
