#include "switchyard/autograd/kernel_support.h"

#include "switchyard/ops/creation.h"

namespace sy::autograd::detail {

void set_history(const Tensor& out, std::shared_ptr<Node> node) {
  if (!out.defined()) return;
  if (!is_floating_point(out.dtype())) {
    node->add_input_metadata_undefined();  // integer and bool results never require grad
    return;
  }
  const uint32_t nr = node->add_input_metadata(out);
  impl::set_gradient_edge(out, std::move(node), nr);
}

void throw_not_differentiable(std::string_view op, std::string_view what, std::string_view reason) {
  SY_THROW(DispatchError, "{}: {} is not implemented for this op ({}); an input requires it", op,
           what, reason);
}

void throw_out_not_differentiable(std::string_view op) {
  SY_THROW(AutogradError,
           "{}: ops with out= arguments do not support automatic differentiation, but an "
           "argument requires grad or carries a tangent; call the op without out=, or under "
           "no_grad()",
           op);
}

Tensor tangent_or_zeros(const Tensor& t, uint64_t level) {
  Tensor tangent = fw_grad(t, level);
  if (tangent.defined()) return tangent;
  return sy::zeros(t.sizes(), TensorOptions().dtype(t.dtype()).device(t.device()));
}

}  // namespace sy::autograd::detail
