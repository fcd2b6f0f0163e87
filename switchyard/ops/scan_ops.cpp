// cumsum and cumprod (scan_ops.yaml), one kernel each serving CPU and Meta.
//
// The input is seen as [outer, L, inner] with L the scanned dim. A running
// value is kept per (outer, inner) in the accumulator type (double for
// floating inputs, as PyTorch's CPU kernels do, int64 for integers) and each
// step's value is rounded into the result's dtype.
#include <vector>

#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::kGrain;
using detail::wrap_dim;

template <typename T>
using ScanAcc = std::conditional_t<is_floating_type_v<T>, double,
                                   std::conditional_t<std::is_same_v<T, bool>, int64_t, T>>;

template <typename T, bool Product>
void scan(const T* x, T* out, int64_t outer, int64_t L, int64_t inner) {
  using Acc = ScanAcc<T>;
  parallel_for(0, outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, L * inner)),
               [&](int64_t b, int64_t e) {
                 std::vector<Acc> acc(static_cast<size_t>(inner));
                 for (int64_t o = b; o < e; ++o) {
                   std::fill(acc.begin(), acc.end(), Acc(Product ? 1 : 0));
                   const T* in = x + o * L * inner;
                   T* res = out + o * L * inner;
                   for (int64_t l = 0; l < L; ++l) {
                     for (int64_t i = 0; i < inner; ++i) {
                       const Acc v = static_cast<Acc>(in[l * inner + i]);
                       Acc& a = acc[static_cast<size_t>(i)];
                       a = Product ? static_cast<Acc>(a * v) : static_cast<Acc>(a + v);
                       res[l * inner + i] = static_cast<T>(a);
                     }
                   }
                 }
               });
}

template <bool Product>
Tensor scan_k(std::string_view op, const Tensor& self, int64_t dim,
              std::optional<ScalarType> dtype) {
  const int64_t d = wrap_dim(op, dim, self.dim());
  const ScalarType out_t = dtype.value_or(is_integral(self.dtype(), true) ? kInt64 : self.dtype());
  Tensor out = make_tensor(self.sizes(), out_t, self.device());
  if (out.is_meta() || out.numel() == 0) return out;
  const Tensor x = detail::as_dtype(self, out_t).contiguous();
  int64_t outer = 1, L = 1, inner = 1;
  for (int64_t k = 0; k < self.dim(); ++k) (k < d ? outer : k == d ? L : inner) *= self.sizes()[k];
  SY_DISPATCH_ALL_TYPES_AND_HALF(out_t, op, [&] {
    scan<scalar_t, Product>(static_cast<const scalar_t*>(x.raw_data()),
                            static_cast<scalar_t*>(out.raw_data()), outer, L, inner);
  });
  return out;
}

Tensor cumsum_k(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  return scan_k<false>("cumsum", self, dim, dtype);
}
Tensor cumprod_k(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  return scan_k<true>("cumprod", self, dim, dtype);
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/scan_ops_registrations.h"
