// repeat, Python's .T and .mT, and detach (layout_ops.cpp). Every dim argument
// may be negative (counted from the end).
#pragma once

#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy {

// self tiled repeats[k] times along dim k (a copy); `repeats` has at least
// self.dim() entries, extra ones add leading dims.
SY_API Tensor repeat(const Tensor& self, IntArrayRef repeats);
// The dims in reverse order (Python's t.T).
SY_API Tensor numpy_T(const Tensor& self);
// The last two dims swapped (Python's t.mT); needs at least two dims.
SY_API Tensor mT(const Tensor& self);
// A view of self's data that requires no grad (shares storage with self).
SY_API Tensor detach(const Tensor& self);

}  // namespace sy
