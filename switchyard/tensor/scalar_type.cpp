#include "switchyard/tensor/scalar_type.h"

namespace sy {

std::string_view to_string(ScalarType t) {
  switch (t) {
    case ScalarType::Bool: return "bool";
    case ScalarType::UInt8: return "uint8";
    case ScalarType::Int32: return "int32";
    case ScalarType::Int64: return "int64";
    case ScalarType::Float32: return "float32";
    case ScalarType::Float64: return "float64";
    case ScalarType::Float16: return "float16";
    case ScalarType::BFloat16: return "bfloat16";
  }
  return "unknown";
}

std::optional<ScalarType> parse_scalar_type(std::string_view name) {
  if (name == "bool") return kBool;
  if (name == "uint8") return kUInt8;
  if (name == "int32" || name == "int") return kInt32;
  if (name == "int64" || name == "long") return kInt64;
  if (name == "float32" || name == "float") return kFloat32;
  if (name == "float64" || name == "double") return kFloat64;
  if (name == "float16" || name == "half") return kFloat16;
  if (name == "bfloat16") return kBFloat16;
  return std::nullopt;
}

}  // namespace sy
