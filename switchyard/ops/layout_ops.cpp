// repeat, numpy_T (Python's .T), mT, detach, flip, roll, tril, triu and
// repeat_interleave (layout_ops.yaml); all but detach are composites. detach makes a view
// at CompositeExplicitAutograd (one kernel for every backend, as the views in
// shape_ops.cpp); repeat, numpy_T and mT are composites of views and reshape.
#include <algorithm>

#include "switchyard/ops/op_call.h"
#include "switchyard/ops/ops.h"

namespace sy {
namespace {

// self tiled repeats[k] times along dim k; repeats may have more entries than
// self has dims (self gets leading size-1 dims).
Tensor repeat_composite(const Tensor& self, IntArrayRef repeats) {
  const int64_t n = static_cast<int64_t>(repeats.size());
  SY_CHECK(n >= self.dim(), ValueError,
           "repeat: repeats {} has {} entries, fewer than the tensor's {} dims; give one per dim "
           "(and more to add leading dims)",
           to_string(repeats), n, self.dim());
  for (int64_t r : repeats) {
    SY_CHECK(r >= 0, ValueError, "repeat: repeats must be >= 0, got {}", to_string(repeats));
  }
  // View self as [1, s0, 1, s1, ...], expand the 1s to the repeats, and let
  // reshape lay the copy out as [r0 * s0, r1 * s1, ...].
  DimVector padded(static_cast<size_t>(n - self.dim()), 1);
  for (int64_t s : self.sizes()) padded.push_back(s);
  DimVector pairs, expanded, result;
  for (int64_t k = 0; k < n; ++k) {
    pairs.push_back(1);
    pairs.push_back(padded[k]);
    expanded.push_back(repeats[k]);
    expanded.push_back(padded[k]);
    result.push_back(repeats[k] * padded[k]);
  }
  Tensor out = self.reshape(pairs).expand(expanded).reshape(result);
  // Each step may be a view (all repeats 1); the result always has data of its own.
  return out.impl()->storage().get() == self.impl()->storage().get() ? out.clone() : out;
}

// Python's t.T: the dims reversed.
Tensor numpy_T_composite(const Tensor& self) {
  DimVector dims;
  for (int64_t d = self.dim(); d-- > 0;) dims.push_back(d);
  return self.permute(dims);
}

// The last two dims swapped (batches of matrices transposed).
Tensor mT_composite(const Tensor& self) {
  SY_CHECK(self.dim() >= 2, ValueError,
           "mT: the tensor must have at least 2 dimensions (a matrix or a batch of them), got "
           "shape {}",
           to_string(self.sizes()));
  return self.transpose(-2, -1);
}

// Reversed along each of dims: one index_select with the positions backwards per dim.
Tensor flip_composite(const Tensor& self, IntArrayRef dims) {
  DimVector seen;
  Tensor out = self;
  for (int64_t dim : dims) {
    const int64_t d = detail::wrap_dim("flip", dim, self.dim());
    SY_CHECK(std::find(seen.data(), seen.data() + seen.size(), d) == seen.data() + seen.size(),
             ValueError, "flip: dim {} appears more than once in dims {}", d, to_string(dims));
    seen.push_back(d);
    const int64_t n = self.dim() == 0 ? 1 : self.sizes()[d];
    out = out.index_select(
        d, arange(Scalar(n - 1), Scalar(-1), Scalar(-1), TensorOptions().device(self.device())));
  }
  return out.impl()->storage().get() == self.impl()->storage().get() ? out.clone() : out;
}

// Each shift along its dim: the last `s` elements move to the front (cat of two narrows).
Tensor roll_composite(const Tensor& self, IntArrayRef shifts, IntArrayRef dims) {
  if (dims.empty()) {
    SY_CHECK(shifts.size() == 1, ValueError,
             "roll: without dims, shifts must be one number (the flattened tensor is rolled), "
             "got {}",
             to_string(shifts));
    return roll_composite(self.reshape({-1}), shifts, {int64_t{0}}).reshape(self.sizes());
  }
  SY_CHECK(shifts.size() == dims.size(), ValueError,
           "roll: shifts {} and dims {} must have the same length", to_string(shifts),
           to_string(dims));
  Tensor out = self;
  for (size_t k = 0; k < dims.size(); ++k) {
    const int64_t d = detail::wrap_dim("roll", dims[k], self.dim());
    const int64_t n = self.sizes()[d];
    if (n == 0) continue;
    const int64_t s = ((shifts[k] % n) + n) % n;
    if (s == 0) continue;
    out = cat(std::vector<Tensor>{out.narrow(d, n - s, s), out.narrow(d, 0, n - s)}, d);
  }
  return out.impl()->storage().get() == self.impl()->storage().get() ? out.clone() : out;
}

// column - row of every position of the last two dims, as an int64 [rows, cols] tensor.
Tensor column_minus_row(std::string_view op, const Tensor& self) {
  SY_CHECK(self.dim() >= 2, ValueError,
           "{}: the tensor must have at least 2 dimensions (a matrix or a batch of them), got "
           "shape {}",
           op, to_string(self.sizes()));
  const int64_t rows = self.sizes()[self.dim() - 2], cols = self.sizes()[self.dim() - 1];
  // On self's device, so that meta tensors stay meta.
  const TensorOptions on = TensorOptions().device(self.device());
  return arange(cols, on).sub(arange(rows, on).unsqueeze(1));
}
Tensor tril_composite(const Tensor& self, int64_t diagonal) {
  return self.masked_fill(column_minus_row("tril", self).gt(diagonal), Scalar(0));
}
Tensor triu_composite(const Tensor& self, int64_t diagonal) {
  return self.masked_fill(column_minus_row("triu", self).lt(diagonal), Scalar(0));
}

// Each element `repeats` times in a row: a new dim after `dim` expanded, then merged.
Tensor repeat_interleave_composite(const Tensor& self, int64_t repeats,
                                   std::optional<int64_t> dim) {
  SY_CHECK(repeats >= 0, ValueError, "repeat_interleave: repeats must be >= 0, got {}", repeats);
  const Tensor in = dim ? self : self.reshape({-1});
  const int64_t d =
      dim ? detail::wrap_dim("repeat_interleave", *dim, std::max<int64_t>(1, in.dim())) : 0;
  const Tensor x = in.dim() == 0 ? in.reshape({1}) : in;
  DimVector expanded, result;
  for (int64_t k = 0; k < x.dim(); ++k) {
    expanded.push_back(x.sizes()[k]);
    if (k == d) expanded.push_back(repeats);
    result.push_back(k == d ? x.sizes()[k] * repeats : x.sizes()[k]);
  }
  const Tensor out = x.unsqueeze(d + 1).expand(expanded).reshape(result);
  return out.impl()->storage().get() == self.impl()->storage().get() ? out.clone() : out;
}

// A view of self's data that requires no grad.
Tensor detach_kernel(const Tensor& self) {
  return Tensor(IntrusivePtr<TensorImpl>::make(self.impl()->storage(), self.dtype(), self.sizes(),
                                               self.strides(), self.storage_offset()));
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/layout_ops_registrations.h"
