#include "switchyard/autograd/view_nodes.h"

#include "switchyard/autograd/grad_mode.h"
#include "switchyard/ops/creation.h"
#include "switchyard/ops/shape.h"

namespace sy::autograd {
namespace {

// An uninitialised tensor of `sizes` laid out with `strides` (like a base
// that may not be contiguous), on a storage of its own.
Tensor empty_strided(IntArrayRef sizes, IntArrayRef strides, ScalarType dtype, Device device) {
  int64_t extent = 1;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 0) {
      extent = 0;
      break;
    }
    extent += (sizes[d] - 1) * strides[d];
  }
  const Tensor storage = make_tensor({extent}, dtype, device);
  return make_view(storage, sizes, strides, 0);
}

// Where a view's elements sit in its base, as indices into the base's
// elements in row-major order. Both nodes below move gradients between a
// base and a view with these and recorded ops (index_select, where, cat)
// when the backward itself is recorded (create_graph), so that their
// results are differentiable again; otherwise they copy through views the
// tensor layer makes directly, which record nothing.
struct Region {
  Tensor of_view;  // int64 [view numel]: the base element of each view element
  Tensor of_base;  // int64 [base numel]: the view element at each base element, or view numel
  Tensor in_view;  // bool [base numel]: whether the view holds the base element
};

Region region_of(const InputMetadata& base, IntArrayRef base_strides, const ViewGeometry& view) {
  NoGradGuard no_grad;
  const auto i64 = TensorOptions().dtype(kInt64);
  int64_t n = 1;
  for (size_t d = 0; d < base.sizes.size(); ++d) n *= base.sizes[d];
  Tensor positions = empty_strided(base.sizes, base_strides, kInt64, kCPU);
  positions.copy_(arange(n, i64).reshape(base.sizes));
  const Tensor of_view = view.apply_to(positions).contiguous().reshape({-1});
  const int64_t m = of_view.numel();
  const Tensor of_base = full({n}, m, i64);
  int64_t* at_base = of_base.data_ptr<int64_t>();
  const int64_t* at_view = of_view.data_ptr<int64_t>();
  for (int64_t k = 0; k < m; ++k) at_base[at_view[k]] = k;
  Region r{of_view, of_base, of_base.lt(m)};
  if (!base.device.is_cpu()) {
    r = {r.of_view.to(base.device), r.of_base.to(base.device), r.in_view.to(base.device)};
  }
  return r;
}

// `flat` (1-d) with one zero appended, so that index numel picks zero.
Tensor padded_with_zero(const Tensor& flat) {
  return cat({flat, zeros({1}, TensorOptions().dtype(flat.dtype()).device(flat.device()))});
}

}  // namespace

ViewGeometry ViewGeometry::of(const Tensor& view, const Tensor& base) {
  return {DimVector(view.sizes()), DimVector(view.strides()),
          view.storage_offset() - base.storage_offset()};
}

Tensor ViewGeometry::apply_to(const Tensor& t) const {
  return make_view(t, sizes, strides, t.storage_offset() + offset);
}

CopySlices::CopySlices(const Tensor& base, const Tensor& view, std::shared_ptr<Node> fn)
    : base_(base),
      base_strides_(base.strides()),
      view_(ViewGeometry::of(view, base)),
      fn_(std::move(fn)) {
  add_input_metadata(base);
  // Output 0: the base before the op; the others: the op's other inputs. The
  // op's own edge for the view goes where the base's old history is, so a
  // grad() call computes it exactly when that history is wanted.
  Edge base_edge = impl::gradient_edge(base);
  add_next_edge(base_edge);
  for (size_t i = 1; i < fn_->num_outputs(); ++i) add_next_edge(fn_->next_edge(i));
  fn_->set_next_edge(0, std::move(base_edge));
}

variable_list CopySlices::apply(variable_list&& grads) {
  variable_list out(num_outputs());
  const Tensor& grad = grads[0];
  if (!grad.defined()) return out;
  if (GradMode::is_enabled()) {
    // Recorded: the base's gradient outside the view, fn_'s inside it.
    const Region r = region_of(base_, base_strides_, view_);
    const Tensor flat = grad.reshape({-1});
    const Tensor grad_slice = flat.index_select(0, r.of_view).reshape(view_.sizes);
    variable_list res = fn_->apply({grad_slice});
    const Tensor inside = !res.empty() && res[0].defined() ? res[0].reshape({-1})
                                                           : zeros_like(grad_slice).reshape({-1});
    const Tensor spread = padded_with_zero(inside).index_select(0, r.of_base);
    out[0] = where(r.in_view, spread, flat).reshape(base_.sizes);
    for (size_t i = 1; i < res.size() && i < out.size(); ++i) out[i] = std::move(res[i]);
    return out;
  }
  Tensor result = empty_strided(base_.sizes, base_strides_, base_.dtype, base_.device);
  result.copy_(grad);
  const Tensor grad_slice = view_.apply_to(result);
  variable_list res = fn_->apply({grad_slice.clone()});
  if (!res.empty() && res[0].defined()) {
    grad_slice.copy_(res[0]);
  } else {
    grad_slice.zero_();
  }
  out[0] = std::move(result);
  for (size_t i = 1; i < res.size() && i < out.size(); ++i) out[i] = std::move(res[i]);
  return out;
}

AsStridedBackward::AsStridedBackward(const Tensor& base, const Tensor& view)
    : AsStridedBackward(base, view, impl::gradient_edge(base)) {}

AsStridedBackward::AsStridedBackward(const Tensor& base, const Tensor& view, Edge base_edge)
    : base_(base), base_strides_(base.strides()), view_(ViewGeometry::of(view, base)) {
  add_next_edge(std::move(base_edge));
}

variable_list AsStridedBackward::apply(variable_list&& grads) {
  const Tensor& grad = grads[0];
  if (!grad.defined() || !task_should_compute_output(0)) return {Tensor()};
  if (GradMode::is_enabled()) {  // recorded: zeros outside the view
    const Region r = region_of(base_, base_strides_, view_);
    return {padded_with_zero(grad.reshape({-1})).index_select(0, r.of_base).reshape(base_.sizes)};
  }
  Tensor result = empty_strided(base_.sizes, base_strides_, base_.dtype, base_.device);
  result.zero_();
  view_.apply_to(result).copy_(grad);
  return {result};
}

namespace {

// The node that last rewrote `base`'s history, for messages.
std::string history_of(const Tensor& base) {
  const std::shared_ptr<Node>& fn = impl::grad_fn(base);
  if (fn == nullptr) return "no history (a leaf)";
  if (const auto* slices = dynamic_cast<const CopySlices*>(fn.get())) {
    return fmt::format("CopySlices of {}", slices->fn().name());
  }
  return fn->name();
}

// The error for a view whose base changed in place when its creation forbids
// following the change (Note [Views and in-place ops]).
[[noreturn]] void throw_stale_view(CreationMeta how, const Tensor& base) {
  const std::string history = history_of(base);
  switch (how) {
    case CreationMeta::NoGradMode:
      SY_THROW(AutogradError,
               "a view made in no_grad mode is used after its base (or another view of its "
               "base) was modified in place (the base's history now ends in {}). This is "
               "ambiguous and forbidden: make the view and modify the base both inside the "
               "no_grad block (if the change should not be recorded) or both outside.",
               history);
    case CreationMeta::InferenceMode:
      SY_THROW(AutogradError,
               "a view made in inference mode is used after its base (or another view of its "
               "base) was modified in place outside it (the base's history now ends in {}); "
               "make the view outside inference mode, or clone it",
               history);
    case CreationMeta::MultiOutputNode:
      SY_THROW(AutogradError,
               "this view is one of several returned by one op (split, chunk), and its "
               "base (or another view of its base) was modified in place (the base's history "
               "now ends in {}); such views cannot follow that change: use the out-of-place "
               "op, or clone the views before modifying the base",
               history);
    case CreationMeta::InCustomFunction:
      SY_THROW(AutogradError,
               "this view was returned by a custom Function's forward, and its base (or another "
               "view of its base) was modified in place (the base's history now ends in {}); "
               "return a clone from the forward instead",
               history);
    case CreationMeta::Default: break;
  }
  SY_THROW(AutogradError, "internal: throw_stale_view called for a view made by default");
}

}  // namespace

void refresh_view_grad_fn(const Tensor& t, AutogradMeta& meta, bool force) {
  ViewInfo& v = *meta.view;
  if (!v.differentiable) return;
  const uint32_t now = t._version();
  if (v.attr_version == now && !force) return;
  std::lock_guard<std::mutex> lock(meta.mutex);
  if (v.attr_version == now && !force) return;
  // Outside autograd until its base takes part: nothing to follow yet (the
  // version is not taken, so a later history of the base is still seen).
  if (meta.grad_fn == nullptr && !v.base.requires_grad()) return;
  if (v.creation_meta != CreationMeta::Default) throw_stale_view(v.creation_meta, v.base);
  auto fn = std::make_shared<AsStridedBackward>(v.base, t);
  meta.output_nr = fn->add_input_metadata(t);
  meta.grad_fn = std::move(fn);
  if (!t.impl()->requires_grad_flag()) t.impl()->set_requires_grad(true);
  v.attr_version = now;
}

namespace detail {

void mark_as_view(const Tensor& self, const Tensor& out, bool multi_output) {
  if (out.is_same(self)) return;
  AutogradMeta* self_meta = impl::get_autograd_meta(self);
  const ViewInfo* self_view = self_meta != nullptr ? self_meta->view.get() : nullptr;
  auto info = std::make_unique<ViewInfo>();
  info->base = self_view != nullptr ? self_view->base : self;
  if (multi_output) {
    info->creation_meta = CreationMeta::MultiOutputNode;
  } else if (is_inference_mode_enabled()) {
    info->creation_meta = CreationMeta::InferenceMode;
  } else if (!GradMode::is_enabled()) {
    info->creation_meta = CreationMeta::NoGradMode;
  } else if (self_view != nullptr) {
    info->creation_meta = self_view->creation_meta;  // a view of a no-grad view is one too
  }
  info->differentiable = is_floating_point(out.dtype());
  if (self_view != nullptr) {
    info->forward_base = self_view->forward_differentiable ? self_view->forward_base : self;
  }
  info->attr_version = out._version();
  const bool differentiable = info->differentiable;
  impl::materialize_autograd_meta(out).view = std::move(info);
  // From now on the view requires grad while its base does (so a view made
  // with grad mode off of a base that requires grad does, without a grad_fn,
  // and modifying it in place with grad mode on is caught), and carries its
  // base's tangent, whenever the base gets them.
  if (differentiable) out.impl()->set_differentiable_view(true);
}

void mark_as_one_of_several_views(const Tensor& self, const Tensor& out) {
  if (out.is_same(self)) return;
  AutogradMeta* meta = impl::get_autograd_meta(out);
  if (meta == nullptr || meta->view == nullptr) return;
  // As in PyTorch, a view made in no_grad or inference mode keeps saying so.
  if (meta->view->creation_meta == CreationMeta::Default) {
    meta->view->creation_meta = CreationMeta::MultiOutputNode;
  }
}

Tensor empty_with_layout_of(const Tensor& t) {
  return empty_strided(t.sizes(), t.strides(), t.dtype(), t.device());
}

void check_inplace(const Tensor& self, bool requires_grad, const char* op_name) {
  if (!requires_grad || !GradMode::is_enabled()) return;
  AutogradMeta* meta = impl::get_autograd_meta(self);
  if (meta != nullptr && meta->view != nullptr) {
    const ViewInfo& v = *meta->view;
    switch (v.creation_meta) {
      case CreationMeta::Default: break;
      case CreationMeta::NoGradMode:
        SY_THROW(AutogradError,
                 "{}: a view made in no_grad mode is being modified in place with grad mode on. "
                 "This is ambiguous and forbidden: make the view and modify it both inside the "
                 "no_grad block (if the change should not be recorded) or both outside.",
                 op_name);
      case CreationMeta::InferenceMode:
        SY_THROW(AutogradError,
                 "{}: a view made in inference mode is being modified in place outside it; "
                 "clone it outside inference mode first",
                 op_name);
      case CreationMeta::MultiOutputNode:
        SY_THROW(AutogradError,
                 "{}: this view is one of several returned by one op (split, chunk, ...), and "
                 "such views cannot be modified in place; use the out-of-place op instead",
                 op_name);
      case CreationMeta::InCustomFunction:
        SY_THROW(AutogradError,
                 "{}: this view was returned by a custom Function's forward and cannot be "
                 "modified in place; clone it first",
                 op_name);
    }
    if (v.base.requires_grad() && impl::grad_fn(v.base) == nullptr) {
      SY_THROW(AutogradError,
               "{}: a view of a leaf tensor that requires grad is being used in an in-place "
               "operation; modify a clone, or do it under no_grad()",
               op_name);
    }
    return;
  }
  if (self.requires_grad() && impl::grad_fn(self) == nullptr) {
    SY_THROW(AutogradError,
             "{}: a leaf tensor that requires grad is being used in an in-place operation; "
             "modify a clone, or do it under no_grad() (as an optimizer step does)",
             op_name);
  }
}

void rebase_history(const Tensor& self, std::shared_ptr<Node> fn) {
  AutogradMeta* meta = impl::get_autograd_meta(self);
  if (meta != nullptr && meta->view != nullptr && meta->view->differentiable) {
    const Tensor base = meta->view->base;
    fn->add_input_metadata(self);
    auto copy_slices = std::make_shared<CopySlices>(base, self, std::move(fn));
    impl::set_gradient_edge(base, std::move(copy_slices), 0);
    // The view's history now goes through the base's.
    refresh_view_grad_fn(self, *meta, /*force=*/true);
    return;
  }
  const uint32_t nr = fn->add_input_metadata(self);
  impl::set_gradient_edge(self, std::move(fn), nr);
}

}  // namespace detail
}  // namespace sy::autograd
