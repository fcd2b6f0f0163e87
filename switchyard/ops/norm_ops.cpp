// Vector norms (norm_ops.yaml): linalg_vector_norm and PyTorch's norm overloads,
// all composites of elementwise ops and reductions (so every backend with
// those has norms, and meta tensors get their shapes).
#include <cmath>
#include <limits>
#include <vector>

#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::wrap_dim;

// The largest (or smallest) element of x over `dims` (all when empty).
Tensor extreme(const Tensor& x, IntArrayRef dims, bool keepdim, bool largest) {
  const int64_t nd = x.dim();
  std::vector<bool> reduced(static_cast<size_t>(std::max<int64_t>(nd, 1)), dims.empty());
  for (int64_t d : dims) reduced[static_cast<size_t>(wrap_dim("linalg_vector_norm", d, nd))] = true;
  // Move the reduced dims last and merge them into one.
  DimVector perm, kept_shape, keep_shape;
  int64_t r = 1;
  for (int64_t d = 0; d < nd; ++d) {
    if (!reduced[d]) perm.push_back(d), kept_shape.push_back(x.sizes()[d]);
  }
  for (int64_t d = 0; d < nd; ++d) {
    if (reduced[d]) perm.push_back(d), r *= x.sizes()[d];
    keep_shape.push_back(reduced[d] ? 1 : x.sizes()[d]);
  }
  DimVector merged = kept_shape;
  merged.push_back(r);
  const Tensor flat = nd == 0 ? x.reshape({1}) : x.permute(perm).reshape(merged);
  Tensor out = std::get<0>(largest ? max(flat, -1) : min(flat, -1));
  return keepdim && nd > 0 ? out.reshape(keep_shape) : out;
}

Tensor vector_norm(const Tensor& self, const Scalar& ord, std::optional<IntArrayRef> dim,
                   bool keepdim, std::optional<ScalarType> dtype) {
  const Tensor x = dtype ? self.to(*dtype) : self;
  SY_CHECK(is_floating_point(x.dtype()), TypeError,
           "linalg_vector_norm: expected a floating-point input, got {}; convert it (e.g. "
           ".float()) or pass dtype=",
           to_string(x.dtype()));
  if (is_reduced_float(x.dtype())) {  // float16/bfloat16: squares overflow; compute in float32
    return vector_norm(x.to(kFloat32), ord, dim, keepdim, std::nullopt).to(x.dtype());
  }
  const IntArrayRef dims = dim.value_or(IntArrayRef());
  const double p = ord.to<double>();
  const Tensor a = abs(x);
  if (std::isinf(p)) {
    int64_t reduced = 1;
    if (dims.empty()) {
      reduced = x.numel();
    } else {
      for (int64_t d : dims)
        reduced *= x.dim() == 0 ? 1 : x.sizes()[wrap_dim("linalg_vector_norm", d, x.dim())];
    }
    SY_CHECK(reduced > 0 || x.is_meta(), ValueError,
             "linalg_vector_norm: the {}inf norm of an empty tensor (shape {}) has no value; "
             "the maximum of nothing is undefined",
             p < 0 ? "-" : "", to_string(x.sizes()));
    return extreme(a, dims, keepdim, p > 0);
  }
  if (p == 0) return sum(ne(x, 0), dims, keepdim, x.dtype());
  if (p == 1) return sum(a, dims, keepdim);
  if (p == 2) return sqrt(sum(mul(a, a), dims, keepdim));
  return pow(sum(pow(a, ord), dims, keepdim), Scalar(1.0 / p));
}

Tensor norm_scalar(const Tensor& self, const Scalar& p) {
  return vector_norm(self, p, std::nullopt, false, std::nullopt);
}
Tensor norm_dim(const Tensor& self, const std::optional<Scalar>& p, IntArrayRef dim, bool keepdim) {
  return vector_norm(self, p.value_or(Scalar(2)), dim, keepdim, std::nullopt);
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/norm_ops_registrations.h"
