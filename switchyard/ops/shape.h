// Views and shape ops. Views share their input's storage and never copy;
// reshape and contiguous copy only when a view cannot express the result.
// Every dim argument may be negative (counted from the end).
#pragma once

#include <optional>

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// A view with sizes `size` (one entry may be -1: inferred); the strides must
// allow it without copying, otherwise a ValueError says to use reshape().
SY_API Tensor view(const Tensor& self, IntArrayRef size);
// view() when possible, else a contiguous copy with the new shape.
SY_API Tensor reshape(const Tensor& self, IntArrayRef shape);
// Dims start_dim..end_dim merged into one.
SY_API Tensor flatten(const Tensor& self, int64_t start_dim = 0, int64_t end_dim = -1);
SY_API Tensor transpose(const Tensor& self, int64_t dim0, int64_t dim1);
// transpose(0, 1) of a matrix; vectors and scalars are returned as they are.
SY_API Tensor t(const Tensor& self);
SY_API Tensor permute(const Tensor& self, IntArrayRef dims);
// The slice at `index` along `dim`, which disappears.
SY_API Tensor select(const Tensor& self, int64_t dim, int64_t index);
// Elements start, start+step, ... before end along `dim` (start/end clamp to
// the size, as Python slices do; step > 0).
SY_API Tensor slice(const Tensor& self, int64_t dim = 0, std::optional<int64_t> start = {},
                    std::optional<int64_t> end = {}, int64_t step = 1);
// `length` elements from `start` along `dim` (must fit).
SY_API Tensor narrow(const Tensor& self, int64_t dim, int64_t start, int64_t length);
SY_API Tensor unsqueeze(const Tensor& self, int64_t dim);
// Without its size-1 dims; or without `dim` if that has size 1.
SY_API Tensor squeeze(const Tensor& self);
SY_API Tensor squeeze(const Tensor& self, int64_t dim);
// A view broadcast to `size` (-1 keeps a size; new dims go in front; stride 0).
SY_API Tensor expand(const Tensor& self, IntArrayRef size);
// self when contiguous, else a contiguous copy.
SY_API Tensor contiguous(const Tensor& self);
// A contiguous copy with storage of its own.
SY_API Tensor clone(const Tensor& self);
// Copies src (broadcast to self's shape, converted to self's dtype) into self.
SY_API const Tensor& copy_(const Tensor& self, const Tensor& src);
// self converted to `dtype` (self itself when it already is, unless copy).
SY_API Tensor to(const Tensor& self, ScalarType dtype, bool copy = false);
// self on `device` (and dtype); data cannot leave the meta device.
SY_API Tensor to(const Tensor& self, Device device, std::optional<ScalarType> dtype = {},
                 bool copy = false);

}  // namespace sy
