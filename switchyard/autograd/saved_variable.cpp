#include "switchyard/autograd/saved_variable.h"

#include "switchyard/autograd/autograd_meta.h"
#include "switchyard/autograd/grad_mode.h"

namespace sy::autograd {

SavedVariable::SavedVariable(const Tensor& t, bool is_output) {
  if (!t.defined()) return;
  was_defined_ = true;
  is_output_ = is_output;
  saved_version_ = t._version();
  requires_grad_ = t.requires_grad();
  if (is_output && requires_grad_) {
    // Without the grad_fn, which is the saving node itself.
    const AutogradMeta* meta = impl::get_autograd_meta(t);
    if (meta != nullptr && meta->view != nullptr && meta->view->differentiable) {
      view_fn_ = impl::grad_fn(t);
    }
    output_nr_ = t.output_nr();
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
  if (std::shared_ptr<Node> fn = view_fn_.lock()) {
    impl::set_gradient_edge(t, std::move(fn), output_nr_);
    return t;
  }
  impl::set_gradient_edge(t, const_cast<Node*>(saved_for)->shared_from_this(), output_nr_);
  return t;
}

void SavedVariable::reset_data() {
  if (!was_defined_) return;
  data_ = Tensor();
  released_ = true;
}

}  // namespace sy::autograd
