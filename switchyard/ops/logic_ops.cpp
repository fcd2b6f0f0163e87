// any and all (logic_ops.yaml), one kernel each serving CPU and Meta.
#include <cstring>

#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::kGrain;
using detail::wrap_dim;

// ---- any, all ---------------------------------------------------------------------------------

// Whether the bytes of p[0, n) (0 or 1) have any 1 (any) or are all 1 (all).
bool reduce_flags(const uint8_t* p, int64_t n, bool all) {
  if (all) return std::memchr(p, 0, static_cast<size_t>(n)) == nullptr;
  for (int64_t i = 0; i < n; ++i) {
    if (p[i]) return true;
  }
  return false;
}

// any / all over every element (dim absent) or along one dim. The result is
// bool, except for uint8 inputs, which give uint8 (as in PyTorch).
Tensor any_all_impl(std::string_view op, const Tensor& self, std::optional<int64_t> dim,
                    bool keepdim, bool all) {
  const ScalarType out_t = self.dtype() == kUInt8 ? kUInt8 : kBool;
  DimVector shape;
  int64_t d = -1;
  if (dim) {
    d = wrap_dim(op, *dim, self.dim());
    for (int64_t k = 0; k < self.dim(); ++k) {
      if (k != d) {
        shape.push_back(self.sizes()[k]);
      } else if (keepdim) {
        shape.push_back(1);
      }
    }
  }
  Tensor out = make_tensor(shape, out_t, self.device());
  if (out.is_meta() || out.numel() == 0) return out;
  // One byte per element, 1 where the element is nonzero (NaN counts as nonzero).
  const Tensor flags = (self.dtype() == kBool ? self : ne(self, 0)).contiguous();
  const auto* p = static_cast<const uint8_t*>(flags.raw_data());
  auto* o = static_cast<uint8_t*>(out.raw_data());
  if (!dim || self.dim() == 0) {
    o[0] = reduce_flags(p, flags.numel(), all);
    return out;
  }
  int64_t outer = 1, R = self.sizes()[d], inner = 1;
  for (int64_t k = 0; k < self.dim(); ++k) {
    if (k < d) outer *= self.sizes()[k];
    if (k > d) inner *= self.sizes()[k];
  }
  parallel_for(0, outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, R * inner)),
               [&](int64_t b, int64_t e) {
                 for (int64_t k = b; k < e; ++k) {
                   const uint8_t* in = p + k * R * inner;
                   uint8_t* res = o + k * inner;
                   if (inner == 1) {
                     res[0] = reduce_flags(in, R, all);
                     continue;
                   }
                   for (int64_t i = 0; i < inner; ++i) res[i] = all ? 1 : 0;
                   for (int64_t r = 0; r < R; ++r) {
                     for (int64_t i = 0; i < inner; ++i) {
                       res[i] = all ? (res[i] & in[r * inner + i]) : (res[i] | in[r * inner + i]);
                     }
                   }
                 }
               });
  return out;
}

Tensor any_k(const Tensor& self) { return any_all_impl("any", self, std::nullopt, false, false); }
Tensor any_dim_k(const Tensor& self, int64_t dim, bool keepdim) {
  return any_all_impl("any", self, dim, keepdim, false);
}
Tensor all_k(const Tensor& self) { return any_all_impl("all", self, std::nullopt, false, true); }
Tensor all_dim_k(const Tensor& self, int64_t dim, bool keepdim) {
  return any_all_impl("all", self, dim, keepdim, true);
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/logic_ops_registrations.h"
