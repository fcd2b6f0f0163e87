// Advanced indexing, as PyTorch and NumPy define it: indexing with integer
// tensors and bool masks (t[idx], t[mask]), assignment through them
// (t[mask] = v), masked_fill, masked_select, nonzero, and scatter.
//
// `indices` holds one entry per leading dim of self; an undefined Tensor takes
// that dim whole. An integer tensor (int64, int32) picks positions along its
// dim (negative ones count from the end); a bool (or uint8) mask of k dims
// stands for its nonzero() coordinates over k dims of self, whose sizes it
// must match. The index tensors broadcast together to a shape B. The result
// has B where the indexed dims were when they are adjacent, and B in front
// otherwise, with the other dims of self around it, in order.
//
// Results whose shape depends on values (a bool mask, nonzero, masked_select)
// cannot be made on the meta device: the call is a ValueError there.
#pragma once

#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// self[indices] (a new tensor); IndexError for an index out of range or a mask
// whose shape does not match the dims it covers.
SY_API Tensor index(const Tensor& self, OptionalTensorListRef indices);
// self[indices] = values: values (of self's dtype) broadcast to the shape
// self[indices] has; with accumulate, values are added (repeated positions add
// up). index_put works on a copy.
SY_API const Tensor& index_put_(const Tensor& self, OptionalTensorListRef indices,
                                const Tensor& values, bool accumulate = false);
SY_API Tensor index_put(const Tensor& self, OptionalTensorListRef indices, const Tensor& values,
                        bool accumulate = false);
// self where mask (bool, broadcast to self) is false, value where it is true.
// The in-place form keeps self's shape; the other broadcasts self and mask.
// A Tensor value must be zero-dim.
SY_API Tensor masked_fill(const Tensor& self, const Tensor& mask, const Scalar& value);
SY_API Tensor masked_fill(const Tensor& self, const Tensor& mask, const Tensor& value);
SY_API const Tensor& masked_fill_(const Tensor& self, const Tensor& mask, const Scalar& value);
SY_API const Tensor& masked_fill_(const Tensor& self, const Tensor& mask, const Tensor& value);
// The elements of self (broadcast with mask) where mask is true, as a 1-d tensor.
SY_API Tensor masked_select(const Tensor& self, const Tensor& mask);
// The coordinates of the nonzero elements, one row each: int64 of shape [n, self.dim()].
SY_API Tensor nonzero(const Tensor& self);

// self with self[index[i][j]][j] = src[i][j] (dim 0; likewise for other dims):
// index has self's rank, is no larger than src in any dim and than self in
// dims other than `dim`; an index out of range is an IndexError. With repeated
// positions one of the values wins. scatter_add adds instead (all of them).
SY_API Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
SY_API Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Scalar& value);
SY_API const Tensor& scatter_(const Tensor& self, int64_t dim, const Tensor& index,
                              const Tensor& src);
SY_API const Tensor& scatter_(const Tensor& self, int64_t dim, const Tensor& index,
                              const Scalar& value);
SY_API Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index,
                          const Tensor& src);
SY_API const Tensor& scatter_add_(const Tensor& self, int64_t dim, const Tensor& index,
                                  const Tensor& src);

}  // namespace sy
