#include "switchyard/tensor/scalar.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "switchyard/core/error.h"

namespace sy {

std::string Scalar::str() const {
  switch (kind_) {
    case Kind::Bool: return i_ ? "True" : "False";
    case Kind::Int: return std::to_string(i_);
    case Kind::Double: {
      std::string s = fmt::format("{}", d_);
      if (s.find_first_of(".eni") == std::string::npos) s += ".";
      return s;
    }
  }
  return "";
}

namespace {

template <typename T>
bool overflows_as(Scalar::Kind kind, int64_t i, double d) {
  using limit = std::numeric_limits<T>;
  if constexpr (std::is_same_v<T, bool>) {
    return false;
  } else if constexpr (std::is_integral_v<T>) {
    if (kind != Scalar::Kind::Double) {
      if constexpr (std::is_unsigned_v<T>) {
        return i > static_cast<int64_t>(limit::max()) || i < -static_cast<int64_t>(limit::max());
      } else {
        return i < static_cast<int64_t>(limit::lowest()) || i > static_cast<int64_t>(limit::max());
      }
    }
    if (std::isnan(d) || std::isinf(d)) return true;
    // PyTorch's d > max, and also d >= 2^digits, which that misses for int64
    // (max rounds up to 2^63 in double, and converting 2^63 is undefined).
    return d < static_cast<double>(limit::lowest()) || d > static_cast<double>(limit::max()) ||
           d >= std::ldexp(1.0, limit::digits);
  } else {  // floating types (numeric_limits must know them)
    if (kind != Scalar::Kind::Double || std::isinf(d) || std::isnan(d)) return false;
    return d < static_cast<double>(limit::lowest()) || d > static_cast<double>(limit::max());
  }
}

}  // namespace

bool Scalar::overflows(ScalarType t) const {
  if (is_reduced_float(t)) {  // their largest finite values, as PyTorch's checks use
    const double max = t == ScalarType::Float16 ? 65504.0 : 0x1.fep127;
    const double v = kind_ == Kind::Double ? d_ : static_cast<double>(i_);
    return !std::isinf(v) && (v < -max || v > max);  // NaN compares false
  }
  bool result = false;
  SY_DISPATCH_ALL_TYPES(t, "Scalar::overflows",
                        [&] { result = overflows_as<scalar_t>(kind_, i_, d_); });
  return result;
}

}  // namespace sy
