#include "switchyard/autograd/basic_nodes.h"

#include "switchyard/autograd/autograd_meta.h"
#include "switchyard/autograd/grad_mode.h"
#include "switchyard/ops/elementwise.h"
#include "switchyard/ops/shape.h"

namespace sy::autograd {

AccumulateGrad::AccumulateGrad(Tensor variable) : Node(UINT64_MAX), variable_(std::move(variable)) {
  add_input_metadata(variable_);
}

Tensor AccumulateGrad::run_leaf_hooks(Tensor grad) const {
  AutogradMeta* meta = impl::get_autograd_meta(variable_);
  if (meta == nullptr || meta->leaf_hooks.empty()) return grad;
  // A copy: a hook may register or remove hooks.
  const std::vector<AutogradMeta::Hook> hooks = meta->leaf_hooks;
  for (const auto& h : hooks) {
    if (!grad.defined()) break;
    Tensor replaced = h.fn(grad);
    if (replaced.defined()) grad = std::move(replaced);
  }
  return grad;
}

variable_list AccumulateGrad::apply(variable_list&& grads) {
  Tensor g = std::move(grads[0]);
  if (!g.defined()) return {};
  AutogradMeta& meta = impl::materialize_autograd_meta(variable_);
  std::lock_guard<std::mutex> lock(meta.mutex);
  accumulate_into_grad(variable_, std::move(g));
  return {};
}

void accumulate_into_grad(const Tensor& variable, Tensor new_grad) {
  AutogradMeta& meta = impl::materialize_autograd_meta(variable);
  Tensor& grad = meta.grad;
  if (!grad.defined()) {
    // Take over a gradient nobody else holds when its layout is the leaf's.
    const bool steal = !GradMode::is_enabled() && new_grad.use_count() == 1 &&
                       new_grad.is_contiguous() && variable.is_contiguous() &&
                       new_grad.sizes() == variable.sizes() && !new_grad.requires_grad();
    grad = steal ? std::move(new_grad) : sy::clone(new_grad);
  } else if (!GradMode::is_enabled()) {
    grad.add_(new_grad);
  } else {
    grad = sy::add(grad, new_grad);
  }
}

GraphRoot::GraphRoot(const std::vector<Edge>& roots, variable_list grads)
    : Node(UINT64_MAX), grads_(std::move(grads)) {
  for (const Edge& e : roots) add_next_edge(e);
}

}  // namespace sy::autograd
