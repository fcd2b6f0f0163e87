// Internal to the ops layer: the engine behind the elementwise ops.
//
// An op is a functor with `template <typename T> auto bind() const` returning a
// callable over values of the compute type T. The engine checks the operands,
// works out the broadcast shape and the dtypes, converts inputs whose dtype is
// not the compute dtype, makes or checks the output, and (unless the output is
// on the meta device) runs the callable over every element through
// ElementLoop. The same function serves as the CPU and the Meta kernel: on meta
// tensors everything but the loop runs.
#pragma once

#include <string_view>
#include <type_traits>

#include "switchyard/ops/direct.h"
#include "switchyard/ops/loops.h"
#include "switchyard/ops/ops.h"
#include "switchyard/ops/overlap.h"
#include "switchyard/ops/type_promotion.h"
#include "switchyard/ops/vec/vec_loops.h"

namespace sy::detail {

// What an op's result dtype is, given its compute dtype T.
enum class ResultKind {
  Same,      // T (and T is result_type of the inputs)
  Floating,  // T = to_floating(result_type): integer inputs compute in float32
  Bool,      // bool, computed in T = result_type
};

struct ElementwiseTypes {
  ScalarType compute;
  ScalarType result;
};

// float16 and bfloat16 compute in float32 (compute_type) and keep their dtype
// as the result's: the loops run in float32 and the result is rounded once.
inline ElementwiseTypes types_for(ResultKind kind, ScalarType promoted) {
  switch (kind) {
    case ResultKind::Same: return {compute_type(promoted), promoted};
    case ResultKind::Floating: return {compute_type(to_floating(promoted)), to_floating(promoted)};
    case ResultKind::Bool: return {compute_type(promoted), kBool};
  }
  return {promoted, promoted};
}

// The device the result lives on: the first operand's that has dimensions, as
// zero-dim CPU tensors (wrapped Scalars) combine with any device.
inline Device result_device(std::string_view op, std::initializer_list<const Tensor*> ts) {
  const Tensor* lead = nullptr;
  for (const Tensor* t : ts) {
    if (lead == nullptr || (lead->dim() == 0 && lead->device().is_cpu())) lead = t;
  }
  for (const Tensor* t : ts) {
    SY_CHECK(t->device() == lead->device() || (t->dim() == 0 && t->device().is_cpu()), ValueError,
             "{}: expected all tensors on one device, got {} and {}", op, lead->device().str(),
             t->device().str());
  }
  return lead->device();
}

// The broadcast shape of `a` and `b`, with the op in the error.
inline DimVector broadcast_for(std::string_view op, IntArrayRef a, IntArrayRef b) {
  const size_t n = std::max(a.size(), b.size());
  DimVector out(n, 1);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    SY_CHECK(da == db || da == 1 || db == 1, ValueError,
             "{}: shapes {} and {} do not broadcast: dimension {} (from the right) is {} and {}; "
             "sizes must match or one of them be 1",
             op, to_string(a), to_string(b), n - i, da, db);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// `t` in dtype `dtype` (t itself when it already is), without calling an op:
// See Note [Backend kernels call no ops].
inline Tensor as_dtype(const Tensor& t, ScalarType dtype) { return converted(t, dtype); }
// The same without copying t's handle when it is in `dtype` already (a copy of
// a tensor Python holds is a locked instruction): t itself, or the converted
// tensor, kept in `holder`.
inline const Tensor& as_dtype(const Tensor& t, ScalarType dtype, Tensor& holder) {
  if (t.dtype() == dtype) return t;
  holder = converted(t, dtype);
  return holder;
}

// A zero-dim CPU tensor holding `s` as `dtype`: how Scalar overloads reach the
// Tensor kernels (with the dtype promotion already decided, see type_promotion.h).
inline Tensor scalar_tensor(const Scalar& s, ScalarType dtype) {
  Tensor t = make_tensor({}, dtype, kCPU);
  SY_DISPATCH_ALL_TYPES_AND_HALF(dtype, "scalar_tensor",
                                 [&] { *static_cast<scalar_t*>(t.raw_data()) = s.to<scalar_t>(); });
  return t;
}

// Checks that `out` (an out= argument or self of an in-place op) can take a
// result of `shape` and `result` dtype, made on `device` when that is given.
inline void check_output(std::string_view op, const Tensor& out, IntArrayRef shape,
                         ScalarType result, bool inplace,
                         std::optional<Device> device = std::nullopt) {
  SY_CHECK(!device || out.device() == *device, ValueError,
           "{}: out is on {}, but the result is on {}; pass an out on {}", op, out.device().str(),
           device ? device->str() : "", device ? device->str() : "");
  if (inplace) {
    SY_CHECK(out.sizes() == shape, ValueError,
             "{}: the result has shape {}, but self has shape {}; an in-place op cannot change "
             "self's shape (the other operands must broadcast to self)",
             op, to_string(shape), to_string(out.sizes()));
    SY_CHECK(can_cast(result, out.dtype()), TypeError,
             "{}: the result is {}, which cannot be written into self of dtype {} without "
             "losing its kind (float into int, or int into bool)",
             op, to_string(result), to_string(out.dtype()));
  } else {
    SY_CHECK(out.sizes() == shape, ValueError,
             "{}: the result has shape {}, but out has shape {}; pass an out of the result's "
             "shape",
             op, to_string(shape), to_string(out.sizes()));
    SY_CHECK(can_cast(result, out.dtype()), TypeError,
             "{}: the result is {}, which cannot be written into out of dtype {} without losing "
             "its kind (float into int, or int into bool); use an out of dtype {}",
             op, to_string(result), to_string(out.dtype()), to_string(result));
  }
  check_writable(op, out);
}

// ---- loops -------------------------------------------------------------------------

// out[i] = f(a[i], b[i]) over out's shape; a and b have dtype T (broadcast),
// out has dtype R.
template <typename R, typename T, typename F>
void binary_loop(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  const IntArrayRef sizes = out.sizes();
  ElementLoop<3> loop(
      sizes,
      {static_cast<char*>(out.raw_data()), static_cast<char*>(a.raw_data()),
       static_cast<char*>(b.raw_data())},
      {DimVector(out.strides()), broadcast_strides(a, sizes), broadcast_strides(b, sizes)},
      {int64_t{sizeof(R)}, int64_t{sizeof(T)}, int64_t{sizeof(T)}});
  loop.run([f](std::array<char*, 3> p, std::array<int64_t, 3> s, int64_t n) {
    R* o = reinterpret_cast<R*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    const T* y = reinterpret_cast<const T*>(p[2]);
    if (s[0] == sizeof(R) && s[1] == sizeof(T) && s[2] == sizeof(T)) {
      // Outputs alias inputs only element for element (in-place ops), so
      // iterations are independent: ivdep lets GCC vectorise without checks.
      _Pragma("GCC ivdep") for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(x[i], y[i]));
    } else if (s[0] == sizeof(R) && s[1] == 0 && s[2] == sizeof(T)) {
      const T xv = *x;
      _Pragma("GCC ivdep") for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(xv, y[i]));
    } else if (s[0] == sizeof(R) && s[1] == sizeof(T) && s[2] == 0) {
      const T yv = *y;
      _Pragma("GCC ivdep") for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(x[i], yv));
    } else {
      char* po = p[0];
      const char* px = p[1];
      const char* py = p[2];
      for (int64_t i = 0; i < n; ++i, po += s[0], px += s[1], py += s[2]) {
        *reinterpret_cast<R*>(po) =
            static_cast<R>(f(*reinterpret_cast<const T*>(px), *reinterpret_cast<const T*>(py)));
      }
    }
  });
}

// out[i] = f(a[i]); a has dtype T, out dtype R, same shape.
template <typename R, typename T, typename F>
void unary_loop(const Tensor& out, const Tensor& a, F f) {
  const IntArrayRef sizes = out.sizes();
  ElementLoop<2> loop(sizes, {static_cast<char*>(out.raw_data()), static_cast<char*>(a.raw_data())},
                      {DimVector(out.strides()), broadcast_strides(a, sizes)},
                      {int64_t{sizeof(R)}, int64_t{sizeof(T)}});
  loop.run([f](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
    R* o = reinterpret_cast<R*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    if (s[0] == sizeof(R) && s[1] == sizeof(T)) {
      _Pragma("GCC ivdep") for (int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(x[i]));
    } else {
      char* po = p[0];
      const char* px = p[1];
      for (int64_t i = 0; i < n; ++i, po += s[0], px += s[1]) {
        *reinterpret_cast<R*>(po) = static_cast<R>(f(*reinterpret_cast<const T*>(px)));
      }
    }
  });
}

// ---- binary ops ----------------------------------------------------------------------

// Runs `op` (a functor with bind<T>()) into `out`, whose dtype is the result's.
template <ResultKind K, typename Op>
void run_binary(const Tensor& out, const Tensor& a, const Tensor& b, ScalarType compute,
                const Op& op) {
  if (out.is_meta() || out.numel() == 0) return;
  if (K != ResultKind::Bool && out.dtype() != compute) {
    // A float16/bfloat16 result: computed in float32, rounded once.
    Tensor wide = make_tensor(out.sizes(), compute, out.device());
    run_binary<K>(wide, a, b, compute, op);
    copy_(out, wide);
    return;
  }
  Tensor a_holder, b_holder;
  const Tensor& ca = as_dtype(a, compute, a_holder);
  const Tensor& cb = as_dtype(b, compute, b_holder);
  // Same shapes, all contiguous (the common case, and every small tensor's
  // cost): one flat loop, no geometry to work out.
  const bool flat = ca.is_contiguous() && cb.is_contiguous() && out.is_contiguous() &&
                    ca.sizes() == out.sizes() && cb.sizes() == out.sizes();
  SY_DISPATCH_ALL_TYPES(compute, "elementwise", [&] {
    using T = scalar_t;
    using R = std::conditional_t<K == ResultKind::Bool, bool, T>;
    // Ops with a vectorised kernel for T (Op::vec<T>(), ops/vec; nullptr_t
    // where there is none: a type test, as GCC does not fold a function's
    // address compared with null under the sanitizers) run it.
    if constexpr (requires { Op::template vec<T>(); }) {
      if constexpr (std::is_same_v<R, T> &&
                    !std::is_null_pointer_v<decltype(Op::template vec<T>())>) {
        binary_loop_vec<T>(out, ca, cb, Op::template vec<T>());
        return;
      }
    }
    if (flat) {
      auto f = op.template bind<T>();
      R* o = static_cast<R*>(out.raw_data());
      const T* x = static_cast<const T*>(ca.raw_data());
      const T* y = static_cast<const T*>(cb.raw_data());
      auto body = [&](int64_t lo, int64_t hi) {
        _Pragma("GCC ivdep") for (int64_t i = lo; i < hi; ++i) o[i] = static_cast<R>(f(x[i], y[i]));
      };
      if (out.numel() < kGrain) {
        body(0, out.numel());
      } else {
        parallel_for(0, out.numel(), kGrain, body);
      }
      return;
    }
    binary_loop<R, T>(out, ca, cb, op.template bind<T>());
  });
}

// The result of a binary op, made new. `check(compute)` vets the compute dtype.
template <ResultKind K, typename Op, typename Check>
Tensor binary_new(std::string_view name, const Tensor& a, const Tensor& b, const Op& op,
                  Check check) {
  const Device device = result_device(name, {&a, &b});
  const ElementwiseTypes ty = types_for(K, result_type(a, b));
  check(ty.compute);
  Tensor out = a.sizes() == b.sizes()
                   ? make_tensor(a.sizes(), ty.result, device)
                   : make_tensor(broadcast_for(name, a.sizes(), b.sizes()), ty.result, device);
  run_binary<K>(out, a, b, ty.compute, op);
  return out;
}

// Writes the result into `out` (in place when out is self).
template <ResultKind K, typename Op, typename Check>
const Tensor& binary_into(std::string_view name, const Tensor& out, const Tensor& a,
                          const Tensor& b, const Op& op, Check check, bool inplace) {
  result_device(name, {&out, &a, &b});
  const DimVector shape = broadcast_for(name, a.sizes(), b.sizes());
  const ElementwiseTypes ty = types_for(K, result_type(a, b));
  check(ty.compute);
  check_output(name, out, shape, ty.result, inplace);
  if (out.dtype() == ty.result && !(may_overlap(out, a) && !out.is_same(a)) &&
      !(may_overlap(out, b) && !out.is_same(b))) {
    run_binary<K>(out, a, b, ty.compute, op);
    return out;
  }
  // Another dtype, or partly overlapping operands: compute aside, then copy.
  Tensor tmp = make_tensor(shape, ty.result, out.device());
  run_binary<K>(tmp, a, b, ty.compute, op);
  copy_values(out, tmp);
  return out;
}

inline void no_check(ScalarType) {}

}  // namespace sy::detail
