// Custom functions: an op whose forward and backward the user writes, as in
// libtorch.
//
//   struct Cube : sy::autograd::Function<Cube> {
//     static Tensor forward(AutogradContext* ctx, const Tensor& x) {
//       ctx->save_for_backward({x});
//       return x * x * x;
//     }
//     static variable_list backward(AutogradContext* ctx, variable_list grads) {
//       Tensor x = ctx->get_saved_variables()[0];
//       return {grads[0] * 3 * x * x};
//     }
//   };
//   Tensor y = Cube::apply(x);
//
// forward() runs with grad mode off; it receives the arguments of apply()
// (tensors, lists of tensors and any other values) and returns a Tensor or a
// variable_list. backward() gets one gradient per output (zeros where none
// arrived, unless set_materialize_grads(false)) and returns one per argument
// of forward (undefined for arguments that are not tensors or need none).
// A component holding a thread-local slot may veto apply()
// (ThreadLocalSlot::check_supports_cpp_autograd_function).
//
// Under transforms: a call whose inputs include wrapper tensors of an active
// transform (vmap's batched tensors) records its node on the tensors autograd
// differentiates under the wrappers, and runs backward and jvp on wrappers
// again (WrappedCall below), so custom functions work under vmap, grad, jvp
// and their compositions.
//
// Forward mode: a function that defines
//   static variable_list jvp(AutogradContext* ctx, variable_list tangents)
// (one tangent per tensor argument, zeros where none; one result per output)
// works on dual tensors; one without jvp refuses them with an error.
#pragma once

#include <cxxabi.h>

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "switchyard/autograd/forward_ad.h"
#include "switchyard/autograd/grad_mode.h"
#include "switchyard/autograd/node.h"
#include "switchyard/autograd/saved_variable.h"
#include "switchyard/core/thread_local_state.h"
#include "switchyard/tensor/ivalue.h"

namespace sy::autograd {

// A call of a custom function on wrapper tensors of an active transform. Autograd
// differentiates the tensors under the wrappers (vmap's physical tensors), so
// the node sits on those ("lowered"), and backward and jvp, written for the
// values the call saw, run on them wrapped again ("raised"). transforms/
// installs the factory; see docs/transforms.md, "Custom functions".
class SY_API WrappedCall {
 public:
  virtual ~WrappedCall() = default;
  // The tensor autograd sees for `t`, an input, output or saved tensor of the call.
  virtual Tensor lower(const Tensor& t) const = 0;
  // What the caller sees for `lowered` (during the call).
  virtual Tensor raise(const Tensor& lowered) const = 0;
  // fn over `lowered` raised again at levels like the call's (fresh ones: a
  // backward may run after the call's levels ended), and fn's results lowered.
  // Undefined tensors stay undefined.
  virtual variable_list run_raised(
      const variable_list& lowered,
      const std::function<variable_list(const variable_list&)>& fn) const = 0;
};
// Makes the WrappedCall for `inputs` when some is a wrapper of an active
// transform, else null.
using WrappedCallFactory = std::shared_ptr<WrappedCall> (*)(const variable_list& inputs);
// Installs the factory (transforms/ does, when it loads).
SY_API void set_wrapped_call_factory(WrappedCallFactory factory);

// What forward() leaves for backward(): saved tensors, other values, and
// which inputs need gradients.
class SY_API AutogradContext {
 public:
  AutogradContext() = default;

  // Values of any kind for backward (not checked for in-place changes).
  std::unordered_map<std::string, IValue> saved_data;

  // Tensors backward() needs: inputs, outputs or intermediates. Checked for
  // in-place changes and freed after a backward without retain_graph.
  void save_for_backward(variable_list to_save);
  // The saved tensors, in order; throws if they were freed or modified.
  variable_list get_saved_variables() const;

  // Inputs forward() modified in place (it must return them).
  void mark_dirty(const variable_list& inputs);
  // Outputs that have no gradient (indices, masks).
  void mark_non_differentiable(const variable_list& outputs);
  // Whether backward() sees zeros (true, the default) or undefined tensors
  // for outputs no gradient reached.
  void set_materialize_grads(bool value) { materialize_grads_ = value; }
  bool materialize_grads() const { return materialize_grads_; }

  // Whether forward input `i` (counting every argument) needs a gradient.
  bool needs_input_grad(size_t i) const;

 private:
  template <class T>
  friend struct Function;
  template <class T>
  friend class CppNode;
  friend struct CustomFunctionParts;

  variable_list to_save_;
  std::vector<SavedVariable> saved_;
  // While a WrappedCall runs backward or jvp: the saved tensors raised.
  const variable_list* raised_saved_ = nullptr;
  std::unordered_set<const TensorImpl*> dirty_;
  std::unordered_set<const TensorImpl*> non_differentiable_;
  std::vector<bool> needs_input_grad_;
  std::weak_ptr<Node> grad_fn_;
  bool materialize_grads_ = true;
};

// The steps of apply() that do not depend on the function's type, shared with
// the Python binding's Function.
struct SY_API CustomFunctionParts {
  // Runs the veto hooks and says whether the call records (grad mode on and an
  // input requires grad).
  static bool begin(const variable_list& inputs, bool cpp);
  // For a call whose inputs include wrappers of an active transform that records
  // or carries tangents: the WrappedCall, with `*seen` set to the tensors autograd
  // sees for the inputs. Null (and `*seen` untouched) otherwise.
  static std::shared_ptr<WrappedCall> wrapped_call(const variable_list& inputs,
                                                   variable_list* seen);
  // After forward, for a wrapped call: the outputs, and ctx's saved and
  // non-differentiable tensors, replaced by the tensors autograd sees
  // (`inputs` are the call's, `seen` what wrapped_call gave for them).
  static void lower_results(const WrappedCall& call, AutogradContext& ctx,
                            const variable_list& inputs, const variable_list& seen,
                            variable_list& outputs, const std::string& function_name);
  // body(args) (a backward or jvp) for a wrapped call: args and ctx's saved
  // tensors raised, the results lowered.
  static variable_list run_raised(const WrappedCall& call, AutogradContext& ctx,
                                  const variable_list& args,
                                  const std::function<variable_list(const variable_list&)>& body);
  // Edges and needs_input_grad for `node` from the arguments (`is_tensor[i]`:
  // whether argument i is a tensor; tensor arguments are `inputs`, in order).
  static void connect(Node& node, AutogradContext& ctx, const std::vector<bool>& is_tensor,
                      const variable_list& inputs);
  // Gives forward's outputs their history (node null: nothing records):
  // non-differentiable ones none, dirty inputs a rebased one, inputs returned
  // unchanged become aliases. Then saves what forward asked to save.
  static void wrap_outputs(const std::shared_ptr<Node>& node, AutogradContext& ctx,
                           const variable_list& inputs, variable_list& outputs,
                           const std::string& function_name);
  // Checks backward's results against the arguments and keeps those of the
  // tensor arguments.
  static variable_list collect_grads(const std::string& function_name,
                                     const std::vector<bool>& is_tensor, variable_list grads);
  // Forward mode: the tangents of `inputs` at `level` (zeros where none).
  static variable_list input_tangents(const variable_list& inputs, uint64_t level);
  static void set_output_tangents(const std::string& function_name, const variable_list& outputs,
                                  const variable_list& tangents, uint64_t level);
  static std::string demangle(const char* name);
  // For functions whose node is not a CppNode (Python's): the node whose
  // saved outputs get_saved_variables() gives back their history, and the
  // saved tensors themselves (to release them).
  static void bind(AutogradContext& ctx, const std::shared_ptr<Node>& node) { ctx.grad_fn_ = node; }
  static std::vector<SavedVariable>& saved(AutogradContext& ctx) { return ctx.saved_; }
};

namespace detail {

inline void flatten_arg(std::vector<bool>& is_tensor, variable_list& tensors, const Tensor& t) {
  is_tensor.push_back(true);
  tensors.push_back(t);
}
inline void flatten_arg(std::vector<bool>& is_tensor, variable_list& tensors,
                        const std::vector<Tensor>& ts) {
  for (const Tensor& t : ts) flatten_arg(is_tensor, tensors, t);
}
template <typename A>
void flatten_arg(std::vector<bool>& is_tensor, variable_list&, const A&) {
  is_tensor.push_back(false);
}

template <typename R>
variable_list to_variable_list(R&& r) {
  if constexpr (std::is_same_v<std::decay_t<R>, Tensor>) {
    return {std::forward<R>(r)};
  } else {
    return variable_list(std::forward<R>(r));
  }
}

}  // namespace detail

// The node of a custom function T: runs T::backward.
template <class T>
class CppNode final : public Node {
 public:
  variable_list apply(variable_list&& grads) override {
    if (ctx_.materialize_grads_) {
      for (size_t i = 0; i < grads.size(); ++i) {
        if (!grads[i].defined() && input_metadata(i).defined) grads[i] = input_metadata(i).zeros();
      }
    }
    variable_list out;
    if (wrapped_) {
      out = CustomFunctionParts::run_raised(
          *wrapped_, ctx_, grads, [this](const variable_list& g) { return T::backward(&ctx_, g); });
    } else {
      out = T::backward(&ctx_, std::move(grads));
    }
    return CustomFunctionParts::collect_grads(name(), is_tensor_, std::move(out));
  }
  std::string name() const override {
    return CustomFunctionParts::demangle(typeid(T).name()) + "Backward";
  }
  void release_variables() override {
    for (SavedVariable& s : ctx_.saved_) s.reset_data();
  }

  AutogradContext ctx_;
  std::vector<bool> is_tensor_;
  std::shared_ptr<WrappedCall> wrapped_;  // set for a call on a transform's wrappers
};

template <class T>
struct Function {
  template <typename... Args>
  static auto apply(Args&&... args) {
    std::vector<bool> is_tensor;
    variable_list inputs;
    (detail::flatten_arg(is_tensor, inputs, args), ...);
    // On a transform's wrappers, autograd sees `seen` instead of the inputs.
    variable_list seen;
    std::shared_ptr<WrappedCall> wrapped;
    if (SY_UNLIKELY(tls_any_slot_set())) wrapped = CustomFunctionParts::wrapped_call(inputs, &seen);
    const variable_list& autograd_inputs = wrapped ? seen : inputs;
    const bool records = CustomFunctionParts::begin(autograd_inputs, /*cpp=*/true);

    auto node = std::make_shared<CppNode<T>>();
    node->is_tensor_ = is_tensor;
    node->ctx_.grad_fn_ = node;
    node->wrapped_ = wrapped;
    CustomFunctionParts::connect(*node, node->ctx_, is_tensor, autograd_inputs);

    using R = decltype(T::forward(&node->ctx_, std::forward<Args>(args)...));
    variable_list outputs;
    {
      AutoGradMode no_grad(false);
      sy::autograd::detail::ForwardADDisabled no_forward_ad;
      outputs = detail::to_variable_list(T::forward(&node->ctx_, std::forward<Args>(args)...));
    }
    const std::string fname = CustomFunctionParts::demangle(typeid(T).name());
    if (wrapped) {
      CustomFunctionParts::lower_results(*wrapped, node->ctx_, inputs, seen, outputs, fname);
    }
    bool forward = false;
    for (const Tensor& t : autograd_inputs) {
      forward = forward || sy::autograd::detail::has_forward_grad(t);
    }
    CustomFunctionParts::wrap_outputs(records ? std::shared_ptr<Node>(node) : nullptr, node->ctx_,
                                      autograd_inputs, outputs, fname);
    if (SY_UNLIKELY(forward)) {
      if constexpr (requires(AutogradContext * c, variable_list v) { T::jvp(c, v); }) {
        sy::autograd::detail::SmallVector<uint64_t, 2> levels;
        for (const Tensor& t : autograd_inputs) sy::autograd::detail::add_forward_levels(t, levels);
        for (uint64_t level : levels) {
          sy::autograd::detail::SetAsideLevel aside(level);
          const variable_list tangents =
              CustomFunctionParts::input_tangents(autograd_inputs, level);
          variable_list out_tangents;
          if (wrapped) {
            out_tangents = CustomFunctionParts::run_raised(
                *wrapped, node->ctx_, tangents,
                [&](const variable_list& t) { return T::jvp(&node->ctx_, t); });
          } else {
            out_tangents = T::jvp(&node->ctx_, tangents);
          }
          CustomFunctionParts::set_output_tangents(fname, outputs, out_tangents, level);
        }
      } else {
        SY_THROW(DispatchError,
                 "{}: an input carries a forward-mode tangent, but this custom Function does not "
                 "define jvp(ctx, tangents), so it cannot be differentiated in forward mode",
                 fname);
      }
    }
    if (wrapped) {
      for (Tensor& o : outputs) {
        if (o.defined()) o = wrapped->raise(o);
      }
    }
    if constexpr (std::is_same_v<std::decay_t<R>, Tensor>) {
      return outputs[0];
    } else {
      return outputs;
    }
  }
};

}  // namespace sy::autograd
