// Joining, splitting and indexing: cat, stack, split, chunk, index_select,
// gather. split and chunk return views; the others make new tensors.
#pragma once

#include <vector>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// `tensors` joined along `dim`; all sizes but dim's must match (1-d empty
// tensors are skipped, as in PyTorch); the dtype is their promoted dtype.
SY_API Tensor cat(ArrayRef<Tensor> tensors, int64_t dim = 0);
SY_API const Tensor& cat_out(const Tensor& out, ArrayRef<Tensor> tensors, int64_t dim = 0);
// `tensors` (of one shape) stacked along a new dim.
SY_API Tensor stack(ArrayRef<Tensor> tensors, int64_t dim = 0);
// Views of consecutive pieces of `split_size` along dim (the last may be
// smaller), or of the given sizes (which must add up to dim's size).
SY_API std::vector<Tensor> split(const Tensor& self, int64_t split_size, int64_t dim = 0);
SY_API std::vector<Tensor> split(const Tensor& self, IntArrayRef split_sizes, int64_t dim = 0);
// `chunks` views of (nearly) equal size along dim; fewer when dim is short.
SY_API std::vector<Tensor> chunk(const Tensor& self, int64_t chunks, int64_t dim = 0);
// The slices of self at `index` (a 1-d integer tensor) along dim.
SY_API Tensor index_select(const Tensor& self, int64_t dim, const Tensor& index);
// out[i][j] = self[index[i][j]][j] (dim 0), and likewise for other dims;
// index has self's rank and an integer dtype, the result index's shape.
SY_API Tensor gather(const Tensor& self, int64_t dim, const Tensor& index);

}  // namespace sy
