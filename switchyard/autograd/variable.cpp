// Tensor's autograd methods (declared in tensor/tensor.h).
#include <algorithm>

#include "switchyard/autograd/autograd.h"
#include "switchyard/autograd/autograd_meta.h"
#include "switchyard/core/thread_local_state.h"

namespace sy {

using autograd::AutogradMeta;
namespace impl = autograd::impl;

const Tensor& Tensor::requires_grad_(bool requires_grad) const {
  SY_CHECK(!requires_grad || is_floating_point(dtype()), AutogradError,
           "requires_grad_(True): only floating-point tensors can require gradients, got dtype {}",
           sy::to_string(dtype()));
  SY_CHECK(!requires_grad || !is_inference() || tls_autograd_state().inference_mode, AutogradError,
           "requires_grad_(True) on an inference tensor outside InferenceMode: tensors made in "
           "inference mode take no part in autograd. Clone it outside inference mode first.");
  if (SY_UNLIKELY(tls_any_slot_set())) check_slots_support_inplace_requires_grad();
  if (!is_leaf()) {
    SY_CHECK(requires_grad, AutogradError,
             "requires_grad_(False): only leaf tensors can stop requiring grad, and this one was "
             "made by {}; use detach() for a tensor outside the graph",
             grad_fn()->name());
    return *this;
  }
  impl_->set_requires_grad(requires_grad);
  return *this;
}

Tensor Tensor::grad() const {
  AutogradMeta* meta = impl::get_autograd_meta(*this);
  if (meta == nullptr) return Tensor();
  std::lock_guard<std::mutex> lock(meta->mutex);
  return meta->grad;
}

Tensor& Tensor::mutable_grad() const { return impl::materialize_autograd_meta(*this).grad; }

bool Tensor::is_leaf() const { return impl::grad_fn(*this) == nullptr; }

const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const { return impl::grad_fn(*this); }

uint32_t Tensor::output_nr() const {
  AutogradMeta* meta = impl::get_autograd_meta(*this);
  return meta != nullptr ? meta->output_nr : 0;
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph, bool create_graph,
                      const std::vector<Tensor>& inputs) const {
  autograd::backward({*this}, {gradient}, retain_graph, create_graph, inputs);
}

void Tensor::retain_grad() const {
  if (SY_UNLIKELY(tls_any_slot_set())) check_slots_support_retain_grad();
  SY_CHECK(requires_grad(), AutogradError,
           "retain_grad(): the tensor does not require grad, so it never gets a gradient");
  const std::shared_ptr<autograd::Node>& fn = grad_fn();
  if (!fn) return;  // leaves keep their gradient anyway
  AutogradMeta& meta = impl::materialize_autograd_meta(*this);
  if (meta.retains_grad) return;
  meta.retains_grad = true;
  fn->set_retains_grad(meta.output_nr, &meta);
}

bool Tensor::retains_grad() const {
  AutogradMeta* meta = impl::get_autograd_meta(*this);
  return meta != nullptr && meta->retains_grad;
}

uint64_t Tensor::register_hook(std::function<Tensor(const Tensor&)> hook) const {
  SY_CHECK(requires_grad(), AutogradError,
           "register_hook(): the tensor does not require grad, so no gradient will reach a hook");
  SY_CHECK(static_cast<bool>(hook), AutogradError, "register_hook(): the hook is empty");
  const std::shared_ptr<autograd::Node>& fn = grad_fn();
  if (fn) return fn->add_tensor_pre_hook(output_nr(), std::move(hook));
  AutogradMeta& meta = impl::materialize_autograd_meta(*this);
  const uint64_t id = autograd::next_hook_id();
  meta.leaf_hooks.push_back({id, std::move(hook)});
  return id;
}

void Tensor::remove_hook(uint64_t id) const {
  AutogradMeta* meta = impl::get_autograd_meta(*this);
  if (meta == nullptr) return;
  auto& hooks = meta->leaf_hooks;
  const auto it =
      std::find_if(hooks.begin(), hooks.end(), [&](const auto& h) { return h.id == id; });
  if (it != hooks.end()) {
    hooks.erase(it);
    return;
  }
  if (meta->grad_fn) meta->grad_fn->remove_tensor_pre_hook(id);
}

Tensor Tensor::detach() const { return impl::alias_without_autograd(*this); }

const Tensor& Tensor::detach_() const {
  SY_CHECK(!is_view(), AutogradError,
           "detach_(): views cannot be detached in place (their base keeps the history); use "
           "detach() instead");
  if (AutogradMeta* meta = impl::get_autograd_meta(*this)) {
    if (meta->retains_grad && meta->grad_fn) {
      meta->grad_fn->clear_retains_grad(meta->output_nr, meta);
      meta->retains_grad = false;
    }
    meta->grad_fn.reset();
    meta->output_nr = 0;
  }
  impl_->set_requires_grad(false);
  return *this;
}

bool Tensor::is_view() const { return impl::is_view(*this); }

Tensor Tensor::_base() const {
  AutogradMeta* meta = impl::get_autograd_meta(*this);
  return meta != nullptr && meta->view ? meta->view->base : Tensor();
}

}  // namespace sy
