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
// Forward mode: a function that defines
//   static variable_list jvp(AutogradContext* ctx, variable_list tangents)
// (one tangent per tensor argument, zeros where none; one result per output)
// works on dual tensors; one without jvp refuses them with an error.
#pragma once

#include <cxxabi.h>

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
    variable_list out = T::backward(&ctx_, std::move(grads));
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
};

template <class T>
struct Function {
  template <typename... Args>
  static auto apply(Args&&... args) {
    std::vector<bool> is_tensor;
    variable_list inputs;
    (detail::flatten_arg(is_tensor, inputs, args), ...);
    const bool records = CustomFunctionParts::begin(inputs, /*cpp=*/true);

    auto node = std::make_shared<CppNode<T>>();
    node->is_tensor_ = is_tensor;
    node->ctx_.grad_fn_ = node;
    CustomFunctionParts::connect(*node, node->ctx_, is_tensor, inputs);

    using R = decltype(T::forward(&node->ctx_, std::forward<Args>(args)...));
    variable_list outputs;
    {
      AutoGradMode no_grad(false);
      sy::autograd::detail::ForwardADDisabled no_forward_ad;
      outputs = detail::to_variable_list(T::forward(&node->ctx_, std::forward<Args>(args)...));
    }
    const std::string fname = CustomFunctionParts::demangle(typeid(T).name());
    bool forward = false;
    for (const Tensor& t : inputs) forward = forward || sy::autograd::detail::has_forward_grad(t);
    CustomFunctionParts::wrap_outputs(records ? std::shared_ptr<Node>(node) : nullptr, node->ctx_,
                                      inputs, outputs, fname);
    if (SY_UNLIKELY(forward)) {
      if constexpr (requires(AutogradContext* c, variable_list v) { T::jvp(c, v); }) {
        sy::autograd::detail::SmallVector<uint64_t, 2> levels;
        for (const Tensor& t : inputs) sy::autograd::detail::add_forward_levels(t, levels);
        for (uint64_t level : levels) {
          sy::autograd::detail::SetAsideLevel aside(level);
          CustomFunctionParts::set_output_tangents(
              fname, outputs,
              T::jvp(&node->ctx_, CustomFunctionParts::input_tangents(inputs, level)), level);
        }
      } else {
        SY_THROW(DispatchError,
                 "{}: an input carries a forward-mode tangent, but this custom Function does not "
                 "define jvp(ctx, tangents), so it cannot be differentiated in forward mode",
                 fname);
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
