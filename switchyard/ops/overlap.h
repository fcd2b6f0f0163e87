// Internal to the ops layer: checks before writing into a tensor in place.
#pragma once

#include <algorithm>
#include <string_view>

#include "switchyard/core/error.h"
#include "switchyard/core/thread_local_state.h"
#include "switchyard/tensor/tensor.h"

namespace sy::detail {

// Whether distinct indices of `t` can reach one element: a broadcast (stride 0)
// dim of size > 1, or strides too small for the dims inside them. Conservative:
// a tensor it calls overlapping might in rare layouts not be, never the other way.
// An empty tensor has no elements to overlap, whatever its strides.
inline bool has_internal_overlap(const Tensor& t) {
  if (t.numel() == 0) return false;
  DimVector order;
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.sizes()[d] == 1) continue;
    if (t.strides()[d] == 0) return true;
    order.push_back(d);
  }
  std::sort(order.data(), order.data() + order.size(),
            [&](int64_t a, int64_t b) { return t.strides()[a] < t.strides()[b]; });
  int64_t extent = 1;  // elements the dims inside the current one span
  for (size_t i = 0; i < order.size(); ++i) {
    const int64_t d = order[i];
    if (t.strides()[d] < extent) return true;
    extent = t.strides()[d] * (t.sizes()[d] - 1) + extent;
  }
  return false;
}

// Throws a ValueError when `t` may not be written in place by `op`: its
// elements overlap, or it is an inference tensor and the calling thread is not
// in inference mode (as in PyTorch: autograd could not see the change).
inline void check_writable(std::string_view op, const Tensor& t) {
  SY_CHECK(!t.is_inference() || ::sy::tls_autograd_state().inference_mode, Error,
           "{}: cannot write in place into an inference tensor (made in inference mode) "
           "outside inference mode; clone() it first to get a normal tensor, or write "
           "inside sy.inference_mode()",
           op);
  SY_CHECK(!has_internal_overlap(t), ValueError,
           "{}: cannot write in place into a tensor whose elements overlap (shape {}, strides "
           "{}), such as an expand()ed view; clone() it first to get a tensor of its own",
           op, to_string(t.sizes()), to_string(t.strides()));
}

// Whether `a` and `b` share storage with overlapping element ranges.
inline bool may_overlap(const Tensor& a, const Tensor& b) {
  if (a.impl()->storage().get() != b.impl()->storage().get()) return false;
  if (a.numel() == 0 || b.numel() == 0) return false;
  auto range = [](const Tensor& t) {
    int64_t lo = t.storage_offset(), hi = t.storage_offset();
    for (int64_t d = 0; d < t.dim(); ++d) {
      const int64_t span = t.strides()[d] * (t.sizes()[d] - 1);
      (span < 0 ? lo : hi) += span;
    }
    return std::pair<int64_t, int64_t>(lo, hi);
  };
  const auto [alo, ahi] = range(a);
  const auto [blo, bhi] = range(b);
  return alo <= bhi && blo <= ahi;
}

}  // namespace sy::detail
