// A number that is not a tensor: a bool, an integer or a floating-point value,
// remembering which, as a schema's `Scalar` argument carries it.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "switchyard/core/export.h"
#include "switchyard/tensor/scalar_type.h"

namespace sy {

class Scalar {
 public:
  enum class Kind : uint8_t { Bool, Int, Double };

  constexpr Scalar() : kind_(Kind::Int), i_(0) {}
  constexpr Scalar(bool v) : kind_(Kind::Bool), i_(v) {}  // NOLINT: implicit like a number
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  constexpr Scalar(T v) : kind_(Kind::Int), i_(static_cast<int64_t>(v)) {}  // NOLINT
  template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  constexpr Scalar(T v) : kind_(Kind::Double), d_(static_cast<double>(v)) {}  // NOLINT
  constexpr Scalar(Half v) : Scalar(static_cast<float>(v)) {}                 // NOLINT
  constexpr Scalar(BFloat16 v) : Scalar(static_cast<float>(v)) {}             // NOLINT

  constexpr Kind kind() const { return kind_; }
  constexpr bool is_bool() const { return kind_ == Kind::Bool; }
  constexpr bool is_integral() const { return kind_ == Kind::Int; }
  constexpr bool is_floating_point() const { return kind_ == Kind::Double; }

  // The value converted to T.
  template <typename T>
  constexpr T to() const {
    return kind_ == Kind::Double ? static_cast<T>(d_) : static_cast<T>(i_);
  }
  // The element type a tensor made from this value gets: bool, int64 or float64.
  constexpr ScalarType type() const {
    return kind_ == Kind::Bool ? kBool : kind_ == Kind::Int ? kInt64 : kFloat64;
  }
  constexpr bool operator==(const Scalar& o) const {
    return kind_ == o.kind_ && (kind_ == Kind::Double ? d_ == o.d_ : i_ == o.i_);
  }

  // "3", "2.5", "True".
  SY_API std::string str() const;

  // Whether converting this value to dtype `t` would overflow, by PyTorch's
  // rule for checked conversions (fill_, full, clamp bounds, sy.tensor data):
  // an integer must lie in t's range, except that unsigned types also take
  // negatives down to -max (they wrap, as two's complement does); a float must
  // not be NaN or ±inf for an integer type and must lie in its range; a float
  // type takes ±inf and NaN but no finite value beyond its largest; bool takes
  // everything (nonzero is true).
  SY_API bool overflows(ScalarType t) const;

 private:
  Kind kind_;
  union {
    int64_t i_;
    double d_;
  };
};

}  // namespace sy
