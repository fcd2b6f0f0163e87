// Internal to the ops layer: what backend kernels use instead of calling ops.
//
// Note [Backend kernels call no ops]
// A backend kernel (CPU or Meta) that needs its input converted, made
// contiguous, copied or viewed differently does it with these functions, not
// through the dispatcher. An op call could reach a user's kernel (a Python-key
// kernel for `contiguous`, an override of `to`), and a result of the wrong
// shape, dtype or device would then be read out of bounds. So inner calls of
// backend kernels never leave the kernel's own code: this costs nothing (it
// saves a dispatch) and is what a PyTorch user sees, where a backend kernel's
// internals are not visible to Python modes. Composite kernels, whose purpose
// is to call other ops, do go through the dispatcher; every op checks its own
// inputs, so whatever a user kernel returns there is checked before it is read.
// The callers have already checked the arguments (dims in range, shapes).
#pragma once

#include "switchyard/tensor/tensor.h"

namespace sy::detail {

// Writes src (broadcast to dst's shape, converted to dst's dtype) into dst;
// nothing for meta tensors. Both are on one device; overlap is the caller's.
void copy_values(const Tensor& dst, const Tensor& src);

// A tensor of t's shape in `dtype`: t itself when it already is.
inline Tensor converted(const Tensor& t, ScalarType dtype) {
  if (t.dtype() == dtype) return t;
  Tensor out = make_tensor(t.sizes(), dtype, t.device());
  copy_values(out, t);
  return out;
}

// t, or a contiguous copy of it.
inline Tensor contiguous_values(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = make_tensor(t.sizes(), t.dtype(), t.device());
  copy_values(out, t);
  return out;
}

// Views: the geometry of permute, select and narrow.
inline Tensor permuted(const Tensor& t, IntArrayRef dims) {
  DimVector sizes(dims.size(), 0), strides(dims.size(), 0);
  for (size_t i = 0; i < dims.size(); ++i) {
    sizes[i] = t.sizes()[static_cast<size_t>(dims[i])];
    strides[i] = t.strides()[static_cast<size_t>(dims[i])];
  }
  return make_view(t, sizes, strides, t.storage_offset());
}

inline Tensor selected(const Tensor& t, int64_t dim, int64_t index) {
  DimVector sizes, strides;
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (d == dim) continue;
    sizes.push_back(t.sizes()[d]);
    strides.push_back(t.strides()[d]);
  }
  return make_view(t, sizes, strides, t.storage_offset() + index * t.strides()[dim]);
}

inline Tensor narrowed(const Tensor& t, int64_t dim, int64_t start, int64_t length) {
  DimVector sizes(t.sizes()), strides(t.strides());
  sizes[static_cast<size_t>(dim)] = length;
  return make_view(t, sizes, strides, t.storage_offset() + start * t.strides()[dim]);
}

}  // namespace sy::detail
