// Elementwise unary ops. Each has a functional form, an in-place form (name_)
// and an out= form (name.out), one kernel each registered at CPU and Meta.
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::ResultKind;

// How each op maps a value of its compute type T.
enum class Fn { Neg, Abs, Exp, Log, Sqrt, Rsqrt, Sin, Cos, Tanh, Sigmoid, Relu, Gelu, GeluTanh, Not, BitNot };

struct UnarySpec {
  const char* name;
  Fn fn;
  ResultKind kind;
  bool bool_ok;  // whether bool inputs are accepted
};

constexpr UnarySpec kUnary[] = {
    {"neg", Fn::Neg, ResultKind::Same, false},
    {"abs", Fn::Abs, ResultKind::Same, true},
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
  } else if constexpr (F == Fn::Sigmoid) {
    return T(1) / (T(1) + std::exp(-x));
  } else if constexpr (F == Fn::Gelu) {
    return T(0.5) * x * (T(1) + std::erf(x * T(std::numbers::sqrt2 / 2)));
  } else {  // GeluTanh
    const T k = T(std::numbers::sqrt2 * std::numbers::inv_sqrtpi);  // sqrt(2 / pi)
    return T(0.5) * x * (T(1) + std::tanh(k * (x + T(0.044715) * x * x * x)));
  }
}

template <Fn F>
void run_unary(const Tensor& out, const Tensor& self, ScalarType compute, ScalarType result) {
  if (out.is_meta() || out.numel() == 0) return;
  const Tensor in = detail::as_dtype(self, compute);
  SY_DISPATCH_ALL_TYPES(compute, "unary", [&] {
    using T = scalar_t;
    if (result == kBool) {
      detail::unary_loop<bool, T>(out, in, [](T x) { return apply<F>(x); });
    } else {
      detail::unary_loop<T, T>(out, in, [](T x) { return apply<F>(x); });
    }
  });
}

detail::ElementwiseTypes unary_types(std::string_view name, const Tensor& self, ResultKind kind,
                                     bool bool_ok) {
  SY_CHECK(bool_ok || self.dtype() != kBool, TypeError,
           "{}: not supported for bool tensors; convert to an integer or float dtype first",
           name);
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

// The three kernels of unary op number I of kUnary.
template <size_t I>
struct UnaryKernels {
  static constexpr UnarySpec spec = kUnary[I];
  static Tensor functional(const Tensor& self) {
    return unary_new<spec.fn>(spec.name, self, spec.kind, spec.bool_ok);
  }
  static const Tensor& inplace(const Tensor& self) {
    return unary_into<spec.fn>(spec.name, self, self, spec.kind, spec.bool_ok, true);
  }
  static const Tensor& out(const Tensor& self, const Tensor& out) {
    return unary_into<spec.fn>(spec.name, out, self, spec.kind, spec.bool_ok, false);
  }
};

template <size_t... I>
void register_unary(Library& m, std::index_sequence<I...>) {
  ((m.impl(kUnary[I].name, SY_FN(UnaryKernels<I>::functional)),
    m.impl(fmt::format("{}_", kUnary[I].name), SY_FN(UnaryKernels<I>::inplace)),
    m.impl(fmt::format("{}.out", kUnary[I].name), SY_FN(UnaryKernels<I>::out))),
   ...);
}

Fn gelu_fn(std::string_view approximate) {
  SY_CHECK(approximate == "none" || approximate == "tanh", ValueError,
           "gelu: approximate must be 'none' or 'tanh', got '{}'", approximate);
  return approximate == "none" ? Fn::Gelu : Fn::GeluTanh;
}

Tensor gelu_k(const Tensor& self, std::string_view approximate) {
  return gelu_fn(approximate) == Fn::Gelu
             ? unary_new<Fn::Gelu>("gelu", self, ResultKind::Floating, true)
             : unary_new<Fn::GeluTanh>("gelu", self, ResultKind::Floating, true);
}
const Tensor& gelu_into(std::string_view name, const Tensor& out, const Tensor& self,
                        std::string_view approximate, bool inplace) {
  return gelu_fn(approximate) == Fn::Gelu
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

void register_kernels(Library& m) {
  register_unary(m, std::make_index_sequence<std::size(kUnary)>{});
  m.impl("gelu", SY_FN(gelu_k));
  m.impl("gelu_", SY_FN(gelu_i));
  m.impl("gelu.out", SY_FN(gelu_o));
  m.impl("logical_not", SY_FN(logical_not_k));
  m.impl("bitwise_not", SY_FN(bitwise_not_k));
  m.impl("bitwise_not_", SY_FN(bitwise_not_i));
}

}  // namespace

SY_LIBRARY_FRAGMENT(sy, m) {
  for (const UnarySpec& u : kUnary) {
    m.def(fmt::format("{}(Tensor self) -> Tensor", u.name));
    m.def(fmt::format("{}_(Tensor(a!) self) -> Tensor(a!)", u.name));
    m.def(fmt::format("{}.out(Tensor self, *, Tensor(a!) out) -> Tensor(a!)", u.name));
  }
  m.def("gelu(Tensor self, *, str approximate='none') -> Tensor");
  m.def("gelu_(Tensor(a!) self, *, str approximate='none') -> Tensor(a!)");
  m.def("gelu.out(Tensor self, *, str approximate='none', Tensor(a!) out) -> Tensor(a!)");
  m.def("logical_not(Tensor self) -> Tensor");
  m.def("bitwise_not(Tensor self) -> Tensor");
  m.def("bitwise_not_(Tensor(a!) self) -> Tensor(a!)");
}

SY_LIBRARY_IMPL(sy, CPU, m) { register_kernels(m); }
SY_LIBRARY_IMPL(sy, Meta, m) { register_kernels(m); }

// ---- free functions and methods ------------------------------------------------------

namespace {
template <size_t I>
Tensor call_unary(const Tensor& self) {
  static const auto op =
      detail::typed_op<Tensor(const Tensor&)>(fmt::format("sy::{}", kUnary[I].name));
  return op.call(self);
}
template <size_t I>
const Tensor& call_unary_(const Tensor& self) {
  static const auto op =
      detail::typed_op<Tensor(const Tensor&)>(fmt::format("sy::{}_", kUnary[I].name));
  op.call(self);
  return self;
}
}  // namespace

Tensor neg(const Tensor& s) { return call_unary<0>(s); }
Tensor abs(const Tensor& s) { return call_unary<1>(s); }
Tensor exp(const Tensor& s) { return call_unary<2>(s); }
Tensor log(const Tensor& s) { return call_unary<3>(s); }
Tensor sqrt(const Tensor& s) { return call_unary<4>(s); }
Tensor rsqrt(const Tensor& s) { return call_unary<5>(s); }
Tensor sin(const Tensor& s) { return call_unary<6>(s); }
Tensor cos(const Tensor& s) { return call_unary<7>(s); }
Tensor tanh(const Tensor& s) { return call_unary<8>(s); }
Tensor sigmoid(const Tensor& s) { return call_unary<9>(s); }
Tensor relu(const Tensor& s) { return call_unary<10>(s); }
Tensor gelu(const Tensor& s, std::string_view approximate) {
  static const auto op = detail::typed_op<Tensor(const Tensor&, std::string_view)>("sy::gelu");
  return op.call(s, approximate);
}
Tensor logical_not(const Tensor& s) {
  static const auto op = detail::typed_op<Tensor(const Tensor&)>("sy::logical_not");
  return op.call(s);
}

Tensor Tensor::neg() const { return sy::neg(*this); }
const Tensor& Tensor::neg_() const { return call_unary_<0>(*this); }
Tensor Tensor::abs() const { return sy::abs(*this); }
const Tensor& Tensor::abs_() const { return call_unary_<1>(*this); }
Tensor Tensor::exp() const { return sy::exp(*this); }
const Tensor& Tensor::exp_() const { return call_unary_<2>(*this); }
Tensor Tensor::log() const { return sy::log(*this); }
const Tensor& Tensor::log_() const { return call_unary_<3>(*this); }
Tensor Tensor::sqrt() const { return sy::sqrt(*this); }
const Tensor& Tensor::sqrt_() const { return call_unary_<4>(*this); }
Tensor Tensor::rsqrt() const { return sy::rsqrt(*this); }
const Tensor& Tensor::rsqrt_() const { return call_unary_<5>(*this); }
Tensor Tensor::sin() const { return sy::sin(*this); }
const Tensor& Tensor::sin_() const { return call_unary_<6>(*this); }
Tensor Tensor::cos() const { return sy::cos(*this); }
const Tensor& Tensor::cos_() const { return call_unary_<7>(*this); }
Tensor Tensor::tanh() const { return sy::tanh(*this); }
const Tensor& Tensor::tanh_() const { return call_unary_<8>(*this); }
Tensor Tensor::sigmoid() const { return sy::sigmoid(*this); }
const Tensor& Tensor::sigmoid_() const { return call_unary_<9>(*this); }
Tensor Tensor::relu() const { return sy::relu(*this); }
const Tensor& Tensor::relu_() const { return call_unary_<10>(*this); }
Tensor Tensor::gelu(std::string_view approximate) const { return sy::gelu(*this, approximate); }
Tensor Tensor::logical_not() const { return sy::logical_not(*this); }
Tensor operator-(const Tensor& a) { return neg(a); }

}  // namespace sy
