// Elementwise binary ops: arithmetic, comparisons, logic, where and clamp.
// Each Tensor overload has one kernel registered at both CPU and Meta (the
// engine in elementwise_impl.h skips only the loop on meta tensors); Scalar
// overloads are CompositeImplicitAutograd: they wrap the Scalar in a zero-dim
// tensor of the promoted dtype and call the Tensor overload.
// The ops are declared in binary_ops.yaml (docs/op-table.md); their registrations,
// generated from it, are included at the end of this file.
#include <cmath>

#include <fmt/format.h>

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::binary_into;
using detail::binary_new;
using detail::no_check;
using detail::ResultKind;
using detail::scalar_tensor;

// ---- functors -------------------------------------------------------------------------

struct AddOp {
  Scalar alpha;
  template <typename T>
  auto bind() const {
    const T al = alpha.to<T>();
    if constexpr (std::is_same_v<T, bool>) {
      return [](T a, T b) { return static_cast<T>(a || b); };
    } else {
      return [al](T a, T b) { return static_cast<T>(a + al * b); };
    }
  }
};

struct SubOp {
  Scalar alpha;
  template <typename T>
  auto bind() const {
    const T al = alpha.to<T>();
    return [al](T a, T b) { return static_cast<T>(a - al * b); };
  }
};

struct MulOp {
  template <typename T>
  auto bind() const {
    if constexpr (std::is_same_v<T, bool>) {
      return [](T a, T b) { return static_cast<T>(a && b); };
    } else {
      return [](T a, T b) { return static_cast<T>(a * b); };
    }
  }
};

enum class Rounding { None, Trunc, Floor };

Rounding parse_rounding(std::string_view op, std::optional<std::string_view> mode) {
  if (!mode) return Rounding::None;
  if (*mode == "trunc") return Rounding::Trunc;
  if (*mode == "floor") return Rounding::Floor;
  SY_THROW(ValueError, "{}: rounding_mode must be None, 'trunc' or 'floor', got '{}'", op, *mode);
}

// Note [Integer division overflow]
// The minimum of a signed type divided by -1 overflows (x86 raises SIGFPE).
// Its result is defined as two's complement wraps it: the quotient is the
// minimum itself and the remainder 0. PyTorch crashes here.
template <typename T>
T trunc_div(T a, T b) {
  if constexpr (std::is_signed_v<T>) {
    if (b == T(-1))
      return static_cast<T>(std::make_unsigned_t<T>(0) - static_cast<std::make_unsigned_t<T>>(a));
  }
  return static_cast<T>(a / b);
}

template <typename T>
T floor_div(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (b == 0) return a / b;
    const T mod = std::fmod(a, b);
    T q = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) q -= 1;
    const T f = std::floor(q);
    return q - f > T(0.5) ? f + 1 : f;
  } else if constexpr (std::is_signed_v<T>) {
    if (b == T(-1)) return trunc_div(a, b);  // exact; see Note [Integer division overflow]
    const T q = static_cast<T>(a / b);
    return (a % b != 0 && ((a < 0) != (b < 0))) ? static_cast<T>(q - 1) : q;
  } else {
    return static_cast<T>(a / b);
  }
}

struct DivOp {
  Rounding mode;
  template <typename T>
  auto bind() const {
    const Rounding m = mode;
    return [m](T a, T b) -> T {
      if constexpr (std::is_same_v<T, bool>) {
        return a;  // bool never reaches here: division computes in float or is rejected
      } else if constexpr (std::is_floating_point_v<T>) {
        if (m == Rounding::Floor) return floor_div(a, b);
        return m == Rounding::Trunc ? std::trunc(a / b) : a / b;
      } else {
        return m == Rounding::Floor ? floor_div(a, b) : trunc_div(a, b);
      }
    };
  }
};

struct RemainderOp {
  template <typename T>
  auto bind() const {
    return [](T a, T b) -> T {
      if constexpr (std::is_same_v<T, bool>) {
        return false;
      } else if constexpr (std::is_floating_point_v<T>) {
        T r = std::fmod(a, b);
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        return r;
      } else if constexpr (std::is_signed_v<T>) {
        if (b == T(-1)) return T(0);  // See Note [Integer division overflow]
        T r = static_cast<T>(a % b);
        if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
        return r;
      } else {
        return static_cast<T>(a % b);
      }
    };
  }
};

struct PowOp {
  // float and double powers run through SLEEF's pow (ops/vec); other types
  // get nullptr (of type nullptr_t).
  template <typename T>
  static constexpr auto vec() {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      return static_cast<detail::VecMap2<T>>(&vec::pow);
    } else {
      return nullptr;
    }
  }
  template <typename T>
  auto bind() const {
    return [](T a, T b) -> T {
      if constexpr (std::is_floating_point_v<T>) {
        return std::pow(a, b);
      } else if constexpr (std::is_same_v<T, bool>) {
        return a || !b;
      } else {
        T result = 1, base = a;
        for (auto e = b; e > 0; e = static_cast<T>(e / 2)) {  // b >= 0, checked before
          if (e % 2) result = static_cast<T>(result * base);
          base = static_cast<T>(base * base);
        }
        return result;
      }
    };
  }
};

struct MaximumOp {
  bool take_max;
  template <typename T>
  auto bind() const {
    const bool mx = take_max;
    return [mx](T a, T b) -> T {
      if constexpr (std::is_floating_point_v<T>) {
        if (a != a) return a;
        if (b != b) return b;
      }
      return (mx ? a > b : a < b) ? a : b;
    };
  }
};

enum class Cmp { Eq, Ne, Lt, Le, Gt, Ge };
// The comparison is a template argument, not a member: a switch inside the element
// lambda kept the compiler from vectorizing the loop (gt on 4096 floats took 3.8 us).
template <Cmp C>
struct CompareOp {
  template <typename T>
  auto bind() const {
    return [](T a, T b) -> bool {
      if constexpr (C == Cmp::Eq)
        return a == b;
      else if constexpr (C == Cmp::Ne)
        return a != b;
      else if constexpr (C == Cmp::Lt)
        return a < b;
      else if constexpr (C == Cmp::Le)
        return a <= b;
      else if constexpr (C == Cmp::Gt)
        return a > b;
      else
        return a >= b;
    };
  }
};

struct LogicalOp {
  bool is_and;
  template <typename T>
  auto bind() const {
    const bool both = is_and;
    return [both](T a, T b) -> bool {
      return both ? (a != T(0) && b != T(0)) : (a != T(0) || b != T(0));
    };
  }
};

enum class Bits { And, Or, Xor };
struct BitwiseOp {
  Bits bits;
  template <typename T>
  auto bind() const {
    const Bits b = bits;
    return [b](T x, T y) -> T {
      if constexpr (std::is_integral_v<T>) {
        switch (b) {
          case Bits::And: return static_cast<T>(x & y);
          case Bits::Or: return static_cast<T>(x | y);
          case Bits::Xor: return static_cast<T>(x ^ y);
        }
      }
      return x;  // never runs: check_bitwise admits integer and bool dtypes only
    };
  }
};

// ---- dtype checks ---------------------------------------------------------------------

auto check_alpha(std::string_view op, const Scalar& alpha) {
  return [op, alpha](ScalarType t) {
    SY_CHECK(!(is_integral(t, true) && alpha.is_floating_point()), TypeError,
             "{}: alpha {} is a float, but the op computes in {}; for integer and bool tensors "
             "alpha must be an integer",
             op, alpha.str(), to_string(t));
    SY_CHECK(t != kBool || alpha.is_bool() || alpha.to<int64_t>() == 1, TypeError,
             "{}: alpha {} is not a bool, but the op computes in bool; use alpha=True", op,
             alpha.str());
    detail::check_scalar_fits(op, "alpha", alpha, t);
  };
}

// As in PyTorch, no bool tensor takes part in a subtraction.
auto check_sub(std::string_view op, const Scalar& alpha, const Tensor& a, const Tensor& b) {
  return [op, alpha, &a, &b](ScalarType t) {
    SY_CHECK(t != kBool && a.dtype() != kBool && b.dtype() != kBool, TypeError,
             "{}: subtracting with a bool tensor is not supported; to invert a mask use ~ or "
             "logical_not, else convert to an integer dtype first",
             op);
    check_alpha(op, alpha)(t);
  };
}

// Division that rounds in an integer dtype, and remainder, cannot divide by zero
// (when there is anything to divide: an empty operand makes an empty result).
void check_no_zero(std::string_view op, const Tensor& dividend, const Tensor& divisor,
                   ScalarType compute) {
  if (!is_integral(compute, true) || divisor.is_meta()) return;
  if (dividend.numel() == 0 || divisor.numel() == 0) return;
  const Tensor d = detail::as_dtype(divisor, compute);
  bool zero = false;
  SY_DISPATCH_ALL_TYPES(compute, op, [&] {
    const auto* p = static_cast<const scalar_t*>(d.raw_data());
    detail::for_each_offset(d.sizes(), d.strides(), [&](int64_t o) { zero = zero || p[o] == 0; });
  });
  SY_CHECK(!zero, ValueError, "{}: integer division by zero (the divisor of dtype {} holds a 0)",
           op, to_string(compute));
}

auto check_div(std::string_view op, Rounding mode, const Tensor& dividend, const Tensor& divisor) {
  return [op, mode, &dividend, &divisor](ScalarType t) {
    if (mode == Rounding::None) return;
    SY_CHECK(t != kBool, TypeError, "{}: rounded division is not supported for bool tensors", op);
    check_no_zero(op, dividend, divisor, t);
  };
}

auto check_remainder(std::string_view op, const Tensor& dividend, const Tensor& divisor) {
  return [op, &dividend, &divisor](ScalarType t) {
    SY_CHECK(t != kBool, TypeError, "{}: not supported for bool tensors", op);
    check_no_zero(op, dividend, divisor, t);
  };
}

auto check_pow(std::string_view op, const Tensor& exponent) {
  return [op, &exponent](ScalarType t) {
    SY_CHECK(t != kBool, TypeError, "{}: not supported for bool tensors", op);
    if (!is_integral(t, false) || exponent.is_meta()) return;
    const Tensor e = detail::as_dtype(exponent, t);
    bool negative = false;
    SY_DISPATCH_ALL_TYPES(t, op, [&] {
      const auto* p = static_cast<const scalar_t*>(e.raw_data());
      detail::for_each_offset(e.sizes(), e.strides(),
                              [&](int64_t o) { negative = negative || p[o] < scalar_t(0); });
    });
    SY_CHECK(!negative, ValueError,
             "{}: integers cannot be raised to negative integer powers; convert the base to a "
             "float dtype first",
             op);
  };
}

auto check_bitwise(std::string_view op) {
  return [op](ScalarType t) {
    SY_CHECK(is_integral(t, true), TypeError,
             "{}: bitwise ops need integer or bool tensors, got {}; for truth values of floats "
             "use logical_and / logical_or",
             op, to_string(t));
  };
}

// Scalar overloads compute in result_type(self, other): wrapping `other` in a
// zero-dim tensor of that dtype gives the Tensor overload the same promotion.
// An integer that does not fit wraps, as in PyTorch (uint8 tensor + 300 adds 44).
Tensor wrap(const Tensor& self, const Scalar& other) {
  return scalar_tensor(other, result_type(self, other));
}

// True division computes in a floating dtype, so the Scalar joins it there
// before any conversion: uint8 tensor / 256 divides by 256, not by 0.
Tensor wrap_floating(const Tensor& self, const Scalar& other) {
  return scalar_tensor(other, to_floating(result_type(self, other)));
}

// An integer power's exponent must fit the integer dtype and not be negative
// (as in PyTorch: 1 / x has no integer value).
Tensor wrap_exponent(std::string_view op, const Tensor& self, const Scalar& e) {
  const ScalarType t = result_type(self, e);
  if (is_integral(t, false)) {
    SY_CHECK(!(e.is_integral() && e.to<int64_t>() < 0), ValueError,
             "{}: integers cannot be raised to the negative power {}; convert the base to a "
             "float dtype first",
             op, e.str());
    detail::check_scalar_fits(op, "the exponent", e, t);
  }
  return scalar_tensor(e, t);
}

// ---- kernels --------------------------------------------------------------------------

Tensor add_k(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return binary_new<ResultKind::Same>("add", a, b, AddOp{alpha}, check_alpha("add", alpha));
}
const Tensor& add_i(const Tensor& self, const Tensor& b, const Scalar& alpha) {
  return binary_into<ResultKind::Same>("add_", self, self, b, AddOp{alpha},
                                       check_alpha("add_", alpha), true);
}
const Tensor& add_o(const Tensor& a, const Tensor& b, const Scalar& alpha, const Tensor& out) {
  return binary_into<ResultKind::Same>("add.out", out, a, b, AddOp{alpha},
                                       check_alpha("add.out", alpha), false);
}
Tensor sub_k(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return binary_new<ResultKind::Same>("sub", a, b, SubOp{alpha}, check_sub("sub", alpha, a, b));
}
const Tensor& sub_i(const Tensor& self, const Tensor& b, const Scalar& alpha) {
  return binary_into<ResultKind::Same>("sub_", self, self, b, SubOp{alpha},
                                       check_sub("sub_", alpha, self, b), true);
}
const Tensor& sub_o(const Tensor& a, const Tensor& b, const Scalar& alpha, const Tensor& out) {
  return binary_into<ResultKind::Same>("sub.out", out, a, b, SubOp{alpha},
                                       check_sub("sub.out", alpha, a, b), false);
}
Tensor mul_k(const Tensor& a, const Tensor& b) {
  return binary_new<ResultKind::Same>("mul", a, b, MulOp{}, no_check);
}
const Tensor& mul_i(const Tensor& self, const Tensor& b) {
  return binary_into<ResultKind::Same>("mul_", self, self, b, MulOp{}, no_check, true);
}
const Tensor& mul_o(const Tensor& a, const Tensor& b, const Tensor& out) {
  return binary_into<ResultKind::Same>("mul.out", out, a, b, MulOp{}, no_check, false);
}

Tensor div_mode_k(const Tensor& a, const Tensor& b, std::optional<std::string_view> mode) {
  const Rounding r = parse_rounding("div", mode);
  if (r == Rounding::None) {
    return binary_new<ResultKind::Floating>("div", a, b, DivOp{r}, no_check);
  }
  return binary_new<ResultKind::Same>("div", a, b, DivOp{r}, check_div("div", r, a, b));
}
Tensor div_k(const Tensor& a, const Tensor& b) { return div_mode_k(a, b, std::nullopt); }
const Tensor& div_into(std::string_view name, const Tensor& out, const Tensor& a, const Tensor& b,
                       std::optional<std::string_view> mode, bool inplace) {
  const Rounding r = parse_rounding(name, mode);
  if (r == Rounding::None) {
    return binary_into<ResultKind::Floating>(name, out, a, b, DivOp{r}, no_check, inplace);
  }
  return binary_into<ResultKind::Same>(name, out, a, b, DivOp{r}, check_div(name, r, a, b),
                                       inplace);
}
const Tensor& div_mode_i(const Tensor& self, const Tensor& b, std::optional<std::string_view> m) {
  return div_into("div_", self, self, b, m, true);
}
const Tensor& div_i(const Tensor& self, const Tensor& b) { return div_mode_i(self, b, {}); }
const Tensor& div_mode_o(const Tensor& a, const Tensor& b, std::optional<std::string_view> m,
                         const Tensor& out) {
  return div_into("div.out", out, a, b, m, false);
}
const Tensor& div_o(const Tensor& a, const Tensor& b, const Tensor& out) {
  return div_mode_o(a, b, {}, out);
}

Tensor remainder_k(const Tensor& a, const Tensor& b) {
  return binary_new<ResultKind::Same>("remainder", a, b, RemainderOp{},
                                      check_remainder("remainder", a, b));
}
const Tensor& remainder_i(const Tensor& self, const Tensor& b) {
  return binary_into<ResultKind::Same>("remainder_", self, self, b, RemainderOp{},
                                       check_remainder("remainder_", self, b), true);
}
const Tensor& remainder_o(const Tensor& a, const Tensor& b, const Tensor& out) {
  return binary_into<ResultKind::Same>("remainder.out", out, a, b, RemainderOp{},
                                       check_remainder("remainder.out", a, b), false);
}

Tensor pow_k(const Tensor& a, const Tensor& e) {
  return binary_new<ResultKind::Same>("pow", a, e, PowOp{}, check_pow("pow", e));
}
const Tensor& pow_i(const Tensor& self, const Tensor& e) {
  return binary_into<ResultKind::Same>("pow_", self, self, e, PowOp{}, check_pow("pow_", e), true);
}
const Tensor& pow_o(const Tensor& a, const Tensor& e, const Tensor& out) {
  return binary_into<ResultKind::Same>("pow.out", out, a, e, PowOp{}, check_pow("pow.out", e),
                                       false);
}

Tensor maximum_k(const Tensor& a, const Tensor& b) {
  return binary_new<ResultKind::Same>("maximum", a, b, MaximumOp{true}, no_check);
}
const Tensor& maximum_o(const Tensor& a, const Tensor& b, const Tensor& out) {
  return binary_into<ResultKind::Same>("maximum.out", out, a, b, MaximumOp{true}, no_check, false);
}
Tensor minimum_k(const Tensor& a, const Tensor& b) {
  return binary_new<ResultKind::Same>("minimum", a, b, MaximumOp{false}, no_check);
}
const Tensor& minimum_o(const Tensor& a, const Tensor& b, const Tensor& out) {
  return binary_into<ResultKind::Same>("minimum.out", out, a, b, MaximumOp{false}, no_check, false);
}

template <Cmp C>
Tensor compare_k(const Tensor& a, const Tensor& b) {
  static constexpr std::string_view kNames[] = {"eq", "ne", "lt", "le", "gt", "ge"};
  return binary_new<ResultKind::Bool>(kNames[static_cast<int>(C)], a, b, CompareOp<C>{}, no_check);
}
template <Cmp C>
Tensor compare_scalar(const Tensor& a, const Scalar& b) {
  return compare_k<C>(a, wrap(a, b));
}

template <Bits B>
Tensor bitwise_k(const Tensor& a, const Tensor& b) {
  static constexpr std::string_view kNames[] = {"bitwise_and", "bitwise_or", "bitwise_xor"};
  const std::string_view name = kNames[static_cast<int>(B)];
  return binary_new<ResultKind::Same>(name, a, b, BitwiseOp{B}, check_bitwise(name));
}
template <Bits B>
const Tensor& bitwise_i(const Tensor& self, const Tensor& b) {
  static constexpr std::string_view kNames[] = {"bitwise_and_", "bitwise_or_", "bitwise_xor_"};
  const std::string_view name = kNames[static_cast<int>(B)];
  return binary_into<ResultKind::Same>(name, self, self, b, BitwiseOp{B}, check_bitwise(name),
                                       true);
}

Tensor logical_and_k(const Tensor& a, const Tensor& b) {
  return binary_new<ResultKind::Bool>("logical_and", a, b, LogicalOp{true}, no_check);
}
Tensor logical_or_k(const Tensor& a, const Tensor& b) {
  return binary_new<ResultKind::Bool>("logical_or", a, b, LogicalOp{false}, no_check);
}

// ---- where ------------------------------------------------------------------------------

Tensor where_k(const Tensor& cond, const Tensor& a, const Tensor& b) {
  SY_CHECK(cond.dtype() == kBool, TypeError,
           "where: condition must be a bool tensor, got {}; compare first (e.g. x.gt(0))",
           to_string(cond.dtype()));
  const Device device = detail::result_device("where", {&cond, &a, &b});
  const DimVector shape = detail::broadcast_for(
      "where", cond.sizes(), detail::broadcast_for("where", a.sizes(), b.sizes()));
  const ScalarType dtype = result_type(a, b);
  Tensor out = make_tensor(shape, dtype, device);
  if (out.is_meta() || out.numel() == 0) return out;
  Tensor a_holder, b_holder;
  const Tensor& ca = detail::as_dtype(a, dtype, a_holder);
  const Tensor& cb = detail::as_dtype(b, dtype, b_holder);
  detail::ElementLoop<4> loop(
      shape,
      {static_cast<char*>(out.raw_data()), static_cast<char*>(cond.raw_data()),
       static_cast<char*>(ca.raw_data()), static_cast<char*>(cb.raw_data())},
      {DimVector(out.strides()), detail::broadcast_strides(cond, shape),
       detail::broadcast_strides(ca, shape), detail::broadcast_strides(cb, shape)},
      {element_size(dtype), 1, element_size(dtype), element_size(dtype)});
  SY_DISPATCH_ALL_TYPES_AND_HALF(dtype, "where", [&] {
    using T = scalar_t;
    loop.run([](std::array<char*, 4> p, std::array<int64_t, 4> s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        *reinterpret_cast<T*>(p[0] + i * s[0]) = *reinterpret_cast<const bool*>(p[1] + i * s[1])
                                                     ? *reinterpret_cast<const T*>(p[2] + i * s[2])
                                                     : *reinterpret_cast<const T*>(p[3] + i * s[3]);
      }
    });
  });
  return out;
}

// ---- clamp ------------------------------------------------------------------------------

struct ClampOp {
  std::optional<Scalar> lo, hi;
  template <typename T>
  auto bind() const {
    const bool has_lo = lo.has_value(), has_hi = hi.has_value();
    const T l = has_lo ? lo->to<T>() : T(0);
    const T h = has_hi ? hi->to<T>() : T(0);
    // The second operand is unused (a zero-dim dummy), so the loop stays binary.
    return [=](T v, T) -> T {
      if (has_lo && v < l) v = l;
      if (has_hi && v > h) v = h;
      return v;
    };
  }
};

ScalarType clamp_type(const Tensor& self, const std::optional<Scalar>& lo,
                      const std::optional<Scalar>& hi) {
  SY_CHECK(lo || hi, ValueError, "clamp: at least one of min and max must be given");
  ResultTypeState s;
  s.add(self);
  if (lo) s.add(*lo);
  if (hi) s.add(*hi);
  const ScalarType t = s.result();
  SY_CHECK(t != kBool, TypeError,
           "clamp: not supported for bool tensors with bool bounds; convert to an integer dtype "
           "first");
  if (lo) detail::check_scalar_fits("clamp", "min", *lo, t);
  if (hi) detail::check_scalar_fits("clamp", "max", *hi, t);
  return t;
}

Tensor clamp_k(const Tensor& self, const std::optional<Scalar>& lo,
               const std::optional<Scalar>& hi) {
  const ScalarType t = clamp_type(self, lo, hi);
  return binary_new<ResultKind::Same>("clamp", self, scalar_tensor(0, t), ClampOp{lo, hi},
                                      no_check);
}
const Tensor& clamp_i(const Tensor& self, const std::optional<Scalar>& lo,
                      const std::optional<Scalar>& hi) {
  const ScalarType t = clamp_type(self, lo, hi);
  return binary_into<ResultKind::Same>("clamp_", self, self, scalar_tensor(0, t), ClampOp{lo, hi},
                                       no_check, true);
}
const Tensor& clamp_o(const Tensor& self, const std::optional<Scalar>& lo,
                      const std::optional<Scalar>& hi, const Tensor& out) {
  const ScalarType t = clamp_type(self, lo, hi);
  return binary_into<ResultKind::Same>("clamp.out", out, self, scalar_tensor(0, t), ClampOp{lo, hi},
                                       no_check, false);
}

// ---- Scalar overloads: composites over the Tensor overloads ----------------------------

Tensor add_scalar(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  return add(a, wrap(a, b), alpha);
}
Tensor add_scalar_(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  return add_(a, wrap(a, b), alpha);
}
// As in PyTorch, a bool Scalar takes no part in a subtraction either.
void check_sub_scalar(std::string_view op, const Scalar& b) {
  SY_CHECK(!b.is_bool(), TypeError,
           "{}: subtracting a bool is not supported; to invert a mask use ~ or logical_not, "
           "else subtract an int",
           op);
}
Tensor sub_scalar(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  check_sub_scalar("sub", b);
  return sub(a, wrap(a, b), alpha);
}
Tensor sub_scalar_(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  check_sub_scalar("sub_", b);
  return sub_(a, wrap(a, b), alpha);
}
Tensor mul_scalar(const Tensor& a, const Scalar& b) { return mul(a, wrap(a, b)); }
Tensor mul_scalar_(const Tensor& a, const Scalar& b) { return mul_(a, wrap(a, b)); }
Tensor div_scalar(const Tensor& a, const Scalar& b) { return div(a, wrap_floating(a, b)); }
Tensor div_scalar_(const Tensor& a, const Scalar& b) { return div_(a, wrap_floating(a, b)); }
Tensor div_scalar_mode(const Tensor& a, const Scalar& b, std::optional<std::string_view> mode) {
  return div(a, mode ? wrap(a, b) : wrap_floating(a, b), mode);
}
Tensor div_scalar_mode_(const Tensor& a, const Scalar& b, std::optional<std::string_view> mode) {
  return div_(a, mode ? wrap(a, b) : wrap_floating(a, b), mode);
}
Tensor remainder_scalar(const Tensor& a, const Scalar& b) { return remainder(a, wrap(a, b)); }
Tensor remainder_scalar_(const Tensor& a, const Scalar& b) { return remainder_(a, wrap(a, b)); }
Tensor floor_divide_composite(const Tensor& a, const Tensor& b) {
  return div(a, b, std::string_view("floor"));
}
Tensor floor_divide_scalar(const Tensor& a, const Scalar& b) {
  return div(a, wrap(a, b), std::string_view("floor"));
}
Tensor pow_tensor_scalar(const Tensor& a, const Scalar& e) {
  return pow(a, wrap_exponent("pow", a, e));
}
Tensor pow_scalar_(const Tensor& a, const Scalar& e) {
  return pow_(a, wrap_exponent("pow_", a, e));
}
Tensor pow_scalar_tensor(const Scalar& s, const Tensor& e) {
  const ScalarType t = result_type(e, s);
  if (is_integral(t, false)) detail::check_scalar_fits("pow", "the base", s, t);
  return pow(scalar_tensor(s, t), e);
}
// The Scalar overloads of the bitwise ops: the Tensor overload on the wrapped Scalar.
Tensor bitwise_and_scalar(const Tensor& a, const Scalar& b) { return bitwise_and(a, wrap(a, b)); }
Tensor bitwise_or_scalar(const Tensor& a, const Scalar& b) { return bitwise_or(a, wrap(a, b)); }
Tensor bitwise_xor_scalar(const Tensor& a, const Scalar& b) { return bitwise_xor(a, wrap(a, b)); }
Tensor bitwise_and_scalar_(const Tensor& a, const Scalar& b) { return bitwise_and_(a, wrap(a, b)); }
Tensor bitwise_or_scalar_(const Tensor& a, const Scalar& b) { return bitwise_or_(a, wrap(a, b)); }
Tensor bitwise_xor_scalar_(const Tensor& a, const Scalar& b) { return bitwise_xor_(a, wrap(a, b)); }

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/binary_ops_registrations.h"
