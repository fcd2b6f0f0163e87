// AutogradMeta: autograd's state for one tensor, kept in the tensor's autograd
// slot (See Note [Autograd slot] in tensor/tensor_impl.h), made the first time
// a tensor needs it.
//
// A tensor that requires grad is either a leaf (no grad_fn: a user set
// requires_grad; its gradient accumulates into `grad`) or the output number
// `output_nr` of the node `grad_fn` recorded by the op that made it. A view
// made by a view op also remembers its base (See Note [Views and in-place
// ops]). Forward-mode tangents live here too, one per dual level.
//
// The functions in namespace impl are what the rest of autograd uses to read
// and change this state; user code goes through Tensor's methods.
//
// Thread-safety: grad and the grad accumulator are guarded by `mutex` (several
// backward passes may accumulate into one leaf at once); the rest is set by the
// thread that makes or changes the tensor, as for any tensor metadata.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "switchyard/autograd/node.h"
#include "switchyard/core/export.h"
#include "switchyard/tensor/tensor.h"

namespace sy::autograd {

class ForwardGrad;

// How a view came to be, which decides what an in-place op on it may do
// (See Note [Views and in-place ops]).
enum class CreationMeta : uint8_t {
  Default,           // by a view op with grad mode on
  NoGradMode,        // with grad mode off: in-place on it with grad on is an error
  InferenceMode,     // in inference mode
  MultiOutputNode,   // one of several views from one op (split, chunk): no in-place
  InCustomFunction,  // returned by a custom function's forward
};

// A view's link to its base: the tensor (never itself a view) whose storage it
// views, and the version at which its grad_fn was last set. A differentiable
// view requires grad while its base does, and carries its forward base's
// tangents (the region it views) when it has none of its own.
struct SY_API ViewInfo {
  // From the per-thread small-block cache: made for every view op's result.
  static void* operator new(size_t bytes);
  static void operator delete(void* p, size_t bytes);

  Tensor base;
  CreationMeta creation_meta = CreationMeta::Default;
  // Whether the view takes part in autograd through its base (its base was
  // differentiable when it was made).
  bool differentiable = true;
  // Whether an in-place op on the view changes its forward base's tangent:
  // false for make_dual's and unpack_dual's aliases (as in PyTorch, the dual
  // does not give its primal a tangent).
  bool forward_differentiable = true;
  // The tensor whose tangent an in-place op on the view writes into, when it
  // is not `base` (a view of a dual: the dual); undefined otherwise.
  Tensor forward_base;
  uint32_t attr_version = 0;

  // The tensor whose tangent this view's tangent is a region of, or null when
  // the view carries only tangents of its own.
  const Tensor* tangent_source() const {
    if (!differentiable || !forward_differentiable) return nullptr;
    return forward_base.defined() ? &forward_base : &base;
  }
};

class SY_API AutogradMeta final : public AutogradMetaInterface {
 public:
  AutogradMeta() = default;
  ~AutogradMeta() override;
  std::string grad_fn_name() const override;
  bool base_requires_grad() const override;
  bool base_has_forward_grad() const override;

  // From the per-thread small-block cache: made for every recorded op's result.
  static void* operator new(size_t bytes);
  static void operator delete(void* p, size_t bytes);

  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  // The leaf's AccumulateGrad node, while some graph holds it.
  std::weak_ptr<Node> grad_accumulator;
  uint32_t output_nr = 0;
  bool retains_grad = false;
  // Leaves: hooks on the gradient before it accumulates (non-leaves keep
  // theirs on grad_fn).
  struct Hook {
    uint64_t id;
    TensorHook fn;
  };
  std::vector<Hook> leaf_hooks;
  // Set for tensors made by view ops.
  std::unique_ptr<ViewInfo> view;
  // Tangents by dual level, or null.
  std::shared_ptr<ForwardGrad> forward_grad;
  std::mutex mutex;
};

namespace impl {

// The tensor's autograd state, or null when it has none.
inline AutogradMeta* get_autograd_meta(const Tensor& t) {
  return static_cast<AutogradMeta*>(t.impl()->autograd_meta());
}
// The tensor's autograd state, made on first use.
SY_API AutogradMeta& materialize_autograd_meta(const Tensor& t);

// The node that made `t` (regenerated first for a view whose base changed in
// place since), or null for leaves and tensors outside autograd.
SY_API const std::shared_ptr<Node>& grad_fn(const Tensor& t);
// The leaf's AccumulateGrad node, made on first use; null when `t` does not
// require grad or is not a leaf.
SY_API std::shared_ptr<Node> grad_accumulator(const Tensor& t);
// Where t's gradient goes: (grad_fn, output_nr) for non-leaves,
// (AccumulateGrad, 0) for leaves that require grad, an invalid edge otherwise.
SY_API Edge gradient_edge(const Tensor& t);
// Makes `t` output `output_nr` of `fn` (and requiring grad).
SY_API void set_gradient_edge(const Tensor& t, std::shared_ptr<Node> fn, uint32_t output_nr);
// Whether `t` is a view made by a view op (whose base autograd tracks).
SY_API bool is_view(const Tensor& t);
// A new tensor sharing t's storage and geometry with no autograd state.
SY_API Tensor alias_without_autograd(const Tensor& t);

}  // namespace impl
}  // namespace sy::autograd
