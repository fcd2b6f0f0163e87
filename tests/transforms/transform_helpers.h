// Helpers the transforms tests share.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "switchyard/switchyard.h"

namespace sy::testing_transforms {

// A one-output function for vmap and the grad transforms.
inline func::TensorFunction one(std::function<Tensor(const std::vector<Tensor>&)> f) {
  return [f = std::move(f)](const std::vector<Tensor>& in) { return std::vector<Tensor>{f(in)}; };
}

// Same shape and dtype, and values within float32 rounding.
inline bool same(const Tensor& a, const Tensor& b) {
  return a.sizes() == b.sizes() && a.dtype() == b.dtype() && allclose(a, b, 1e-5, 1e-6);
}

// 0, 1, 2, ... in float32, shaped `sizes`.
inline Tensor arange_f(const std::vector<int64_t>& sizes) {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  return arange(n, TensorOptions().dtype(kFloat32)).reshape(sizes);
}

}  // namespace sy::testing_transforms
