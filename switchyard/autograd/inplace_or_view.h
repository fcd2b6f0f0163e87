// ADInplaceOrView kernels: what every op that writes into an argument or
// returns a view of one does below autograd (See Note [Views and in-place
// ops]). Generic over the op's signature; registered per op:
//
//   m.impl("add_.Tensor", &InplaceKernel<"sy::add_.Tensor", Sig, 0>::run);  // bumps arg 0
//   m.impl("select.int", &ViewKernel<"sy::select.int", Sig>::run);          // marks the view
//
// Every non-inference tensor carries the ADInplaceOrView key; ops without a
// kernel here fall through it at no cost.
#pragma once

#include <tuple>
#include <vector>

#include "switchyard/autograd/kernel_support.h"

namespace sy::autograd::detail {

template <size_t I, typename... A>
const Tensor& tensor_arg(const A&... args) {
  return std::get<I>(std::forward_as_tuple(args...));
}

// An op that writes into its argument number `Mutated`: calls below, then
// bumps the version counter of that argument's storage.
template <OpName Name, typename Sig, size_t Mutated>
struct InplaceKernel;
template <OpName Name, typename R, typename... A, size_t Mutated>
struct InplaceKernel<Name, R(A...), Mutated> {
  static R run(DispatchKeySet ks, sy::detail::param_t<A>... args) {
    R result;
    {
      AutoDispatchBelowADInplaceOrView guard;
      result = op_handle<Name, R(A...)>().redispatch(after_ad_inplace_or_view(ks), args...);
    }
    tensor_arg<Mutated>(args...).impl()->bump_version();
    return result;
  }
};

// A view op (its result views its first argument): calls below, then marks
// the result as a view.
template <OpName Name, typename Sig>
struct ViewKernel;
template <OpName Name, typename... A>
struct ViewKernel<Name, Tensor(A...)> {
  static Tensor run(DispatchKeySet ks, sy::detail::param_t<A>... args) {
    Tensor out;
    {
      AutoDispatchBelowADInplaceOrView guard;
      out = op_handle<Name, Tensor(A...)>().redispatch(after_ad_inplace_or_view(ks), args...);
    }
    mark_as_view(tensor_arg<0>(args...), out);
    return out;
  }
};

// An op returning several views of its first argument (split, chunk): each
// is marked, as one of several (they cannot be modified in place).
template <OpName Name, typename Sig>
struct MultiViewKernel;
template <OpName Name, typename... A>
struct MultiViewKernel<Name, std::vector<Tensor>(A...)> {
  static std::vector<Tensor> run(DispatchKeySet ks, sy::detail::param_t<A>... args) {
    std::vector<Tensor> outs;
    {
      AutoDispatchBelowADInplaceOrView guard;
      outs = op_handle<Name, std::vector<Tensor>(A...)>().redispatch(after_ad_inplace_or_view(ks),
                                                                     args...);
    }
    for (const Tensor& out : outs) mark_as_view(tensor_arg<0>(args...), out, /*multi_output=*/true);
    return outs;
  }
};

// An op made of other ops (CompositeImplicitAutograd) that returns several
// views of its first argument (split, chunk): registered at ADInplaceOrView
// and at each autograd key, it runs the composite below itself, whose view
// ops record and mark their results as usual, then marks each result as one
// of several views (an in-place op on one is refused, as in PyTorch).
template <OpName Name, typename Sig>
struct CompositeMultiViewKernel;
template <OpName Name, typename... A>
struct CompositeMultiViewKernel<Name, std::vector<Tensor>(A...)> {
  static std::vector<Tensor> run(DispatchKeySet ks, sy::detail::param_t<A>... args) {
    std::vector<Tensor> outs = op_handle<Name, std::vector<Tensor>(A...)>().redispatch(
        after_ad_inplace_or_view(ks), args...);
    for (const Tensor& out : outs) mark_as_one_of_several_views(tensor_arg<0>(args...), out);
    return outs;
  }
};

}  // namespace sy::autograd::detail
