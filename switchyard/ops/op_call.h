// Internal to the ops layer: the typed handle a free function calls through,
// and the dim checks every family shares.
#pragma once

#include <string_view>

#include "switchyard/core/error.h"
#include "switchyard/dispatch/dispatcher.h"

namespace sy::detail {

// The typed handle of the op named `name` ("sy::add.Tensor"); free functions keep
// it in a function-local static, so the lookup happens once.
template <typename Sig>
TypedOperatorHandle<Sig> typed_op(std::string_view name) {
  return Dispatcher::singleton().find_op(name).typed<Sig>();
}

// `dim` counted from the front, for a tensor of `ndim` dims (a negative dim
// counts from the end); an IndexError naming the op and the valid range
// otherwise. Zero-dim tensors accept dims 0 and -1, as in PyTorch.
inline int64_t wrap_dim(std::string_view op, int64_t dim, int64_t ndim) {
  const int64_t n = ndim == 0 ? 1 : ndim;
  SY_CHECK(dim >= -n && dim < n, IndexError,
           "{}: dim {} is out of range for a tensor of {} dimensions (expected a dim in [{}, {}])",
           op, dim, ndim, -n, n - 1);
  return dim < 0 ? dim + n : dim;
}

}  // namespace sy::detail
