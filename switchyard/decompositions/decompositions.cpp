// The built-in decompositions: ops written in other ops, for forward-mode AD
// (ops without a forward formula), vmap and the tracer. See registry.h.
#include "switchyard/decompositions/registry.h"
#include "switchyard/ops/ops.h"

namespace sy::decompositions {
namespace {

Tensor sigmoid(const Tensor& x) { return 1 / (1 + (-x).exp()); }

Tensor tanh(const Tensor& x) { return 2 / (1 + (-2 * x).exp()) - 1; }

const bool registered = [] {
  register_decomposition("sy::sigmoid", sigmoid);
  register_decomposition("sy::tanh", tanh);
  return true;
}();

}  // namespace
}  // namespace sy::decompositions
