// Elementwise unary ops. Each has a functional form, an in-place form (name_)
// and an out= form (name.out), one kernel each registered at CPU and Meta.
// The ops are declared in unary_ops.yaml (docs/op-table.md); their registrations,
// generated from it, are included at the end of this file.
#include <cmath>
#include <numbers>
#include <type_traits>

#include <fmt/format.h>

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::ResultKind;

// How each op maps a value of its compute type T.
enum class Fn {
  Neg,
  Abs,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Sin,
  Cos,
  Tanh,
  Sigmoid,
  Relu,
  Gelu,
  GeluTanh,
  Not,
  BitNot
};

struct UnarySpec {
  const char* name;
  Fn fn;
  ResultKind kind;
  bool bool_ok;  // whether bool inputs are accepted
};

constexpr UnarySpec kUnary[] = {
    {"neg", Fn::Neg, ResultKind::Same, false},
    {"abs", Fn::Abs, ResultKind::Same, false},
    {"exp", Fn::Exp, ResultKind::Floating, true},
    {"log", Fn::Log, ResultKind::Floating, true},
    {"sqrt", Fn::Sqrt, ResultKind::Floating, true},
    {"rsqrt", Fn::Rsqrt, ResultKind::Floating, true},
    {"sin", Fn::Sin, ResultKind::Floating, true},
    {"cos", Fn::Cos, ResultKind::Floating, true},
    {"tanh", Fn::Tanh, ResultKind::Floating, true},
    {"sigmoid", Fn::Sigmoid, ResultKind::Floating, true},
    {"relu", Fn::Relu, ResultKind::Same, false},
};

template <Fn F, typename T>
T apply(T x) {
  if constexpr (F == Fn::Neg) {
    return static_cast<T>(-x);
  } else if constexpr (F == Fn::Abs) {
    if constexpr (std::is_unsigned_v<T> || std::is_same_v<T, bool>) {
      return x;
    } else {
      return x < T(0) ? static_cast<T>(-x) : x;
    }
  } else if constexpr (F == Fn::Relu) {
    return x < T(0) ? T(0) : x;  // keeps NaN and -0.0, as PyTorch does
  } else if constexpr (F == Fn::Not) {
    return x == T(0);
  } else if constexpr (F == Fn::BitNot) {
    if constexpr (std::is_same_v<T, bool>) {
      return !x;
    } else if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(~x);
    } else {
      return x;  // never runs: bitwise_not admits integer and bool dtypes only
    }
  } else if constexpr (!std::is_floating_point_v<T>) {
    return x;  // never runs: float functions compute in float types
  } else if constexpr (F == Fn::Exp) {
    return std::exp(x);
  } else if constexpr (F == Fn::Log) {
    return std::log(x);
  } else if constexpr (F == Fn::Sqrt) {
    return std::sqrt(x);
  } else if constexpr (F == Fn::Rsqrt) {
    return T(1) / std::sqrt(x);
  } else if constexpr (F == Fn::Sin) {
    return std::sin(x);
  } else if constexpr (F == Fn::Cos) {
    return std::cos(x);
  } else if constexpr (F == Fn::Tanh) {
    return std::tanh(x);
  } else if constexpr (F == Fn::Sigmoid) {  // as ops/vec computes it: exp never overflows
    const T e = std::exp(x < T(0) ? x : -x);
    return (x < T(0) ? e : T(1)) / (T(1) + e);
  } else if constexpr (F == Fn::Gelu) {
    return T(0.5) * x * (T(1) + std::erf(x * T(std::numbers::sqrt2 / 2)));
  } else {                                                          // GeluTanh
    const T k = T(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);  // sqrt(2 / pi)
    return T(0.5) * x * (T(1) + std::tanh(k * (x + T(0.044715) * x * x * x)));
  }
}

// The vectorised kernel of F for T (ops/vec), or nullptr (of type nullptr_t)
// where there is none. Callers test the type: GCC does not fold the address of
// an exported function compared with null under the sanitizers.
template <Fn F, typename T>
constexpr auto vec_kernel() {
  using K = detail::VecMap<T>;
  if constexpr (!std::is_same_v<T, float> && !std::is_same_v<T, double>) {
    return nullptr;
  } else if constexpr (F == Fn::Exp) {
    return static_cast<K>(&vec::exp);
  } else if constexpr (F == Fn::Log) {
    return static_cast<K>(&vec::log);
  } else if constexpr (F == Fn::Tanh) {
    return static_cast<K>(&vec::tanh);
  } else if constexpr (F == Fn::Sigmoid) {
    return static_cast<K>(&vec::sigmoid);
  } else if constexpr (F == Fn::Gelu) {
    return static_cast<K>(&vec::gelu);
  } else if constexpr (F == Fn::GeluTanh) {
    return static_cast<K>(&vec::gelu_tanh);
  } else {
    return nullptr;
  }
}

template <Fn F>
void run_unary(const Tensor& out, const Tensor& self, ScalarType compute, ScalarType result) {
  if (out.is_meta() || out.numel() == 0) return;
  if (result != kBool && out.dtype() != compute) {
    // A float16/bfloat16 result: computed in float32, rounded once.
    Tensor wide = make_tensor(out.sizes(), compute, out.device());
    run_unary<F>(wide, self, compute, result);
    copy_(out, wide);
    return;
  }
  Tensor holder;
  const Tensor& in = detail::as_dtype(self, compute, holder);
  SY_DISPATCH_ALL_TYPES(compute, "unary", [&] {
    using T = scalar_t;
    if (result == kBool) {
      detail::unary_loop<bool, T>(out, in, [](T x) { return apply<F>(x); });
    } else if constexpr (!std::is_null_pointer_v<decltype(vec_kernel<F, T>())>) {
      detail::unary_loop_vec<T>(out, in, vec_kernel<F, T>());
    } else {
      detail::unary_loop<T, T>(out, in, [](T x) { return apply<F>(x); });
    }
  });
}

detail::ElementwiseTypes unary_types(std::string_view name, const Tensor& self, ResultKind kind,
                                     bool bool_ok) {
  SY_CHECK(bool_ok || self.dtype() != kBool, TypeError,
           "{}: not supported for bool tensors; convert to an integer or float dtype first", name);
  return detail::types_for(kind, self.dtype());
}

template <Fn F>
Tensor unary_new(std::string_view name, const Tensor& self, ResultKind kind, bool bool_ok) {
  const auto ty = unary_types(name, self, kind, bool_ok);
  Tensor out = make_tensor(self.sizes(), ty.result, self.device());
  run_unary<F>(out, self, ty.compute, ty.result);
  return out;
}

template <Fn F>
const Tensor& unary_into(std::string_view name, const Tensor& out, const Tensor& self,
                         ResultKind kind, bool bool_ok, bool inplace) {
  const auto ty = unary_types(name, self, kind, bool_ok);
  detail::result_device(name, {&out, &self});
  detail::check_output(name, out, self.sizes(), ty.result, inplace);
  if (out.dtype() == ty.result && (out.is_same(self) || !detail::may_overlap(out, self))) {
    run_unary<F>(out, self, ty.compute, ty.result);
    return out;
  }
  Tensor tmp = make_tensor(self.sizes(), ty.result, out.device());
  run_unary<F>(tmp, self, ty.compute, ty.result);
  detail::copy_values(out, tmp);
  return out;
}

// The spec of the unary op computing F.
constexpr UnarySpec spec_of(Fn f) {
  for (const UnarySpec& u : kUnary) {
    if (u.fn == f) return u;
  }
  return kUnary[0];  // never reached: every Fn of kUnary is listed there
}

// The three kernels of the unary op computing F.
template <Fn F>
struct UnaryKernels {
  static constexpr UnarySpec spec = spec_of(F);
  static Tensor functional(const Tensor& self) {
    return unary_new<F>(spec.name, self, spec.kind, spec.bool_ok);
  }
  static const Tensor& inplace(const Tensor& self) {
    return unary_into<F>(spec.name, self, self, spec.kind, spec.bool_ok, true);
  }
  static const Tensor& out(const Tensor& self, const Tensor& out) {
    return unary_into<F>(spec.name, out, self, spec.kind, spec.bool_ok, false);
  }
};

// As in PyTorch, gelu is defined for floating tensors only.
Fn gelu_fn(std::string_view approximate, const Tensor& self) {
  SY_CHECK(approximate == "none" || approximate == "tanh", ValueError,
           "gelu: approximate must be 'none' or 'tanh', got '{}'", approximate);
  SY_CHECK(is_floating_point(self.dtype()), TypeError,
           "gelu: needs a floating tensor, got {}; convert it first (e.g. .float())",
           to_string(self.dtype()));
  return approximate == "none" ? Fn::Gelu : Fn::GeluTanh;
}

Tensor gelu_k(const Tensor& self, std::string_view approximate) {
  return gelu_fn(approximate, self) == Fn::Gelu
             ? unary_new<Fn::Gelu>("gelu", self, ResultKind::Floating, true)
             : unary_new<Fn::GeluTanh>("gelu", self, ResultKind::Floating, true);
}
const Tensor& gelu_into(std::string_view name, const Tensor& out, const Tensor& self,
                        std::string_view approximate, bool inplace) {
  return gelu_fn(approximate, self) == Fn::Gelu
             ? unary_into<Fn::Gelu>(name, out, self, ResultKind::Floating, true, inplace)
             : unary_into<Fn::GeluTanh>(name, out, self, ResultKind::Floating, true, inplace);
}
const Tensor& gelu_i(const Tensor& self, std::string_view approximate) {
  return gelu_into("gelu_", self, self, approximate, true);
}
const Tensor& gelu_o(const Tensor& self, std::string_view approximate, const Tensor& out) {
  return gelu_into("gelu.out", out, self, approximate, false);
}

Tensor logical_not_k(const Tensor& self) {
  return unary_new<Fn::Not>("logical_not", self, ResultKind::Bool, true);
}

void check_bitwise_not(std::string_view op, const Tensor& self) {
  SY_CHECK(is_integral(self.dtype(), true), TypeError,
           "{}: bitwise_not needs an integer or bool tensor, got {}; for the truth value of "
           "floats use logical_not",
           op, to_string(self.dtype()));
}
Tensor bitwise_not_k(const Tensor& self) {
  check_bitwise_not("bitwise_not", self);
  return unary_new<Fn::BitNot>("bitwise_not", self, ResultKind::Same, true);
}
const Tensor& bitwise_not_i(const Tensor& self) {
  check_bitwise_not("bitwise_not_", self);
  return unary_into<Fn::BitNot>("bitwise_not_", self, self, ResultKind::Same, true, true);
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/unary_ops_registrations.h"
