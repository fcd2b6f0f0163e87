// Views and in-place ops (ADInplaceOrView, as PyTorch does it).
//
// Note [Views and in-place ops]
// Every view of a storage shares the storage's version counter, which every
// in-place op bumps (the ADInplaceOrView kernels), so a tensor saved for
// backward notices a change made through any view of it.
//
// A view op's output remembers its base (ViewInfo in autograd_meta.h): the
// tensor, never itself a view, whose storage it views, and how it was made
// (grad mode on or off, inference mode, one of several outputs). An in-place
// op on a view changes the base too, so it rewrites the base's history: the
// base's new grad_fn is a CopySlices node that
//   - takes the gradient with respect to the base after the op,
//   - runs the in-place op's own backward node on the part the view covers
//     (the gradient with respect to the view before the op, and to the op's
//     other inputs),
//   - and passes the rest through unchanged to the base's old history.
// The view's own grad_fn is then out of date, and so is that of every other
// view of the base made before the op (they share the version counter): the
// next time anyone asks for it (its version differs from the one its grad_fn
// was set at), it is made again as an AsStridedBackward0 node on the base's
// current history. Meanwhile a view requires grad whenever its base does
// (TensorImpl::requires_grad asks the slot), and carries the region of its
// base's tangent when it has none of its own (forward_ad.cpp), which is why a
// differentiable view keeps the autograd key. A view made in no_grad or
// inference mode, by a multi-output op or in a custom function cannot be
// remade: reading its grad_fn after its base changed is an error.
//
// In-place ops that cannot be differentiated are errors while grad mode is on:
// on a leaf that requires grad, on a view of one, on a view made in no_grad
// or inference mode (its base would get a history it never recorded), and on
// one of several views made by one op (split, chunk).
#pragma once

#include "switchyard/autograd/autograd_meta.h"
#include "switchyard/autograd/node.h"

namespace sy::autograd {

// Where a view sits in its base's storage, relative to the base.
struct SY_API ViewGeometry {
  DimVector sizes;
  DimVector strides;
  int64_t offset = 0;  // view offset minus base offset
  static ViewGeometry of(const Tensor& view, const Tensor& base);
  // The view of `t` (laid out like the base) at this geometry.
  Tensor apply_to(const Tensor& t) const;
};

// The base's grad_fn after an in-place op on one of its views.
class SY_API CopySlices final : public Node {
 public:
  CopySlices(const Tensor& base, const Tensor& view, std::shared_ptr<Node> fn);
  variable_list apply(variable_list&& grads) override;
  std::string name() const override { return "CopySlices"; }
  void release_variables() override { fn_->release_variables(); }
  // The in-place op's own node.
  const Node& fn() const { return *fn_; }

 private:
  InputMetadata base_;
  DimVector base_strides_;
  ViewGeometry view_;
  std::shared_ptr<Node> fn_;
};

// A view's grad_fn, made again from its base's history: scatters the view's
// gradient into zeros shaped like the base.
class SY_API AsStridedBackward final : public Node {
 public:
  AsStridedBackward(const Tensor& base, const Tensor& view);
  // With the edge to the base's history given (`base` may have no autograd).
  AsStridedBackward(const Tensor& base, const Tensor& view, Edge base_edge);
  variable_list apply(variable_list&& grads) override;
  std::string name() const override { return "AsStridedBackward0"; }

 private:
  InputMetadata base_;
  DimVector base_strides_;
  ViewGeometry view_;
};

// Remakes the grad_fn of view `t` when its base changed in place since it was
// set (or now, with `force`).
void refresh_view_grad_fn(const Tensor& t, AutogradMeta& meta, bool force = false);

namespace detail {

// Marks `out` as a view of `self` (what an ADInplaceOrView kernel does after a
// view op); `multi_output` for ops that return several views.
SY_API void mark_as_view(const Tensor& self, const Tensor& out, bool multi_output = false);

// Marks `out`, a view of `self` made with grad mode on by the ops of a
// composite that returns several views, as one of several views.
SY_API void mark_as_one_of_several_views(const Tensor& self, const Tensor& out);

// Checks that an in-place op may change `self` (see the Note above);
// `requires_grad` says whether the op records.
SY_API void check_inplace(const Tensor& self, bool requires_grad, const char* op_name);

// After an in-place op on `self` recorded `fn`: the new history of self (and,
// for a view, of its base).
SY_API void rebase_history(const Tensor& self, std::shared_ptr<Node> fn);

// An uninitialised tensor with t's sizes, strides and dtype on a storage of
// its own (t must not overlap itself: a base, never an expanded view).
SY_API Tensor empty_with_layout_of(const Tensor& t);

}  // namespace detail
}  // namespace sy::autograd
