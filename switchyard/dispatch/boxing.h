// How C++ kernel signatures map onto schemas and onto boxed Stacks.
//
// Each C++ parameter type has a canonical form (Tensor, const Tensor&, and
// Tensor& all become `const Tensor&`; std::vector<int64_t> and IntArrayRef
// become IntArrayRef; std::string becomes std::string_view; ...). Unboxed kernel
// pointers are stored in that canonical signature, so any two kernels of one op
// share a C++ function type, and a typed call may call any of them directly.
// The canonical forms map one-to-one onto schema types, which is how a
// registration is checked against its op's schema.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "switchyard/core/dispatch_key_set.h"
#include "switchyard/core/error.h"
#include "switchyard/tensor/ivalue.h"
#include "switchyard/tensor/layout.h"

namespace sy::detail {

// The dispatch keys arguments carry: a defined tensor's keys, every defined
// tensor's of a list. Typed calls (ArgTraits::add_keys) and boxed calls
// (add_value_keys) both gather through these.
SY_ALWAYS_INLINE void add_tensor_keys(DispatchKeySet& ks, const Tensor& t) {
  if (t.defined()) ks |= t.impl()->key_set();
}
inline void add_tensor_keys(DispatchKeySet& ks, ArrayRef<Tensor> ts) {
  for (const Tensor& t : ts) add_tensor_keys(ks, t);
}
SY_ALWAYS_INLINE void add_value_keys(DispatchKeySet& ks, const IValue& v) {
  if (v.is_tensor()) {
    if (const TensorImpl* impl = v.tensor_impl_unchecked()) ks |= impl->key_set();
  } else if (SY_UNLIKELY(v.is_tensor_list())) {
    add_tensor_keys(ks, v.to_tensor_list());
  }
}

// ArgTraits<Canonical>: `param` (how the canonical form is passed), `schema`
// (its schema type), box (to IValue), unbox (from IValue, possibly borrowing),
// add_keys (the dispatch keys it carries).
template <typename T>
struct ArgTraits;

template <typename T>
struct ValueArgTraits {
  using param = T;
  static IValue box(param v) { return IValue(v); }
  static void add_keys(DispatchKeySet&, param) {}
};

template <>
struct ArgTraits<Tensor> {
  using param = const Tensor&;
  static constexpr std::string_view schema = "Tensor";
  static IValue box(param v) { return IValue(v); }
  static const Tensor& unbox(const IValue& v) { return v.to_tensor_ref(); }
  static void add_keys(DispatchKeySet& ks, param v) { add_tensor_keys(ks, v); }
};
template <>
struct ArgTraits<std::optional<Tensor>> {
  using param = const std::optional<Tensor>&;
  static constexpr std::string_view schema = "Tensor?";
  static IValue box(param v) { return IValue(v); }
  static std::optional<Tensor> unbox(const IValue& v) { return v.to_optional_tensor(); }
  static void add_keys(DispatchKeySet& ks, param v) {
    if (v) add_tensor_keys(ks, *v);
  }
};
template <>
struct ArgTraits<ArrayRef<Tensor>> {
  using param = ArrayRef<Tensor>;
  static constexpr std::string_view schema = "Tensor[]";
  static IValue box(param v) { return IValue(v.vec()); }
  static ArrayRef<Tensor> unbox(const IValue& v) { return v.to_tensor_list(); }
  static void add_keys(DispatchKeySet& ks, param v) { add_tensor_keys(ks, v); }
};
// Tensor?[]: boxed as a Tensor list whose absent entries are undefined tensors.
template <>
struct ArgTraits<OptionalTensorListRef> {
  using param = OptionalTensorListRef;
  static constexpr std::string_view schema = "Tensor?[]";
  static IValue box(param v) { return IValue(v.tensors().vec()); }
  static OptionalTensorListRef unbox(const IValue& v) { return v.to_tensor_list(); }
  static void add_keys(DispatchKeySet& ks, param v) {
    for (const Tensor& t : v) {
      if (t.defined()) ks |= t.impl()->key_set();
    }
  }
};
template <>
struct ArgTraits<int64_t> : ValueArgTraits<int64_t> {
  static constexpr std::string_view schema = "int";
  static int64_t unbox(const IValue& v) { return v.to_int(); }
};
template <>
struct ArgTraits<double> : ValueArgTraits<double> {
  static constexpr std::string_view schema = "float";
  static double unbox(const IValue& v) { return v.to_double(); }
};
template <>
struct ArgTraits<bool> : ValueArgTraits<bool> {
  static constexpr std::string_view schema = "bool";
  static bool unbox(const IValue& v) { return v.to_bool(); }
};
template <>
struct ArgTraits<std::string_view> : ValueArgTraits<std::string_view> {
  static constexpr std::string_view schema = "str";
  static std::string_view unbox(const IValue& v) { return v.to_string_ref(); }
};
template <>
struct ArgTraits<Scalar> {
  using param = const Scalar&;
  static constexpr std::string_view schema = "Scalar";
  static IValue box(param v) { return IValue(v); }
  static Scalar unbox(const IValue& v) { return v.to_scalar(); }
  static void add_keys(DispatchKeySet&, param) {}
};
template <>
struct ArgTraits<ScalarType> : ValueArgTraits<ScalarType> {
  static constexpr std::string_view schema = "ScalarType";
  static ScalarType unbox(const IValue& v) { return v.to_scalar_type(); }
};
template <>
struct ArgTraits<Device> : ValueArgTraits<Device> {
  static constexpr std::string_view schema = "Device";
  static Device unbox(const IValue& v) { return v.to_device(); }
};
// Layout and MemoryFormat travel as ints; a boxed int no enumerator has is a ValueError.
template <typename E, std::optional<E> (*FromInt)(int64_t), const std::string_view& Name>
struct EnumArgTraits {
  using param = E;
  static constexpr std::string_view schema = Name;
  static IValue box(E v) { return IValue(static_cast<int64_t>(v)); }
  static E unbox(const IValue& v) {
    const std::optional<E> e = FromInt(v.to_int());
    SY_CHECK(e.has_value(), ValueError, "{} {} is not one of its values", Name, v.to_int());
    return *e;
  }
  static void add_keys(DispatchKeySet&, E) {}
};
inline constexpr std::string_view kLayout = "Layout", kMemoryFormat = "MemoryFormat";
template <>
struct ArgTraits<Layout> : EnumArgTraits<Layout, &layout_from_int, kLayout> {};
template <>
struct ArgTraits<MemoryFormat>
    : EnumArgTraits<MemoryFormat, &memory_format_from_int, kMemoryFormat> {};

// `Generator?`: switchyard has no generator objects, so the argument is always
// None and a kernel takes it as std::nullopt_t (random ops use the calling
// thread's generator).
template <>
struct ArgTraits<std::nullopt_t> {
  using param = std::nullopt_t;
  static constexpr std::string_view schema = "Generator?";
  static IValue box(std::nullopt_t) { return IValue(); }
  static std::nullopt_t unbox(const IValue& v) {
    SY_CHECK(v.is_none(), TypeError, "a Generator? argument takes None, got a {}", v.type_name());
    return std::nullopt;
  }
  static void add_keys(DispatchKeySet&, std::nullopt_t) {}
};

template <>
struct ArgTraits<IntArrayRef> {
  using param = IntArrayRef;
  static constexpr std::string_view schema = "int[]";
  static IValue box(param v) { return IValue(v.vec()); }
  static IntArrayRef unbox(const IValue& v) { return v.to_int_list(); }
  static void add_keys(DispatchKeySet&, param) {}
};
template <>
struct ArgTraits<ArrayRef<double>> {
  using param = ArrayRef<double>;
  static constexpr std::string_view schema = "float[]";
  static IValue box(param v) { return IValue(v.vec()); }
  static ArrayRef<double> unbox(const IValue& v) { return v.to_double_list(); }
  static void add_keys(DispatchKeySet&, param) {}
};
template <>
struct ArgTraits<std::vector<bool>> {
  using param = const std::vector<bool>&;
  static constexpr std::string_view schema = "bool[]";
  static IValue box(param v) { return IValue(v); }
  static const std::vector<bool>& unbox(const IValue& v) { return v.to_bool_list(); }
  static void add_keys(DispatchKeySet&, param) {}
};

// Optionals of value types: None or the value.
template <typename T, const std::string_view& Name>
struct OptionalArgTraits {
  using param = const std::optional<T>&;
  static constexpr std::string_view schema = Name;
  static IValue box(param v) { return v ? ArgTraits<T>::box(*v) : IValue(); }
  static std::optional<T> unbox(const IValue& v) {
    if (v.is_none()) return std::nullopt;
    return ArgTraits<T>::unbox(v);
  }
  static void add_keys(DispatchKeySet&, param) {}
};
inline constexpr std::string_view kOptInt = "int?", kOptFloat = "float?", kOptBool = "bool?",
                                  kOptScalar = "Scalar?", kOptScalarType = "ScalarType?",
                                  kOptDevice = "Device?", kOptIntList = "int[]?", kOptStr = "str?",
                                  kOptLayout = "Layout?", kOptMemoryFormat = "MemoryFormat?";
template <>
struct ArgTraits<std::optional<int64_t>> : OptionalArgTraits<int64_t, kOptInt> {};
template <>
struct ArgTraits<std::optional<double>> : OptionalArgTraits<double, kOptFloat> {};
template <>
struct ArgTraits<std::optional<bool>> : OptionalArgTraits<bool, kOptBool> {};
template <>
struct ArgTraits<std::optional<Scalar>> : OptionalArgTraits<Scalar, kOptScalar> {};
template <>
struct ArgTraits<std::optional<ScalarType>> : OptionalArgTraits<ScalarType, kOptScalarType> {};
template <>
struct ArgTraits<std::optional<Device>> : OptionalArgTraits<Device, kOptDevice> {};
template <>
struct ArgTraits<std::optional<IntArrayRef>> : OptionalArgTraits<IntArrayRef, kOptIntList> {};
template <>
struct ArgTraits<std::optional<std::string_view>> : OptionalArgTraits<std::string_view, kOptStr> {};
template <>
struct ArgTraits<std::optional<Layout>> : OptionalArgTraits<Layout, kOptLayout> {};
template <>
struct ArgTraits<std::optional<MemoryFormat>> : OptionalArgTraits<MemoryFormat, kOptMemoryFormat> {
};

// The canonical form of a C++ parameter type.
template <typename T>
struct CanonicalArg {
  using type = T;
};
template <>
struct CanonicalArg<std::vector<int64_t>> {
  using type = IntArrayRef;
};
template <>
struct CanonicalArg<std::vector<double>> {
  using type = ArrayRef<double>;
};
template <>
struct CanonicalArg<std::vector<Tensor>> {
  using type = ArrayRef<Tensor>;
};
template <>
struct CanonicalArg<std::string> {
  using type = std::string_view;
};
template <>
struct CanonicalArg<const char*> {
  using type = std::string_view;
};
template <>
struct CanonicalArg<std::optional<std::vector<int64_t>>> {
  using type = std::optional<IntArrayRef>;
};
template <typename T>
using canonical_arg_t = typename CanonicalArg<std::remove_cvref_t<T>>::type;
template <typename T>
using param_t = typename ArgTraits<canonical_arg_t<T>>::param;

// Converts a canonical parameter into the type a kernel declared. A reference
// parameter of another type (const std::vector<int64_t>& for IntArrayRef) gets
// a value, which the kernel's reference binds to for the whole call.
template <typename U, typename P>
decltype(auto) to_user_arg(P&& p) {
  using D = std::remove_cvref_t<U>;
  using C = std::remove_cvref_t<P>;
  if constexpr (std::is_same_v<D, C> && std::is_lvalue_reference_v<U> &&
                !std::is_const_v<std::remove_reference_t<U>>) {
    return const_cast<U>(p);  // Tensor& out: the handle is const, the tensor is not
  } else if constexpr (std::is_same_v<D, C> && std::is_reference_v<U>) {
    return static_cast<const D&>(p);
  } else if constexpr (std::is_same_v<D, std::optional<std::vector<int64_t>>>) {
    return p ? D(p->vec()) : D();
  } else {
    return D(p);
  }
}

// ReturnTraits<Canonical>: schema types, push onto and pop from a Stack.
template <typename R>
struct ReturnTraits;
template <>
struct ReturnTraits<void> {
  static std::vector<std::string_view> schema() { return {}; }
  static constexpr size_t count = 0;
};
template <typename R>
struct SingleReturnTraits {
  static std::vector<std::string_view> schema() { return {ArgTraits<R>::schema}; }
  static constexpr size_t count = 1;
  static void push(Stack& s, R&& r) { s.emplace_back(std::move(r)); }
  static R pop(Stack& s, size_t at) { return ArgTraits<R>::unbox(s[at]); }
};
template <>
struct ReturnTraits<Tensor> : SingleReturnTraits<Tensor> {
  static Tensor pop(Stack& s, size_t at) { return std::move(s[at]).to_tensor(); }
};
template <>
struct ReturnTraits<int64_t> : SingleReturnTraits<int64_t> {};
template <>
struct ReturnTraits<double> : SingleReturnTraits<double> {};
template <>
struct ReturnTraits<bool> : SingleReturnTraits<bool> {};
template <>
struct ReturnTraits<Scalar> : SingleReturnTraits<Scalar> {};
template <>
struct ReturnTraits<std::string> {
  static std::vector<std::string_view> schema() { return {"str"}; }
  static constexpr size_t count = 1;
  static void push(Stack& s, std::string&& r) { s.emplace_back(std::move(r)); }
  static std::string pop(Stack& s, size_t at) { return s[at].to_string_ref(); }
};
template <>
struct ReturnTraits<std::vector<Tensor>> {
  static std::vector<std::string_view> schema() { return {"Tensor[]"}; }
  static constexpr size_t count = 1;
  static void push(Stack& s, std::vector<Tensor>&& r) { s.emplace_back(std::move(r)); }
  static std::vector<Tensor> pop(Stack& s, size_t at) { return s[at].to_tensor_list(); }
};
template <typename R>
inline constexpr bool kOwningReturn =
    std::is_same_v<R, Tensor> || std::is_same_v<R, int64_t> || std::is_same_v<R, double> ||
    std::is_same_v<R, bool> || std::is_same_v<R, Scalar>;

template <typename... Rs>
struct ReturnTraits<std::tuple<Rs...>> {
  static_assert((kOwningReturn<Rs> && ...),
                "a tuple return holds Tensor, int64_t, double, bool or Scalar values: views "
                "(IntArrayRef, std::string_view) would outlive what they view");
  static std::vector<std::string_view> schema() { return {ArgTraits<Rs>::schema...}; }
  static constexpr size_t count = sizeof...(Rs);
  static void push(Stack& s, std::tuple<Rs...>&& r) {
    std::apply([&](auto&&... v) { (s.emplace_back(std::move(v)), ...); }, std::move(r));
  }
  static std::tuple<Rs...> pop(Stack& s, size_t at) {
    return pop_impl(s, at, std::index_sequence_for<Rs...>{});
  }

 private:
  template <size_t... I>
  static std::tuple<Rs...> pop_impl(Stack& s, size_t at, std::index_sequence<I...>) {
    return std::tuple<Rs...>(ReturnTraits<Rs>::pop(s, at + I)...);
  }
};

template <typename R>
struct CanonicalReturn {
  using type = std::remove_cvref_t<R>;
};
template <>
struct CanonicalReturn<Tensor&> {
  using type = Tensor;
};
template <>
struct CanonicalReturn<const Tensor&> {
  using type = Tensor;
};
template <typename R>
using canonical_return_t = typename CanonicalReturn<R>::type;

// The schema-level signature of a C++ function type, for checks and messages.
struct CppSignature {
  std::vector<std::string_view> arguments;
  std::vector<std::string_view> returns;
  std::string to_string() const;  // "(Tensor, float) -> Tensor"
};

template <typename R, typename... Args>
CppSignature make_cpp_signature() {
  return {{ArgTraits<canonical_arg_t<Args>>::schema...},
          ReturnTraits<canonical_return_t<R>>::schema()};
}

// Checks that a boxed call left at least `n` arguments on the stack.
SY_API void check_boxed_arguments(const Stack& stack, size_t n);

// Pops the results of a boxed call made on behalf of an unboxed one; a kernel
// that left the wrong number or types of values is an error naming them.
SY_API void check_boxed_results(const Stack& stack, size_t expected, std::string_view op_name);

[[noreturn]] SY_API void throw_wrong_result_type(std::string_view op_name, const char* detail);

template <typename R>
R pop_results(Stack& stack, std::string_view op_name) {
  using CR = canonical_return_t<R>;
  constexpr size_t n = ReturnTraits<CR>::count;
  check_boxed_results(stack, n, op_name);
  if constexpr (n == 0) {
    return;
  } else {
    try {
      return ReturnTraits<CR>::pop(stack, stack.size() - n);
    } catch (const TypeError& e) {
      throw_wrong_result_type(op_name, e.what());
    }
  }
}

// Function traits of plain functions, function pointers, lambdas and functors.
template <typename F>
struct FunctionTraits : FunctionTraits<decltype(&F::operator())> {};
template <typename R, typename... Args>
struct FunctionTraits<R(Args...)> {
  using return_type = R;
  using args = std::tuple<Args...>;
};
template <typename R, typename... Args>
struct FunctionTraits<R (*)(Args...)> : FunctionTraits<R(Args...)> {};
template <typename C, typename R, typename... Args>
struct FunctionTraits<R (C::*)(Args...) const> : FunctionTraits<R(Args...)> {};
template <typename C, typename R, typename... Args>
struct FunctionTraits<R (C::*)(Args...)> : FunctionTraits<R(Args...)> {};

}  // namespace sy::detail
