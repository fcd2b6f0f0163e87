// Views and shape ops. The view ops only compute metadata, so one kernel at
// CompositeExplicitAutograd serves every backend (CPU and Meta alike); reshape,
// flatten, t, narrow, contiguous and to are composites of other ops.
// The ops are declared in shape_ops.yaml (docs/op-table.md); their registrations,
// generated from it, are included at the end of this file.
#include <algorithm>
#include <numeric>

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/op_call.h"
#include "switchyard/ops/ops.h"

namespace sy {
namespace {

using detail::wrap_dim;

// `size` with its -1 replaced so the product is `numel`.
DimVector infer_size(std::string_view op, IntArrayRef size, int64_t numel) {
  DimVector out(size);
  int64_t known = 1;
  std::optional<size_t> infer;
  for (size_t i = 0; i < size.size(); ++i) {
    if (size[i] == -1) {
      SY_CHECK(!infer, ValueError, "{}: only one dimension can be -1, got {}", op, to_string(size));
      infer = i;
    } else {
      SY_CHECK(size[i] >= 0, ValueError, "{}: invalid size {} in {}", op, size[i], to_string(size));
      known *= size[i];
    }
  }
  if (infer) {
    SY_CHECK(known != 0 && numel % known == 0, ValueError,
             "{}: shape {} is invalid for a tensor of {} elements", op, to_string(size), numel);
    out[*infer] = numel / known;
  } else {
    SY_CHECK(known == numel, ValueError, "{}: shape {} is invalid for a tensor of {} elements", op,
             to_string(size), numel);
  }
  return out;
}

// The strides that let a tensor of `sizes`/`strides` be seen with `shape`
// without copying, or nothing. Dims are grouped into runs that are contiguous
// with each other; each run must split into whole dims of the new shape.
std::optional<DimVector> view_strides(IntArrayRef sizes, IntArrayRef strides, IntArrayRef shape) {
  DimVector out(shape.size(), 0);
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  if (numel == 0 || sizes.empty()) return contiguous_strides(shape);
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_stride = strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    tensor_numel *= sizes[d];
    const bool run_ends =
        d == 0 || (sizes[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_stride);
    if (!run_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
      out[view_d] = view_numel * chunk_stride;
      view_numel *= shape[view_d];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (d > 0) {
      chunk_stride = strides[d - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

Tensor view_kernel(const Tensor& self, IntArrayRef size) {
  const DimVector shape = infer_size("view", size, self.numel());
  auto strides = view_strides(self.sizes(), self.strides(), shape);
  SY_CHECK(strides.has_value(), ValueError,
           "view: a tensor of shape {} and strides {} cannot be viewed as {} without copying; "
           "use reshape() (which copies when it must) or call contiguous() first",
           to_string(self.sizes()), to_string(self.strides()), to_string(IntArrayRef(shape)));
  return make_view(self, shape, *strides, self.storage_offset());
}

Tensor reshape_composite(const Tensor& self, IntArrayRef shape) {
  const DimVector sizes = infer_size("reshape", shape, self.numel());
  if (view_strides(self.sizes(), self.strides(), sizes)) return view(self, sizes);
  return view(clone(self), sizes);
}

Tensor flatten_composite(const Tensor& self, int64_t start_dim, int64_t end_dim) {
  if (self.dim() == 0) return reshape(self, {1});
  const int64_t s = wrap_dim("flatten", start_dim, self.dim());
  const int64_t e = wrap_dim("flatten", end_dim, self.dim());
  SY_CHECK(s <= e, ValueError, "flatten: start_dim {} comes after end_dim {}", start_dim, end_dim);
  if (s == e) return self;
  DimVector shape;
  for (int64_t d = 0; d < s; ++d) shape.push_back(self.sizes()[d]);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged *= self.sizes()[d];
  shape.push_back(merged);
  for (int64_t d = e + 1; d < self.dim(); ++d) shape.push_back(self.sizes()[d]);
  return reshape(self, shape);
}

Tensor transpose_kernel(const Tensor& self, int64_t dim0, int64_t dim1) {
  const int64_t a = wrap_dim("transpose", dim0, self.dim());
  const int64_t b = wrap_dim("transpose", dim1, self.dim());
  DimVector sizes(self.sizes()), strides(self.strides());
  if (self.dim() > 0) {
    std::swap(sizes[a], sizes[b]);
    std::swap(strides[a], strides[b]);
  }
  return make_view(self, sizes, strides, self.storage_offset());
}

Tensor t_composite(const Tensor& self) {
  SY_CHECK(self.dim() <= 2, ValueError,
           "t: expects a tensor of at most 2 dimensions, got shape {}; use transpose(dim0, dim1) "
           "or permute() for more",
           to_string(self.sizes()));
  return self.dim() < 2 ? self : transpose(self, 0, 1);
}

Tensor permute_kernel(const Tensor& self, IntArrayRef dims) {
  SY_CHECK(static_cast<int64_t>(dims.size()) == self.dim(), ValueError,
           "permute: dims {} must name each of the {} dimensions of a tensor of shape {} once",
           to_string(dims), self.dim(), to_string(self.sizes()));
  DimVector sizes(dims.size(), 0), strides(dims.size(), 0);
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim("permute", dims[i], self.dim());
    SY_CHECK(!seen[d], ValueError, "permute: dim {} appears twice in {}", d, to_string(dims));
    seen[d] = true;
    sizes[i] = self.sizes()[d];
    strides[i] = self.strides()[d];
  }
  return make_view(self, sizes, strides, self.storage_offset());
}

Tensor select_kernel(const Tensor& self, int64_t dim, int64_t index) {
  SY_CHECK(self.dim() > 0, IndexError, "select: cannot select from a 0-dim tensor");
  const int64_t d = wrap_dim("select", dim, self.dim());
  const int64_t size = self.sizes()[d];
  SY_CHECK(index >= -size && index < size, IndexError,
           "select: index {} is out of range for dim {} of size {} (shape {})", index, d, size,
           to_string(self.sizes()));
  const int64_t i = index < 0 ? index + size : index;
  DimVector sizes, strides;
  for (int64_t k = 0; k < self.dim(); ++k) {
    if (k == d) continue;
    sizes.push_back(self.sizes()[k]);
    strides.push_back(self.strides()[k]);
  }
  return make_view(self, sizes, strides, self.storage_offset() + i * self.strides()[d]);
}

Tensor slice_kernel(const Tensor& self, int64_t dim, std::optional<int64_t> start,
                    std::optional<int64_t> end, int64_t step) {
  SY_CHECK(self.dim() > 0, IndexError, "slice: cannot slice a 0-dim tensor");
  SY_CHECK(step > 0, ValueError, "slice: step must be positive, got {}", step);
  const int64_t d = wrap_dim("slice", dim, self.dim());
  const int64_t size = self.sizes()[d];
  auto clamp = [&](int64_t v) {
    if (v < 0) v += size;
    return std::clamp<int64_t>(v, 0, size);
  };
  const int64_t s = clamp(start.value_or(0));
  const int64_t e = std::max(s, clamp(end.value_or(size)));
  DimVector sizes(self.sizes()), strides(self.strides());
  sizes[d] = (e - s + step - 1) / step;
  strides[d] *= step;
  return make_view(self, sizes, strides, self.storage_offset() + s * self.strides()[d]);
}

Tensor narrow_composite(const Tensor& self, int64_t dim, int64_t start, int64_t length) {
  SY_CHECK(self.dim() > 0, IndexError, "narrow: cannot narrow a 0-dim tensor");
  const int64_t d = wrap_dim("narrow", dim, self.dim());
  const int64_t size = self.sizes()[d];
  SY_CHECK(start >= -size && start <= size, IndexError,
           "narrow: start {} is out of range for dim {} of size {}", start, d, size);
  const int64_t s = start < 0 ? start + size : start;
  SY_CHECK(length >= 0 && s + length <= size, IndexError,
           "narrow: start {} + length {} exceeds dim {} of size {}", s, length, d, size);
  return slice(self, d, s, s + length, 1);
}

Tensor unsqueeze_kernel(const Tensor& self, int64_t dim) {
  const int64_t d = wrap_dim("unsqueeze", dim, self.dim() + 1);
  DimVector sizes, strides;
  for (int64_t k = 0; k <= self.dim(); ++k) {
    if (k == d) {
      sizes.push_back(1);
      strides.push_back(k < self.dim() ? self.sizes()[k] * self.strides()[k] : 1);
    }
    if (k < self.dim()) {
      sizes.push_back(self.sizes()[k]);
      strides.push_back(self.strides()[k]);
    }
  }
  return make_view(self, sizes, strides, self.storage_offset());
}

Tensor squeeze_impl(const Tensor& self, std::optional<int64_t> only) {
  DimVector sizes, strides;
  for (int64_t k = 0; k < self.dim(); ++k) {
    if (self.sizes()[k] == 1 && (!only || *only == k)) continue;
    sizes.push_back(self.sizes()[k]);
    strides.push_back(self.strides()[k]);
  }
  return make_view(self, sizes, strides, self.storage_offset());
}

Tensor squeeze_kernel(const Tensor& self) { return squeeze_impl(self, std::nullopt); }
Tensor squeeze_dim_kernel(const Tensor& self, int64_t dim) {
  return squeeze_impl(self, wrap_dim("squeeze", dim, self.dim()));
}

Tensor expand_kernel(const Tensor& self, IntArrayRef size, bool /*implicit*/) {
  const int64_t nd = static_cast<int64_t>(size.size());
  SY_CHECK(nd >= self.dim(), ValueError,
           "expand: the target shape {} has fewer dimensions than the tensor's shape {}",
           to_string(size), to_string(self.sizes()));
  DimVector sizes(size.size(), 0), strides(size.size(), 0);
  const int64_t shift = nd - self.dim();
  for (int64_t i = 0; i < nd; ++i) {
    const int64_t d = i - shift;
    if (d < 0) {
      SY_CHECK(size[i] >= 0, ValueError,
               "expand: -1 is not allowed for the new leading dimension {} in {}", i,
               to_string(size));
      sizes[i] = size[i];
      strides[i] = 0;
      continue;
    }
    const int64_t have = self.sizes()[d];
    SY_CHECK(size[i] >= -1, ValueError, "expand: invalid size {} in the target shape {}", size[i],
             to_string(size));
    const int64_t want = size[i] == -1 ? have : size[i];
    SY_CHECK(have == want || have == 1, ValueError,
             "expand: the tensor's size {} at dim {} (shape {}) must be 1 or equal the target "
             "size {} (target {})",
             have, d, to_string(self.sizes()), want, to_string(size));
    sizes[i] = want;
    strides[i] = have == want ? self.strides()[d] : 0;
  }
  return make_view(self, sizes, strides, self.storage_offset());
}

Tensor contiguous_composite(const Tensor& self) {
  return self.is_contiguous() ? self : clone(self);
}

Tensor clone_kernel(const Tensor& self) {
  Tensor out = make_tensor(self.sizes(), self.dtype(), self.device());
  copy_(out, self);
  return out;
}

Tensor to_dtype_composite(const Tensor& self, ScalarType dtype, bool, bool copy) {
  if (dtype == self.dtype() && !copy) return self;
  Tensor out = make_tensor(self.sizes(), dtype, self.device());
  copy_(out, self);
  return out;
}

Tensor to_device_composite(const Tensor& self, Device device, std::optional<ScalarType> dtype, bool,
                           bool copy) {
  const ScalarType target = dtype.value_or(self.dtype());
  if (device == self.device() && target == self.dtype() && !copy) return self;
  SY_CHECK(!self.is_meta() || device.is_meta(), ValueError,
           "to: a meta tensor has no data to copy to {}; make the tensor on {} instead",
           device.str(), device.str());
  Tensor out = make_tensor(self.sizes(), target, device);
  if (!device.is_meta()) copy_(out, self);
  return out;
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/shape_ops_registrations.h"
