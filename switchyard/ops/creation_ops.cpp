// Factories (empty, zeros, ones, full) and fill_, with CPU and Meta kernels.
// The ops are declared in creation_ops.yaml (docs/op-table.md); their registrations,
// generated from it, are included at the end of this file.
#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/loops.h"
#include "switchyard/ops/op_call.h"
#include "switchyard/ops/ops.h"
#include "switchyard/ops/overlap.h"
#include "switchyard/ops/type_promotion.h"
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
  detail::check_scalar_fits("fill_", "the value", value, self.dtype());
  SY_DISPATCH_ALL_TYPES_AND_HALF(self.dtype(), "fill_", [&] {
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

const Tensor& fill_meta(const Tensor& self, const Scalar& value) {
  detail::check_writable("fill_", self);
  detail::check_scalar_fits("fill_", "the value", value, self.dtype());
  return self;
}

using FactoryArgs = std::tuple<std::optional<ScalarType>, std::optional<Device>, bool>;

Tensor finish(Tensor t, bool requires_grad) {
  if (requires_grad) t.requires_grad_(true);
  return t;
}

Tensor arange_kernel(const Scalar& start, const Scalar& end, const Scalar& step,
                     std::optional<ScalarType> dtype, std::optional<Device> device,
                     bool requires_grad) {
  const bool all_int =
      !start.is_floating_point() && !end.is_floating_point() && !step.is_floating_point();
  const ScalarType t = dtype.value_or(all_int ? kInt64 : kFloat32);
  const double s = start.to<double>(), e = end.to<double>(), st = step.to<double>();
  SY_CHECK(st != 0, ValueError, "arange: step must be nonzero");
  SY_CHECK(std::isfinite(s) && std::isfinite(e), ValueError,
           "arange: start ({}) and end ({}) must be finite", start.str(), end.str());
  SY_CHECK((st > 0 && e >= s) || (st < 0 && e <= s), ValueError,
           "arange: the step {} goes away from end: start {}, end {}", step.str(), start.str(),
           end.str());
  const int64_t n =
      all_int ? (end.to<int64_t>() - start.to<int64_t>() + step.to<int64_t>() + (st > 0 ? -1 : 1)) /
                    step.to<int64_t>()
              : static_cast<int64_t>(std::ceil((e - s) / st));
  Tensor out = make_tensor({std::max<int64_t>(n, 0)}, t, device.value_or(kCPU));
  if (!out.is_meta()) {
    SY_DISPATCH_ALL_TYPES_AND_HALF(t, "arange", [&] {
      auto* p = static_cast<scalar_t*>(out.raw_data());
      for (int64_t i = 0; i < out.numel(); ++i) {
        p[i] = all_int ? static_cast<scalar_t>(start.to<int64_t>() + i * step.to<int64_t>())
                       : static_cast<scalar_t>(s + static_cast<double>(i) * st);
      }
    });
  }
  return finish(out, requires_grad);
}

Tensor linspace_kernel(const Scalar& start, const Scalar& end, int64_t steps,
                       std::optional<ScalarType> dtype, std::optional<Device> device,
                       bool requires_grad) {
  SY_CHECK(steps >= 0, ValueError, "linspace: steps must be >= 0, got {}", steps);
  const ScalarType t = dtype.value_or(kFloat32);
  Tensor out = make_tensor({steps}, t, device.value_or(kCPU));
  if (!out.is_meta() && steps > 0) {
    const double s = start.to<double>(), e = end.to<double>();
    const double step = steps > 1 ? (e - s) / static_cast<double>(steps - 1) : 0;
    SY_DISPATCH_ALL_TYPES_AND_HALF(t, "linspace", [&] {
      auto* p = static_cast<scalar_t*>(out.raw_data());
      // From both ends towards the middle, so the last value is exactly `end`.
      const int64_t half = steps / 2;
      for (int64_t i = 0; i < steps; ++i) {
        p[i] = static_cast<scalar_t>(i < half ? s + step * static_cast<double>(i)
                                              : e - step * static_cast<double>(steps - 1 - i));
      }
    });
  }
  return finish(out, requires_grad);
}

Tensor eye_kernel(int64_t n, int64_t m, std::optional<ScalarType> dtype,
                  std::optional<Device> device, bool requires_grad) {
  SY_CHECK(n >= 0 && m >= 0, ValueError, "eye: n and m must be >= 0, got {} and {}", n, m);
  Tensor out =
      zeros({n, m}, TensorOptions().dtype(dtype.value_or(kFloat32)).device(device.value_or(kCPU)));
  if (!out.is_meta()) {
    SY_DISPATCH_ALL_TYPES_AND_HALF(out.dtype(), "eye", [&] {
      auto* p = static_cast<scalar_t*>(out.raw_data());
      for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = scalar_t(1);
    });
  }
  return finish(out, requires_grad);
}

TensorOptions like(const Tensor& self, std::optional<ScalarType> dtype,
                   std::optional<Device> device) {
  return TensorOptions().dtype(dtype.value_or(self.dtype())).device(device.value_or(self.device()));
}

Tensor filled(IntArrayRef sizes, const Scalar& value, std::optional<ScalarType> dtype,
              std::optional<Device> device, bool requires_grad) {
  Tensor t = empty_kernel(sizes, dtype, device, false);
  fill_(t, value);
  return finish(t, requires_grad);
}
Tensor zeros_kernel(IntArrayRef sizes, std::optional<ScalarType> dtype,
                    std::optional<Device> device, bool requires_grad) {
  return filled(sizes, 0, dtype, device, requires_grad);
}
Tensor ones_kernel(IntArrayRef sizes, std::optional<ScalarType> dtype, std::optional<Device> device,
                   bool requires_grad) {
  return filled(sizes, 1, dtype, device, requires_grad);
}
Tensor full_kernel(IntArrayRef sizes, const Scalar& value, std::optional<ScalarType> dtype,
                   std::optional<Device> device, bool requires_grad) {
  // As in PyTorch, the dtype follows the fill value when none is given.
  const ScalarType t = dtype.value_or(value.is_floating_point() ? kFloat32 : value.type());
  return filled(sizes, value, t, device, requires_grad);
}
Tensor arange_end_kernel(const Scalar& end, std::optional<ScalarType> dtype,
                         std::optional<Device> device, bool requires_grad) {
  return arange_kernel(0, end, 1, dtype, device, requires_grad);
}
Tensor arange_start_kernel(const Scalar& start, const Scalar& end, std::optional<ScalarType> dtype,
                           std::optional<Device> device, bool requires_grad) {
  return arange_kernel(start, end, 1, dtype, device, requires_grad);
}
Tensor eye_n_kernel(int64_t n, std::optional<ScalarType> dtype, std::optional<Device> device,
                    bool requires_grad) {
  return eye_kernel(n, n, dtype, device, requires_grad);
}
Tensor empty_like_kernel(const Tensor& self, std::optional<ScalarType> dtype,
                         std::optional<Device> device, bool requires_grad) {
  return finish(empty(self.sizes(), like(self, dtype, device)), requires_grad);
}
Tensor zeros_like_kernel(const Tensor& self, std::optional<ScalarType> dtype,
                         std::optional<Device> device, bool requires_grad) {
  return finish(zeros(self.sizes(), like(self, dtype, device)), requires_grad);
}
Tensor ones_like_kernel(const Tensor& self, std::optional<ScalarType> dtype,
                        std::optional<Device> device, bool requires_grad) {
  return finish(ones(self.sizes(), like(self, dtype, device)), requires_grad);
}
Tensor full_like_kernel(const Tensor& self, const Scalar& value, std::optional<ScalarType> dtype,
                        std::optional<Device> device, bool requires_grad) {
  return finish(full(self.sizes(), value, like(self, dtype, device)), requires_grad);
}
Tensor zero_composite(const Tensor& self) { return fill_(self, 0); }

}  // namespace

// ---- tensor() ----------------------------------------------------------------------------

namespace {

// Walks `d`, checking every list at one depth has one length, and notes the
// kinds of numbers seen; `where` is the index path for errors.
void measure(const TensorData& d, size_t depth, DimVector& shape, bool& shape_known,
             std::string& where, bool& any_float, bool& any_int) {
  if (d.is_leaf()) {
    SY_CHECK(!shape_known || depth == shape.size(), ValueError,
             "tensor: ragged nesting: the number at {} is at depth {}, but other elements are "
             "lists {} deep",
             where.empty() ? "the top" : where, depth, shape.size());
    if (!shape_known) shape_known = true;
    any_float = any_float || d.value().is_floating_point();
    any_int = any_int || d.value().is_integral();
    return;
  }
  const int64_t n = static_cast<int64_t>(d.items().size());
  if (shape.size() <= depth) {
    SY_CHECK(!shape_known, ValueError,
             "tensor: ragged nesting: {} is a list where other elements are numbers",
             where.empty() ? "the top" : where);
    shape.push_back(n);
    if (n == 0) shape_known = true;
  } else {
    SY_CHECK(shape[depth] == n, ValueError,
             "tensor: ragged nesting: the list at {} has {} elements, but the lists before it at "
             "that depth have {}",
             where.empty() ? "the top" : where, n, shape[depth]);
  }
  for (int64_t i = 0; i < n; ++i) {
    const size_t len = where.size();
    where += "[" + std::to_string(i) + "]";
    measure(d.items()[static_cast<size_t>(i)], depth + 1, shape, shape_known, where, any_float,
            any_int);
    where.resize(len);
  }
}

// Integers out of an integer dtype's range are errors, as in PyTorch (floats
// beyond a float dtype's range become ±inf).
template <typename T>
void write_leaves(const TensorData& d, T*& out) {
  if (d.is_leaf()) {
    if constexpr (std::is_integral_v<T>) {
      detail::check_scalar_fits("tensor", "the value", d.value(), scalar_type_of<T>());
    }
    *out++ = d.value().to<T>();
    return;
  }
  for (const TensorData& item : d.items()) write_leaves(item, out);
}

}  // namespace

Tensor tensor(const TensorData& data, TensorOptions options) {
  DimVector shape;
  bool known = false, any_float = false, any_int = false;
  std::string where;
  measure(data, 0, shape, known, where, any_float, any_int);
  const bool empty_list = !data.is_leaf() && shape.size() > 0 && shape[shape.size() - 1] == 0;
  const ScalarType inferred = any_float || empty_list ? kFloat32 : any_int ? kInt64 : kBool;
  const ScalarType dtype = options.dtype_opt().value_or(inferred);
  Tensor cpu = make_tensor(shape, dtype, kCPU);
  SY_DISPATCH_ALL_TYPES_AND_HALF(dtype, "tensor", [&] {
    auto* p = static_cast<scalar_t*>(cpu.raw_data());
    if (p != nullptr) write_leaves<scalar_t>(data, p);
  });
  Tensor out = options.device() == kCPU ? cpu : to(cpu, options.device());
  if (options.requires_grad()) out.requires_grad_(true);
  return out;
}

}  // namespace sy

#include "switchyard/ops/generated/creation_ops_registrations.h"
