#include "switchyard/autograd/saved_variable.h"

#include "switchyard/autograd/autograd_meta.h"
#include "switchyard/autograd/grad_mode.h"
#include "switchyard/autograd/view_nodes.h"

namespace sy::autograd {

SavedVariable::SavedVariable(const Tensor& t, bool is_output, bool is_inplace) {
  if (!t.defined()) return;
  was_defined_ = true;
  is_output_ = is_output;
  saved_version_ = t._version();
  requires_grad_ = t.requires_grad();
  if (is_output && requires_grad_) {
    // Without the grad_fn, which is the saving node itself.
    const AutogradMeta* meta = impl::get_autograd_meta(t);
    if (is_inplace && meta != nullptr && meta->view != nullptr && meta->view->differentiable &&
        meta->view->base.requires_grad()) {
      const Tensor& base = meta->view->base;
      view_base_ = impl::alias_without_autograd(base);
      base_fn_ = impl::grad_fn(base);
      base_output_nr_ = base.output_nr();
    }
    output_nr_ = t.output_nr();
    grad_fn_ = impl::grad_fn(t);
    data_ = impl::alias_without_autograd(t);
  } else {
    data_ = t;
  }
}

namespace {
std::string describe(const Tensor& t) {
  return fmt::format("a {} tensor of shape {}", to_string(t.dtype()), to_string(t.sizes()));
}
std::string node_name(const Node* n) { return n != nullptr ? n->name() : std::string("a node"); }
}  // namespace

Tensor SavedVariable::unpack(const Node* saved_for) const {
  if (!was_defined_) return Tensor();
  SY_CHECK(!released_, AutogradError,
           "trying to backward through the graph a second time (or to use saved tensors after "
           "they were freed): {} already released what it saved. Pass retain_graph=True to the "
           "first backward (or autograd::grad) to keep them.",
           node_name(saved_for));
  const uint32_t now = data_._version();
  if (SY_UNLIKELY(now != saved_version_)) {
    const std::string node = node_name(saved_for);
    std::string made_by;
    if (is_output_) {
      made_by = fmt::format(", which is output {} of {}", output_nr_, node);
    } else if (const auto& fn = impl::grad_fn(data_)) {
      made_by = fmt::format(", which is output {} of {}", data_.output_nr(), fn->name());
    }
    SY_THROW(AutogradError,
             "one of the tensors needed by {} to compute gradients was modified by an in-place "
             "operation: {}{}, is at version {}; expected version {} instead. Clone it before "
             "modifying it, or modify a copy.",
             node, describe(data_), made_by, now, saved_version_);
  }
  if (!is_output_ || !requires_grad_ || saved_for == nullptr || !GradMode::is_enabled()) {
    return data_;
  }
  // Double backward: the saved output gets its history back.
  Tensor t = impl::alias_without_autograd(data_);
  if (view_base_.defined()) {
    // The view's history through its base's (the view's own grad_fn, made
    // when the op ran, may be gone with the view).
    std::shared_ptr<Node> base_fn = base_fn_.lock();
    SY_CHECK(base_fn != nullptr, AutogradError,
             "{}: the history of the base of a view modified in place is gone; keep the graph "
             "alive (retain_graph) while differentiating through it",
             node_name(saved_for));
    auto fn = std::make_shared<AsStridedBackward>(view_base_, t,
                                                  Edge(std::move(base_fn), base_output_nr_));
    const uint32_t nr = fn->add_input_metadata(t);
    impl::set_gradient_edge(t, std::move(fn), nr);
    return t;
  }
  std::shared_ptr<Node> fn = grad_fn_.lock();
  SY_CHECK(fn != nullptr, AutogradError,
           "{}: the node that saved this output is gone; keep the graph alive while "
           "differentiating through it",
           node_name(saved_for));
  impl::set_gradient_edge(t, std::move(fn), output_nr_);
  return t;
}

void SavedVariable::reset_data() {
  if (!was_defined_) return;
  data_ = Tensor();
  view_base_ = Tensor();
  grad_fn_.reset();
  released_ = true;
}

}  // namespace sy::autograd
