// repeat, numpy_T (Python's .T), mT and detach (layout_ops.yaml). detach makes a view
// at CompositeExplicitAutograd (one kernel for every backend, as the views in
// shape_ops.cpp); repeat, numpy_T and mT are composites of views and reshape.
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

// A view of self's data that requires no grad.
Tensor detach_kernel(const Tensor& self) {
  return Tensor(IntrusivePtr<TensorImpl>::make(self.impl()->storage(), self.dtype(), self.sizes(),
                                               self.strides(), self.storage_offset()));
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/layout_ops_registrations.h"
