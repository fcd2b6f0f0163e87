// Internal to the ops layer: loops over the elements of strided tensors.
#pragma once

#include <cstdint>

#include "switchyard/tensor/tensor.h"

namespace sy::detail {

// Elements below which a loop is not worth splitting across threads.
inline constexpr int64_t kGrain = 32768;

// Calls fn(offset_a, offset_b, offset_out) in elements for every element of
// `sizes`, given each operand's strides (0 along broadcast dimensions).
template <typename F>
inline void for_each_offset(IntArrayRef sizes, const DimVector& sa, const DimVector& sb,
                     const DimVector& so, F fn) {
  const size_t nd = sizes.size();
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  if (numel == 0) return;
  DimVector index(nd, 0);
  int64_t oa = 0, ob = 0, oo = 0;
  for (int64_t n = 0; n < numel; ++n) {
    fn(oa, ob, oo);
    for (size_t d = nd; d-- > 0;) {
      if (++index[d] < sizes[d]) {
        oa += sa[d];
        ob += sb[d];
        oo += so[d];
        break;
      }
      oa -= sa[d] * (sizes[d] - 1);
      ob -= sb[d] * (sizes[d] - 1);
      oo -= so[d] * (sizes[d] - 1);
      index[d] = 0;
    }
  }
}

// Strides of `t` seen at `sizes` (right-aligned), 0 where it broadcasts.
inline DimVector broadcast_strides(const Tensor& t, IntArrayRef sizes) {
  DimVector out(sizes.size(), 0);
  const int64_t shift = static_cast<int64_t>(sizes.size()) - t.dim();
  for (int64_t d = 0; d < t.dim(); ++d) {
    out[shift + d] = t.sizes()[d] == 1 ? 0 : t.strides()[d];
  }
  return out;
}

}  // namespace sy::detail
