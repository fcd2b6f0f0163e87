// Element types. float16 and bfloat16 are storage types (tensor/half.h): ops
// compute on them in float32 and round the result back (see compute_type).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "switchyard/core/export.h"
#include "switchyard/tensor/half.h"

namespace sy {

enum class ScalarType : int8_t {
  Bool,
  UInt8,
  Int32,
  Int64,
  Float32,
  Float64,
  Float16,
  BFloat16,
};
inline constexpr int kNumScalarTypes = 8;

inline constexpr ScalarType kBool = ScalarType::Bool;
inline constexpr ScalarType kUInt8 = ScalarType::UInt8;
inline constexpr ScalarType kInt32 = ScalarType::Int32;
inline constexpr ScalarType kInt64 = ScalarType::Int64;
inline constexpr ScalarType kFloat32 = ScalarType::Float32;
inline constexpr ScalarType kFloat64 = ScalarType::Float64;
inline constexpr ScalarType kFloat16 = ScalarType::Float16;
inline constexpr ScalarType kHalf = ScalarType::Float16;
inline constexpr ScalarType kBFloat16 = ScalarType::BFloat16;

// Bytes per element.
constexpr int64_t element_size(ScalarType t) {
  switch (t) {
    case ScalarType::Bool:
    case ScalarType::UInt8: return 1;
    case ScalarType::Float16:
    case ScalarType::BFloat16: return 2;
    case ScalarType::Int32:
    case ScalarType::Float32: return 4;
    case ScalarType::Int64:
    case ScalarType::Float64: return 8;
  }
  return 0;
}

constexpr bool is_floating_point(ScalarType t) {
  return t == ScalarType::Float32 || t == ScalarType::Float64 || t == ScalarType::Float16 ||
         t == ScalarType::BFloat16;
}
// float16 and bfloat16: stored in 16 bits, computed in float32.
constexpr bool is_reduced_float(ScalarType t) {
  return t == ScalarType::Float16 || t == ScalarType::BFloat16;
}
// The dtype kernels compute in for elements of `t`: float32 for the 16-bit
// floats, `t` itself otherwise.
constexpr ScalarType compute_type(ScalarType t) {
  return is_reduced_float(t) ? ScalarType::Float32 : t;
}
constexpr bool is_integral(ScalarType t, bool include_bool) {
  return t == ScalarType::UInt8 || t == ScalarType::Int32 || t == ScalarType::Int64 ||
         (include_bool && t == ScalarType::Bool);
}

// "float32", "int64", "bool", "float16", "bfloat16", ...
SY_API std::string_view to_string(ScalarType t);
// The type named `name` ("float32", also PyTorch's aliases "float", "long", "int",
// "double", "half").
SY_API std::optional<ScalarType> parse_scalar_type(std::string_view name);

// The C++ type of each element type and back: cpp_type_t<kFloat32> is float.
template <ScalarType T>
struct CppTypeOf;
template <>
struct CppTypeOf<ScalarType::Bool> {
  using type = bool;
};
template <>
struct CppTypeOf<ScalarType::UInt8> {
  using type = uint8_t;
};
template <>
struct CppTypeOf<ScalarType::Int32> {
  using type = int32_t;
};
template <>
struct CppTypeOf<ScalarType::Int64> {
  using type = int64_t;
};
template <>
struct CppTypeOf<ScalarType::Float32> {
  using type = float;
};
template <>
struct CppTypeOf<ScalarType::Float64> {
  using type = double;
};
template <>
struct CppTypeOf<ScalarType::Float16> {
  using type = Half;
};
template <>
struct CppTypeOf<ScalarType::BFloat16> {
  using type = BFloat16;
};
template <ScalarType T>
using cpp_type_t = typename CppTypeOf<T>::type;

template <typename T>
constexpr ScalarType scalar_type_of();
template <>
constexpr ScalarType scalar_type_of<bool>() {
  return kBool;
}
template <>
constexpr ScalarType scalar_type_of<uint8_t>() {
  return kUInt8;
}
template <>
constexpr ScalarType scalar_type_of<int32_t>() {
  return kInt32;
}
template <>
constexpr ScalarType scalar_type_of<int64_t>() {
  return kInt64;
}
template <>
constexpr ScalarType scalar_type_of<float>() {
  return kFloat32;
}
template <>
constexpr ScalarType scalar_type_of<double>() {
  return kFloat64;
}
template <>
constexpr ScalarType scalar_type_of<Half>() {
  return kFloat16;
}
template <>
constexpr ScalarType scalar_type_of<BFloat16>() {
  return kBFloat16;
}

}  // namespace sy

// Runs `body` with `scalar_t` bound to the C++ type of `type`; `name` names
// the op in the error for an unsupported type. Covers the six computing types:
// float16 and bfloat16 are an error here (kernels convert them to float32
// first); SY_DISPATCH_ALL_TYPES_AND_HALF adds them, for kernels that only move
// or compare elements.
#define SY_DISPATCH_ALL_TYPES(type, name, ...)                                    \
  [&] {                                                                           \
    switch (type) {                                                               \
      default: break;                                                             \
      case ::sy::ScalarType::Bool: {                                              \
        using scalar_t = bool;                                                    \
        return __VA_ARGS__();                                                     \
      }                                                                           \
      case ::sy::ScalarType::UInt8: {                                             \
        using scalar_t = uint8_t;                                                 \
        return __VA_ARGS__();                                                     \
      }                                                                           \
      case ::sy::ScalarType::Int32: {                                             \
        using scalar_t = int32_t;                                                 \
        return __VA_ARGS__();                                                     \
      }                                                                           \
      case ::sy::ScalarType::Int64: {                                             \
        using scalar_t = int64_t;                                                 \
        return __VA_ARGS__();                                                     \
      }                                                                           \
      case ::sy::ScalarType::Float32: {                                           \
        using scalar_t = float;                                                   \
        return __VA_ARGS__();                                                     \
      }                                                                           \
      case ::sy::ScalarType::Float64: {                                           \
        using scalar_t = double;                                                  \
        return __VA_ARGS__();                                                     \
      }                                                                           \
    }                                                                             \
    SY_THROW(TypeError, "{}: unsupported dtype {}", name, ::sy::to_string(type)); \
  }()

#define SY_DISPATCH_ALL_TYPES_AND_HALF(type, name, ...)               \
  [&] {                                                               \
    switch (type) {                                                   \
      case ::sy::ScalarType::Float16: {                               \
        using scalar_t = ::sy::Half;                                  \
        return __VA_ARGS__();                                         \
      }                                                               \
      case ::sy::ScalarType::BFloat16: {                              \
        using scalar_t = ::sy::BFloat16;                              \
        return __VA_ARGS__();                                         \
      }                                                               \
      default: return SY_DISPATCH_ALL_TYPES(type, name, __VA_ARGS__); \
    }                                                                 \
  }()
