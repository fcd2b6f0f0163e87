// sort, argsort and topk (sort_ops.yaml). sort and topk have one kernel each
// serving CPU and Meta (on meta tensors only the results are made); argsort
// and sort.stable are composites over sort.
//
// Each kernel sees self as [outer, L, inner] with L the sorted dim, and sorts
// the outer * inner lines independently (in parallel), each as (value, index)
// pairs so equal values keep their order.
#include <algorithm>
#include <vector>

#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::kGrain;
using detail::wrap_dim;

// self as lines along dim: x is contiguous, line (o, i) starts at o * L * inner + i.
struct Lines {
  Tensor x;
  int64_t outer = 1, L = 1, inner = 1, dim = 0;
};

Lines lines_of(std::string_view op, const Tensor& self, int64_t dim) {
  Lines l;
  l.dim = wrap_dim(op, dim, self.dim());
  for (int64_t k = 0; k < self.dim(); ++k) {
    (k < l.dim ? l.outer : k == l.dim ? l.L : l.inner) *= self.sizes()[k];
  }
  if (!self.is_meta()) l.x = self.contiguous();
  return l;
}

// Orders values with NaN above every number; ties broken by index (stable).
template <typename T>
struct Before {
  bool descending;
  bool operator()(const std::pair<T, int64_t>& a, const std::pair<T, int64_t>& b) const {
    const auto x = static_cast<std::conditional_t<is_floating_type_v<T>, double, T>>(a.first);
    const auto y = static_cast<std::conditional_t<is_floating_type_v<T>, double, T>>(b.first);
    if constexpr (is_floating_type_v<T>) {
      const bool xn = x != x, yn = y != y;
      if (xn || yn) {
        if (xn && yn) return a.second < b.second;
        return descending ? xn : yn;  // NaN is the largest
      }
    }
    if (x != y) return descending ? x > y : x < y;
    return a.second < b.second;
  }
};

// For each line: the first `k` of its (value, index) pairs in order (all of
// them, sorted, when k == L), written to values and indices (contiguous,
// [outer, k, inner]).
template <typename T>
void order_lines(const Lines& l, int64_t k, bool descending, bool sorted, const Tensor& values,
                 const Tensor& indices) {
  const T* x = static_cast<const T*>(l.x.raw_data());
  T* vo = static_cast<T*>(values.raw_data());
  int64_t* io = static_cast<int64_t*>(indices.raw_data());
  const int64_t lines = l.outer * l.inner;
  parallel_for(0, lines, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, l.L)),
               [&](int64_t b, int64_t e) {
                 std::vector<std::pair<T, int64_t>> buf(static_cast<size_t>(l.L));
                 const Before<T> before{descending};
                 for (int64_t line = b; line < e; ++line) {
                   const int64_t o = line / l.inner, i = line % l.inner;
                   const T* in = x + o * l.L * l.inner + i;
                   for (int64_t j = 0; j < l.L; ++j)
                     buf[static_cast<size_t>(j)] = {in[j * l.inner], j};
                   if (k == l.L) {
                     std::sort(buf.begin(), buf.end(), before);
                   } else if (sorted) {
                     std::partial_sort(buf.begin(), buf.begin() + k, buf.end(), before);
                   } else {
                     std::nth_element(buf.begin(), buf.begin() + k, buf.end(), before);
                     std::sort(buf.begin(), buf.begin() + k, [](const auto& p, const auto& q) {
                       return p.second < q.second;  // unsorted: in index order
                     });
                   }
                   T* vrow = vo + o * k * l.inner + i;
                   int64_t* irow = io + o * k * l.inner + i;
                   for (int64_t j = 0; j < k; ++j) {
                     vrow[j * l.inner] = buf[static_cast<size_t>(j)].first;
                     irow[j * l.inner] = buf[static_cast<size_t>(j)].second;
                   }
                 }
               });
}

std::tuple<Tensor, Tensor> order_impl(std::string_view op, const Tensor& self, int64_t k,
                                      int64_t dim, bool descending, bool sorted) {
  const Lines l = lines_of(op, self, dim);
  DimVector shape(self.sizes());
  if (self.dim() > 0) shape[l.dim] = k;
  Tensor values = make_tensor(shape, self.dtype(), self.device());
  Tensor indices = make_tensor(shape, kInt64, self.device());
  if (self.is_meta() || values.numel() == 0) return {values, indices};
  SY_DISPATCH_ALL_TYPES_AND_HALF(
      self.dtype(), op, [&] { order_lines<scalar_t>(l, k, descending, sorted, values, indices); });
  return {values, indices};
}

std::tuple<Tensor, Tensor> sort_k(const Tensor& self, int64_t dim, bool descending) {
  const int64_t d = wrap_dim("sort", dim, self.dim());
  const int64_t size = self.dim() == 0 ? 1 : self.sizes()[d];
  return order_impl("sort", self, size, dim, descending, true);
}

std::tuple<Tensor, Tensor> topk_k(const Tensor& self, int64_t k, int64_t dim, bool largest,
                                  bool sorted) {
  const int64_t d = wrap_dim("topk", dim, self.dim());
  const int64_t size = self.dim() == 0 ? 1 : self.sizes()[d];
  SY_CHECK(k >= 0 && k <= size, IndexError,
           "topk: k ({}) is out of range for dim {} of size {} (expected 0 <= k <= {})", k, d, size,
           size);
  // A zero-dim result holds one element whatever k is (0 or 1): as in PyTorch,
  // it is self's, at index 0 (computing k = 0 elements left it uninitialised).
  return order_impl("topk", self, self.dim() == 0 ? 1 : k, dim, largest, sorted);
}

// sort is always stable, so `stable` changes nothing (here and in argsort).
std::tuple<Tensor, Tensor> sort_stable_composite(const Tensor& self, std::optional<bool>,
                                                 int64_t dim, bool descending) {
  return sort(self, dim, descending);
}
Tensor argsort_composite(const Tensor& self, int64_t dim, bool descending) {
  return std::get<1>(sort(self, dim, descending));
}
Tensor argsort_stable_composite(const Tensor& self, bool, int64_t dim, bool descending) {
  return std::get<1>(sort(self, dim, descending));
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/sort_ops_registrations.h"
