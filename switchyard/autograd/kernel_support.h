// What the autograd kernels of ops are made of: the generator (see
// docs/autograd.md) emits, for each differentiable op, a node class and an
// Autograd kernel built from these pieces, and an ADInplaceOrView kernel for
// each op that writes into or views an argument.
//
// An Autograd kernel, in order:
//   1. if compute_requires_grad(args...): make the op's node with make_node
//      (edges to the inputs' histories) and save what its backward formula
//      uses (SavedVariable, sizes, scalars) into it;
//   2. for an in-place op, check_inplace first;
//   3. call the op below autograd (redispatch with after_autograd(ks), under
//      AutoDispatchBelowADInplaceOrView);
//   4. set_history on the differentiable outputs (rebase_history for in-place);
//   5. if any input carries a tangent, compute the outputs' tangents with the
//      forward formula for each level (for_each_forward_level), or, for an op
//      without one, run its decomposition instead of steps 1-4
//      (run_decomposition_for_forward_ad).
// An ADInplaceOrView kernel calls the op below itself, then bumps the version
// of what the op wrote, or marks a view op's output as a view of its input.
#pragma once

#include <string_view>
#include <tuple>
#include <type_traits>

#include "switchyard/autograd/autograd_meta.h"
#include "switchyard/autograd/engine.h"
#include "switchyard/autograd/forward_ad.h"
#include "switchyard/autograd/grad_mode.h"
#include "switchyard/autograd/saved_variable.h"
#include "switchyard/autograd/view_nodes.h"
#include "switchyard/dispatch/dispatcher.h"
#include "switchyard/tensor/small_block.h"

namespace sy::autograd::detail {

// ---- the op a kernel continues with -------------------------------------------------------

// A string usable as a template argument: the op's name.
template <size_t N>
struct OpName {
  constexpr OpName(const char (&s)[N]) {  // NOLINT: implicit, for template arguments
    for (size_t i = 0; i < N; ++i) text[i] = s[i];
  }
  constexpr std::string_view view() const { return {text, N - 1}; }
  char text[N];
};

// The typed handle of op `Name`, looked up on first use (registration runs
// before every op is defined, so not earlier).
template <OpName Name, typename Sig>
const TypedOperatorHandle<Sig>& op_handle() {
  static const TypedOperatorHandle<Sig> handle =
      Dispatcher::singleton().find_op(Name.view()).template typed<Sig>();
  return handle;
}

// The keys a kernel at Autograd / ADInplaceOrView continues with.
constexpr DispatchKeySet after_autograd(DispatchKeySet ks) {
  return ks.remove_from_and_above(DispatchKey::AutogradOther);
}
constexpr DispatchKeySet after_ad_inplace_or_view(DispatchKeySet ks) {
  return ks.remove_from_and_above(DispatchKey::ADInplaceOrView);
}

// ---- arguments ------------------------------------------------------------------------------

// Calls fn(t) for each tensor among `args` (Tensor, optional<Tensor>, lists,
// the present tensors of a Tensor?[] list).
template <typename F>
void for_each_tensor(F&& fn) {}
template <typename F, typename A, typename... Rest>
void for_each_tensor(F&& fn, const A& a, const Rest&... rest) {
  using D = std::remove_cvref_t<A>;
  if constexpr (std::is_same_v<D, Tensor>) {
    fn(a);
  } else if constexpr (std::is_same_v<D, std::optional<Tensor>>) {
    if (a) fn(*a);
  } else if constexpr (std::is_same_v<D, ArrayRef<Tensor>> ||
                       std::is_same_v<D, std::vector<Tensor>>) {
    for (const Tensor& t : a) fn(t);
  } else if constexpr (std::is_same_v<D, OptionalTensorListRef>) {
    for (const Tensor& t : a) {
      if (t.defined()) fn(t);
    }
  }
  for_each_tensor(fn, rest...);
}

// Grad mode is on and some tensor argument requires grad.
template <typename... A>
SY_ALWAYS_INLINE bool compute_requires_grad(const A&... args) {
  if (!GradMode::is_enabled()) return false;
  bool any = false;
  for_each_tensor([&](const Tensor& t) { any = any || (t.defined() && t.requires_grad()); },
                  args...);
  return any;
}

// Some tensor argument carries a tangent at a level not set aside.
template <typename... A>
SY_ALWAYS_INLINE bool any_has_forward_grad(const A&... args) {
  bool any = false;
  for_each_tensor(
      [&](const Tensor& t) {
        any = any || (t.defined() && t.impl()->has_forward_grad() && has_forward_grad(t));
      },
      args...);
  return any;
}

// Adds to `node` the edges of one argument: one for a tensor (none when it
// needs no gradient), one for an optional tensor (absent or not), one per
// element of a list (a Tensor?[] one too, present or not).
template <typename A>
void add_edges(Node& node, const A& a) {
  using D = std::remove_cvref_t<A>;
  if constexpr (std::is_same_v<D, Tensor>) {
    node.add_next_edge(impl::gradient_edge(a));
  } else if constexpr (std::is_same_v<D, std::optional<Tensor>>) {
    node.add_next_edge(a ? impl::gradient_edge(*a) : Edge());
  } else if constexpr (std::is_same_v<D, ArrayRef<Tensor>> ||
                       std::is_same_v<D, std::vector<Tensor>> ||
                       std::is_same_v<D, OptionalTensorListRef>) {
    for (const Tensor& t : a) node.add_next_edge(impl::gradient_edge(t));  // absent: none
  }
}

// A new node of type N with the edges of each tensor argument, in order.
template <typename N, typename... A>
std::shared_ptr<N> make_node(const A&... args) {
  auto node = std::allocate_shared<N>(sy::detail::SmallBlockAllocator<N>());
  (add_edges(*node, args), ...);
  return node;
}

// ---- outputs --------------------------------------------------------------------------------

// Makes `out` (when it can have a gradient: floating point) the next output
// of `node`. By value: a kernel's last use passes its node by std::move, which
// saves the reference count's atomic increment and decrement.
SY_API void set_history(const Tensor& out, std::shared_ptr<Node> node);
inline void set_history(ArrayRef<Tensor> outs, const std::shared_ptr<Node>& node) {
  for (const Tensor& t : outs) set_history(t, node);
}

// The error an op whose derivative is not implemented raises when asked for
// one (`what`: "backward" or "forward-mode AD").
[[noreturn]] SY_API void throw_not_differentiable(std::string_view op, std::string_view what,
                                                  std::string_view reason);
// The error of an out= op called with inputs that require grad or carry tangents.
[[noreturn]] SY_API void throw_out_not_differentiable(std::string_view op);

// ---- forward mode ---------------------------------------------------------------------------

// Calls fn(level) for each level the tensor arguments carry tangents at, with
// that level set aside while fn runs (its ops then differentiate at the
// others). fn reads tangents with fw_grad(t, level) (zeros_for where one
// input has none) and stores results with set_fw_grad.
template <typename F, typename... A>
void for_each_forward_level(F&& fn, const A&... args) {
  SmallVector<uint64_t, 2> levels;
  for_each_tensor([&](const Tensor& t) { add_forward_levels(t, levels); }, args...);
  for (uint64_t level : levels) {
    SetAsideLevel aside(level);
    fn(level);
  }
}

// The tangent of `t` at `level`, or zeros like t when it has none.
SY_API Tensor tangent_or_zeros(const Tensor& t, uint64_t level);

// Runs op `op` by its decomposition, on the arguments on `stack`, leaving the
// results there: for forward mode (an input carries a tangent and the op has
// no forward formula) or, `for_forward` false, for both modes (an op whose only
// derivative is its decomposition). Throws naming the op when the interface is
// unset or the op has no decomposition.
SY_API void run_decomposition_for_autograd(const OperatorHandle& op, Stack& stack,
                                           bool for_forward);

// The same for a typed call: boxes `args`, runs the decomposition, unboxes R.
template <typename R, typename... A>
R decompose_boxed(const OperatorHandle& op, bool for_forward, const A&... args) {
  Stack stack;
  (stack.push_back(sy::detail::ArgTraits<sy::detail::canonical_arg_t<A>>::box(args)), ...);
  run_decomposition_for_autograd(op, stack, for_forward);
  return sy::detail::pop_results<R>(stack, op.name());
}
template <typename R, typename... A>
R decompose_for_forward_ad(const OperatorHandle& op, const A&... args) {
  return decompose_boxed<R>(op, true, args...);
}
template <typename R, typename... A>
R decompose_for_autograd(const OperatorHandle& op, const A&... args) {
  return decompose_boxed<R>(op, false, args...);
}

}  // namespace sy::autograd::detail
