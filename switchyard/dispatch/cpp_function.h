// CppFunction: a kernel on its way into a registration. Made implicitly from a
// function, a function pointer, a lambda (with or without captures) or a functor
// with state, each of which then runs both unboxed and boxed; or explicitly from
// a boxed function (CppFunction::boxed) or as a fallthrough.
//
// A callable may take the call's DispatchKeySet as its first parameter, which it
// needs to redispatch below its own key.
//
//   m.impl("scale", scale_cpu);                           // function
//   m.impl("scale", [](const Tensor& t, double f) {...}); // lambda
//   m.impl("scale", SY_FN(scale_cpu));                    // no indirect call to scale_cpu
//   m.fallback(CppFunction::boxed(my_boxed_fallback));
//   m.impl("scale", CppFunction::fallthrough());
#pragma once

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "switchyard/dispatch/boxing.h"
#include "switchyard/dispatch/kernel_function.h"

namespace sy {

namespace detail {

template <typename F>
struct KernelHolder final : OperatorKernel {
  explicit KernelHolder(F fn) : f(std::move(fn)) {}
  F f;
};

template <typename F, bool WithKeys, typename R, typename... A>
struct UnboxedKernelWrapper {
  using CR = canonical_return_t<R>;

  static CR unboxed(OperatorKernel* k, DispatchKeySet ks, param_t<A>... args) {
    F& f = static_cast<KernelHolder<F>*>(k)->f;
    if constexpr (std::is_void_v<CR>) {
      invoke(f, ks, args...);
    } else {
      return CR(invoke(f, ks, args...));
    }
  }

  static void boxed(OperatorKernel* k, const OperatorHandle&, DispatchKeySet ks, Stack* s) {
    boxed_impl(k, ks, s, std::index_sequence_for<A...>{});
  }

 private:
  static decltype(auto) invoke(F& f, DispatchKeySet ks, param_t<A>... args) {
    if constexpr (WithKeys) {
      return f(ks, to_user_arg<A>(args)...);
    } else {
      return f(to_user_arg<A>(args)...);
    }
  }

  template <size_t... I>
  static void boxed_impl(OperatorKernel* k, DispatchKeySet ks, Stack* s,
                         std::index_sequence<I...>) {
    constexpr size_t n = sizeof...(A);
    check_boxed_arguments(*s, n);
    IValue* base = s->data() + (s->size() - n);
    if constexpr (std::is_void_v<CR>) {
      unboxed(k, ks, ArgTraits<canonical_arg_t<A>>::unbox(base[I])...);
      s->erase(s->end() - n, s->end());
    } else if constexpr (n == 1 && ReturnTraits<CR>::count == 1) {
      // The result takes the argument's place: no shrinking and regrowing.
      CR result = unboxed(k, ks, ArgTraits<canonical_arg_t<A>>::unbox(base[I])...);
      base[0] = IValue(std::move(result));
    } else {
      CR result = unboxed(k, ks, ArgTraits<canonical_arg_t<A>>::unbox(base[I])...);
      s->erase(s->end() - n, s->end());
      ReturnTraits<CR>::push(*s, std::move(result));
    }
  }
};

template <typename F, typename R, typename Args>
struct SelectWrapper;
template <typename F, typename R>
struct SelectWrapper<F, R, std::tuple<>> {
  using type = UnboxedKernelWrapper<F, false, R>;
};
template <typename F, typename R, typename A0, typename... A>
struct SelectWrapper<F, R, std::tuple<A0, A...>> {
  using type = std::conditional_t<std::is_same_v<std::remove_cvref_t<A0>, DispatchKeySet>,
                                  UnboxedKernelWrapper<F, true, R, A...>,
                                  UnboxedKernelWrapper<F, false, R, A0, A...>>;
};

template <typename Args>
struct SignatureWithoutKeys;
template <>
struct SignatureWithoutKeys<std::tuple<>> {
  template <typename R>
  static CppSignature make() {
    return make_cpp_signature<R>();
  }
};
template <typename A0, typename... A>
struct SignatureWithoutKeys<std::tuple<A0, A...>> {
  template <typename R>
  static CppSignature make() {
    if constexpr (std::is_same_v<std::remove_cvref_t<A0>, DispatchKeySet>) {
      return make_cpp_signature<R, A...>();
    } else {
      return make_cpp_signature<R, A0, A...>();
    }
  }
};

// Whether a CppFunction can be made from a D: a function (pointer) or an object
// with one operator(). (Nothing else converts, so m.def(schema, {Tag::pointwise})
// picks the tags overload.)
template <typename D>
inline constexpr bool is_kernel_callable =
    std::is_function_v<std::remove_pointer_t<D>> || requires {
  &D::operator();
};

// A function known at compile time, wrapped as a functor with its exact
// signature (see SY_FN).
template <auto Fn, typename Sig>
struct FnConstant;
template <auto Fn, typename R, typename... A>
struct FnConstant<Fn, R(A...)> {
  R operator()(A... a) const { return Fn(std::forward<A>(a)...); }
};
template <auto Fn>
auto make_fn_constant() {
  using Sig = std::remove_pointer_t<std::decay_t<decltype(Fn)>>;
  return FnConstant<Fn, Sig>{};
}

}  // namespace detail

class SY_API CppFunction {
 public:
  // An unboxed kernel from a function, function pointer, lambda or functor.
  template <typename F, typename D = std::decay_t<F>,
            std::enable_if_t<!std::is_same_v<D, CppFunction> && detail::is_kernel_callable<D>,
                             int> = 0>
  CppFunction(F&& f) {  // NOLINT: implicit so that m.impl("op", fn) reads naturally
    using Traits = detail::FunctionTraits<std::remove_pointer_t<D>>;
    using R = typename Traits::return_type;
    using Args = typename Traits::args;
    using Wrapper = typename detail::SelectWrapper<D, R, Args>::type;
    auto holder = std::make_shared<detail::KernelHolder<D>>(std::forward<F>(f));
    kernel_.boxed = &Wrapper::boxed;
    kernel_.unboxed = reinterpret_cast<void*>(&Wrapper::unboxed);
    kernel_.functor = holder.get();
    functor_ = std::move(holder);
    signature_ = detail::SignatureWithoutKeys<Args>::template make<R>();
  }

  // A boxed kernel: `f(const OperatorHandle&, Stack*)` or
  // `f(const OperatorHandle&, DispatchKeySet, Stack*)`, a function or a callable.
  template <typename F>
  static CppFunction boxed(F f) {
    struct Boxed {
      static void call(OperatorKernel* k, const OperatorHandle& op, DispatchKeySet ks, Stack* s) {
        F& fn = static_cast<detail::KernelHolder<F>*>(k)->f;
        if constexpr (std::is_invocable_v<F&, const OperatorHandle&, DispatchKeySet, Stack*>) {
          fn(op, ks, s);
        } else {
          fn(op, s);
        }
      }
    };
    auto holder = std::make_shared<detail::KernelHolder<F>>(std::move(f));
    KernelFunction k{&Boxed::call, nullptr, holder.get()};
    return CppFunction(k, std::move(holder), std::nullopt);
  }

  // Skips its key: calls go on to the next key below as if it were not there,
  // at no cost per call.
  static CppFunction fallthrough();

  // A kernel built elsewhere (the Python bindings): `functor` owns its state.
  static CppFunction from_kernel(KernelFunction kernel, std::shared_ptr<OperatorKernel> functor,
                                 std::optional<detail::CppSignature> signature) {
    return CppFunction(kernel, std::move(functor), std::move(signature));
  }

  const KernelFunction& kernel() const { return kernel_; }
  const std::shared_ptr<OperatorKernel>& functor() const { return functor_; }
  // The schema-level signature of an unboxed kernel; none for boxed ones.
  const std::optional<detail::CppSignature>& signature() const { return signature_; }

 private:
  CppFunction(KernelFunction k, std::shared_ptr<OperatorKernel> f,
              std::optional<detail::CppSignature> sig)
      : kernel_(k), functor_(std::move(f)), signature_(std::move(sig)) {}

  KernelFunction kernel_;
  std::shared_ptr<OperatorKernel> functor_;
  std::optional<detail::CppSignature> signature_;
};

}  // namespace sy

// A kernel from a function known at compile time: the wrapper calls it directly
// instead of through a stored pointer.
#define SY_FN(fn) ::sy::detail::make_fn_constant<fn>()
