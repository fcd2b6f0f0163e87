// Element types. The enum leaves room for float16 and bfloat16; until kernels
// exist for them they are not declared, so no op can be asked to produce them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "switchyard/core/export.h"

namespace sy {

enum class ScalarType : int8_t {
  Bool,
  UInt8,
  Int32,
  Int64,
  Float32,
  Float64,
};
inline constexpr int kNumScalarTypes = 6;

inline constexpr ScalarType kBool = ScalarType::Bool;
inline constexpr ScalarType kUInt8 = ScalarType::UInt8;
inline constexpr ScalarType kInt32 = ScalarType::Int32;
inline constexpr ScalarType kInt64 = ScalarType::Int64;
inline constexpr ScalarType kFloat32 = ScalarType::Float32;
inline constexpr ScalarType kFloat64 = ScalarType::Float64;

// Bytes per element.
constexpr int64_t element_size(ScalarType t) {
  switch (t) {
    case ScalarType::Bool:
    case ScalarType::UInt8: return 1;
    case ScalarType::Int32:
    case ScalarType::Float32: return 4;
    case ScalarType::Int64:
    case ScalarType::Float64: return 8;
  }
  return 0;
}

constexpr bool is_floating_point(ScalarType t) {
  return t == ScalarType::Float32 || t == ScalarType::Float64;
}
constexpr bool is_integral(ScalarType t, bool include_bool) {
  return t == ScalarType::UInt8 || t == ScalarType::Int32 || t == ScalarType::Int64 ||
         (include_bool && t == ScalarType::Bool);
}

// "float32", "int64", "bool", ...
SY_API std::string_view to_string(ScalarType t);
// The type named `name` ("float32", also PyTorch's aliases "float", "long", "int", "double").
SY_API std::optional<ScalarType> parse_scalar_type(std::string_view name);

// The C++ type of each element type and back: cpp_type_t<kFloat32> is float.
template <ScalarType T> struct CppTypeOf;
template <> struct CppTypeOf<ScalarType::Bool> { using type = bool; };
template <> struct CppTypeOf<ScalarType::UInt8> { using type = uint8_t; };
template <> struct CppTypeOf<ScalarType::Int32> { using type = int32_t; };
template <> struct CppTypeOf<ScalarType::Int64> { using type = int64_t; };
template <> struct CppTypeOf<ScalarType::Float32> { using type = float; };
template <> struct CppTypeOf<ScalarType::Float64> { using type = double; };
template <ScalarType T> using cpp_type_t = typename CppTypeOf<T>::type;

template <typename T> constexpr ScalarType scalar_type_of();
template <> constexpr ScalarType scalar_type_of<bool>() { return kBool; }
template <> constexpr ScalarType scalar_type_of<uint8_t>() { return kUInt8; }
template <> constexpr ScalarType scalar_type_of<int32_t>() { return kInt32; }
template <> constexpr ScalarType scalar_type_of<int64_t>() { return kInt64; }
template <> constexpr ScalarType scalar_type_of<float>() { return kFloat32; }
template <> constexpr ScalarType scalar_type_of<double>() { return kFloat64; }

}  // namespace sy

// Runs `body` with `scalar_t` bound to the C++ type of `type`; `name` names
// the op in the error for an unsupported type.
#define SY_DISPATCH_ALL_TYPES(type, name, ...)                                        \
  [&] {                                                                               \
    switch (type) {                                                                   \
      case ::sy::ScalarType::Bool: { using scalar_t = bool; return __VA_ARGS__(); }   \
      case ::sy::ScalarType::UInt8: { using scalar_t = uint8_t; return __VA_ARGS__(); } \
      case ::sy::ScalarType::Int32: { using scalar_t = int32_t; return __VA_ARGS__(); } \
      case ::sy::ScalarType::Int64: { using scalar_t = int64_t; return __VA_ARGS__(); } \
      case ::sy::ScalarType::Float32: { using scalar_t = float; return __VA_ARGS__(); } \
      case ::sy::ScalarType::Float64: { using scalar_t = double; return __VA_ARGS__(); } \
    }                                                                                 \
    SY_THROW(TypeError, "{}: unsupported dtype {}", name, ::sy::to_string(type));     \
  }()
