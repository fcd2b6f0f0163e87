// The C++ signatures most built-in ops share (unary, binary, with alpha, out=,
// views with sizes or dims, reductions with a dtype, factories), chosen by
// counting the op set's schemas. The tracer records calls of ops with these
// signatures without boxing them, and the graph runner replays them the same
// way; every other op takes the boxed path, with the same results.
//
//   with_common_signature(schema, [&]<typename... Args>() { ... });
//
// calls the lambda with Args set to the canonical parameter types of the one
// signature `schema` matches (each returns one Tensor), or returns false.
#pragma once

#include <optional>
#include <string_view>
#include <tuple>

#include "switchyard/dispatch/boxing.h"
#include "switchyard/dispatch/function_schema.h"

namespace sy::detail {

template <typename... Args>
struct TensorSignature {};

namespace common_signature_types {
using T = const Tensor&;
using S = const Scalar&;
using OptType = std::optional<ScalarType>;
using OptDevice = std::optional<Device>;
using List =
    std::tuple<TensorSignature<T>, TensorSignature<T, T>, TensorSignature<T, S>,
               TensorSignature<T, T, T>, TensorSignature<T, T, S>, TensorSignature<T, S, S>,
               TensorSignature<T, T, S, T>, TensorSignature<T, T, T, S, S>,
               TensorSignature<T, T, T, S, S, T>, TensorSignature<T, IntArrayRef>,
               TensorSignature<T, IntArrayRef, bool>, TensorSignature<T, int64_t>,
               TensorSignature<T, int64_t, int64_t>, TensorSignature<T, int64_t, bool>,
               TensorSignature<T, OptType>, TensorSignature<T, int64_t, OptType>,
               TensorSignature<T, std::optional<IntArrayRef>, bool, OptType>,
               TensorSignature<T, std::string_view>, TensorSignature<ArrayRef<Tensor>, int64_t>,
               TensorSignature<IntArrayRef, OptType, OptDevice, bool>,
               TensorSignature<IntArrayRef, S, OptType, OptDevice, bool>>;
}  // namespace common_signature_types

// Whether `schema` has the types of Tensor(Args...): its arguments' types in
// order and one Tensor return (alias annotations aside).
template <typename... Args>
bool schema_has_signature(const FunctionSchema& schema) {
  constexpr std::string_view kTypes[] = {ArgTraits<canonical_arg_t<Args>>::schema...};
  if (schema.arguments().size() != sizeof...(Args) || schema.returns().size() != 1 ||
      !schema.returns()[0].type.is_tensor()) {
    return false;
  }
  for (size_t i = 0; i < sizeof...(Args); ++i) {
    if (schema.arguments()[i].type.to_string() != kTypes[i]) return false;
  }
  return true;
}

template <typename F, typename... Sigs>
bool with_signature_in(const FunctionSchema& schema, F& f, std::tuple<Sigs...>*) {
  bool found = false;
  auto try_one = [&]<typename... Args>(TensorSignature<Args...>*) {
    if (found || !schema_has_signature<Args...>(schema)) return;
    found = true;
    f.template operator()<Args...>();
  };
  (try_one(static_cast<Sigs*>(nullptr)), ...);
  return found;
}

template <typename F>
bool with_common_signature(const FunctionSchema& schema, F&& f) {
  return with_signature_in(schema, f, static_cast<common_signature_types::List*>(nullptr));
}

}  // namespace sy::detail
