// Reductions. Each kernel sees its input as [outer, R, inner]: R the product of
// the reduced dims, laid out contiguously (the input is made contiguous, and
// permuted first when the reduced dims are not adjacent). inner == 1 reduces
// rows (blocked, vectorised sums); inner > 1 accumulates whole rows of `inner`
// elements at a time, so reducing a leading dim never walks columns. One kernel
// serves CPU and Meta (on meta tensors only the result is made); mean, std,
// softmax and log_softmax are composites.
// The ops are declared in reduction_ops.yaml (docs/op-table.md); their registrations,
// generated from it, are included at the end of this file.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::kGrain;
using detail::wrap_dim;

struct ReducePlan {
  DimVector out_shape;  // the result's shape (keepdim applied)
  Tensor input;         // contiguous, [outer, R, inner]
  int64_t outer = 1, R = 1, inner = 1;
};

ReducePlan plan_reduction(std::string_view op, const Tensor& self, IntArrayRef dims, bool keepdim) {
  const int64_t nd = self.dim();
  // (A DimVector, not std::vector<bool>: no allocation for the usual ranks.)
  DimVector reduced(static_cast<size_t>(std::max<int64_t>(nd, 1)), dims.empty() ? 1 : 0);
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(op, d, nd);
    SY_CHECK(!reduced[w] || dims.empty(), ValueError, "{}: dim {} appears more than once in {}", op,
             w, to_string(dims));
    reduced[w] = true;
  }
  ReducePlan p;
  for (int64_t d = 0; d < nd; ++d) {
    if (!reduced[d]) {
      p.out_shape.push_back(self.sizes()[d]);
    } else if (keepdim) {
      p.out_shape.push_back(1);
    }
  }
  if (self.is_meta()) return p;
  // Reduced dims in one block [lo, hi] keep the layout; others are moved last.
  int64_t lo = nd, hi = -1;
  for (int64_t d = 0; d < nd; ++d) {
    if (reduced[d]) lo = std::min(lo, d), hi = std::max(hi, d);
  }
  bool block = true;
  for (int64_t d = lo; d <= hi; ++d) block = block && reduced[d];
  if (nd == 0) {
    p.input = detail::contiguous_values(self);
  } else if (block) {
    p.input = detail::contiguous_values(self);
    for (int64_t d = 0; d < nd; ++d) {
      (d < lo ? p.outer : d <= hi ? p.R : p.inner) *= self.sizes()[d];
    }
  } else {
    DimVector perm;
    for (int64_t d = 0; d < nd; ++d) {
      if (!reduced[d]) perm.push_back(d), p.outer *= self.sizes()[d];
    }
    for (int64_t d = 0; d < nd; ++d) {
      if (reduced[d]) perm.push_back(d), p.R *= self.sizes()[d];
    }
    p.input = detail::contiguous_values(detail::permuted(self, perm));
  }
  return p;
}

// The dtype sum and prod produce: `dtype` if given, int64 for bool and
// integer inputs, else the input's.
ScalarType accumulate_type(const Tensor& self, std::optional<ScalarType> dtype) {
  if (dtype) return *dtype;
  return is_integral(self.dtype(), true) ? kInt64 : self.dtype();
}

// Sum of n contiguous values: within blocks of 4096, eight independent vector
// accumulators (kept in registers, so the adds pipeline), blocks added in Acc.
// Each lane sums few values, which keeps float sums accurate.
template <typename T, typename Acc>
Acc sum_row(const T* p, int64_t n) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    return vec::sum(p, n);  // the same scheme, at the machine's vector width
  }
  using Lane = std::conditional_t<std::is_floating_point_v<T>, T, Acc>;
  constexpr int64_t kBlock = 4096;
  constexpr int64_t kWidth = 16 / sizeof(Lane) > 0 ? 16 / sizeof(Lane) : 1;  // one SSE register
  typedef Lane Vec __attribute__((vector_size(kWidth * sizeof(Lane))));
  Acc total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    // Named accumulators: an array here would live on the stack (GCC keeps
    // each add's result in memory), named ones stay in registers.
    Vec a0 = {}, a1 = {}, a2 = {}, a3 = {}, a4 = {}, a5 = {}, a6 = {}, a7 = {};
    int64_t i = b;
    if constexpr (std::is_same_v<Lane, T>) {
      auto load = [&](int64_t at) {
        Vec x;
        std::memcpy(&x, p + at, sizeof(Vec));
        return x;
      };
      for (; i + 8 * kWidth <= e; i += 8 * kWidth) {
        a0 += load(i);
        a1 += load(i + kWidth);
        a2 += load(i + 2 * kWidth);
        a3 += load(i + 3 * kWidth);
        a4 += load(i + 4 * kWidth);
        a5 += load(i + 5 * kWidth);
        a6 += load(i + 6 * kWidth);
        a7 += load(i + 7 * kWidth);
      }
    }
    const Vec v = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    Lane block = 0;
    for (int64_t j = 0; j < kWidth; ++j) block += v[j];
    for (; i < e; ++i) block += static_cast<Lane>(p[i]);
    total += static_cast<Acc>(block);
  }
  return total;
}

template <typename T>
using AccOf = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

// out[o, i] = sum over r of x[o, r, i]; x and out of dtype T.
template <typename T>
void sum_kernel(const T* x, T* out, int64_t outer, int64_t R, int64_t inner) {
  using Acc = AccOf<T>;
  if (inner == 1) {
    if (outer == 1) {  // everything into one value: split the row across threads
      const int64_t grain =
          std::max<int64_t>(kGrain, (R + get_num_threads() - 1) / get_num_threads());
      const Acc s = parallel_reduce(
          int64_t{0}, R, grain, Acc(0),
          [&](int64_t b, int64_t e, Acc) { return sum_row<T, Acc>(x + b, e - b); },
          [](Acc a, Acc b) { return a + b; });
      out[0] = static_cast<T>(s);
      return;
    }
    parallel_for(0, outer, std::max<int64_t>(1, kGrain / std::max<int64_t>(R, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t o = b; o < e; ++o)
                     out[o] = static_cast<T>(sum_row<T, Acc>(x + o * R, R));
                 });
    return;
  }
  // Whole rows of `inner` at a time, accumulated in T (vectorised across inner).
  parallel_for(0, outer * inner, std::max<int64_t>(inner, kGrain / std::max<int64_t>(R, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t o = b / inner; o * inner < e; ++o) {
                   const int64_t i0 = std::max(b, o * inner) - o * inner;
                   const int64_t i1 = std::min(e, (o + 1) * inner) - o * inner;
                   T* acc = out + o * inner;
                   for (int64_t i = i0; i < i1; ++i) acc[i] = T(0);
                   for (int64_t r = 0; r < R; ++r) {
                     const T* row = x + (o * R + r) * inner;
                     _Pragma("GCC ivdep") for (int64_t i = i0; i < i1; ++i) acc[i] += row[i];
                   }
                 }
               });
}

template <typename T>
void prod_kernel(const T* x, T* out, int64_t outer, int64_t R, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      T acc = T(1);
      for (int64_t r = 0; r < R; ++r) acc = static_cast<T>(acc * x[(o * R + r) * inner + i]);
      out[o * inner + i] = acc;
    }
  }
}

// ---- sum, prod ---------------------------------------------------------------------------

Tensor sum_impl(std::string_view op, const Tensor& self, IntArrayRef dims, bool keepdim,
                std::optional<ScalarType> dtype, bool product) {
  const ScalarType out_t = accumulate_type(self, dtype);
  if (is_reduced_float(out_t)) {  // float16/bfloat16: accumulated in float32, rounded once
    return to(sum_impl(op, self, dims, keepdim, kFloat32, product), out_t);
  }
  const Tensor in = detail::as_dtype(self, out_t);
  ReducePlan p = plan_reduction(op, in, dims, keepdim);
  Tensor out = make_tensor(p.out_shape, out_t, self.device());
  if (out.is_meta() || out.numel() == 0) return out;
  SY_DISPATCH_ALL_TYPES(out_t, op, [&] {
    using T = scalar_t;
    const T* x = static_cast<const T*>(p.input.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    if (p.R == 0) {
      for (int64_t i = 0; i < out.numel(); ++i) o[i] = product ? T(1) : T(0);
    } else if (product) {
      prod_kernel<T>(x, o, p.outer, p.R, p.inner);
    } else {
      sum_kernel<T>(x, o, p.outer, p.R, p.inner);
    }
  });
  return out;
}

Tensor sum_k(const Tensor& self, std::optional<ScalarType> dtype) {
  return sum_impl("sum", self, {}, false, dtype, false);
}
Tensor sum_dim_k(const Tensor& self, std::optional<IntArrayRef> dim, bool keepdim,
                 std::optional<ScalarType> dtype) {
  return sum_impl("sum", self, dim.value_or(IntArrayRef()), keepdim, dtype, false);
}
const Tensor& into_out(std::string_view op, const Tensor& out, const Tensor& result) {
  detail::check_output(op, out, result.sizes(), result.dtype(), false, result.device());
  detail::copy_values(out, result);
  return out;
}
const Tensor& sum_out_k(const Tensor& self, std::optional<IntArrayRef> dim, bool keepdim,
                        std::optional<ScalarType> dtype, const Tensor& out) {
  return into_out(
      "sum.IntList_out", out,
      sum_impl("sum.IntList_out", self, dim.value_or(IntArrayRef()), keepdim, dtype, false));
}
Tensor prod_k(const Tensor& self, std::optional<ScalarType> dtype) {
  return sum_impl("prod", self, {}, false, dtype, true);
}
Tensor prod_dim_k(const Tensor& self, int64_t dim, bool keepdim, std::optional<ScalarType> dtype) {
  const int64_t dims[] = {dim};
  return sum_impl("prod", self, IntArrayRef(dims, 1), keepdim, dtype, true);
}

// ---- mean (composite) ---------------------------------------------------------------------

Tensor mean_dim(const Tensor& self, std::optional<IntArrayRef> dim, bool keepdim,
                std::optional<ScalarType> dtype) {
  const ScalarType t = dtype.value_or(self.dtype());
  SY_CHECK(!dtype || is_floating_point(*dtype), TypeError,
           "mean: dtype={} is not a floating dtype; mean computes in float32 or float64",
           to_string(t));
  SY_CHECK(is_floating_point(t), TypeError,
           "mean: the input is {}, but mean needs a floating dtype; pass dtype=float32 (or "
           "float64), or convert the input",
           to_string(self.dtype()));
  if (is_reduced_float(t)) return to(mean_dim(self, dim, keepdim, kFloat32), t);
  const Tensor s = sum(self, dim.value_or(IntArrayRef()), keepdim, t);
  const int64_t count = s.numel() == 0 ? 0 : self.numel() / s.numel();
  return div(s, Scalar(static_cast<double>(count)));
}
Tensor mean_all(const Tensor& self, std::optional<ScalarType> dtype) {
  return mean_dim(self, std::nullopt, false, dtype);
}
const Tensor& mean_out_k(const Tensor& self, std::optional<IntArrayRef> dim, bool keepdim,
                         std::optional<ScalarType> dtype, const Tensor& out) {
  SY_CHECK(dtype || is_floating_point(out.dtype()), TypeError,
           "mean.out: out is {}, but mean's result is floating; pass an out of dtype float32 or "
           "float64",
           to_string(out.dtype()));
  return into_out("mean.out", out, mean_dim(self, dim, keepdim, dtype.value_or(out.dtype())));
}

// ---- max, min, argmax, argmin -------------------------------------------------------------

// Along R: the best value and its first index, for every (outer, inner).
// NaN beats everything (the first NaN is taken).
template <typename T>
void best_kernel(const T* x, T* values, int64_t* indices, int64_t outer, int64_t R, int64_t inner,
                 bool largest) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    if (indices == nullptr && inner == 1) {  // values of whole rows: vectorised
      for (int64_t o = 0; o < outer; ++o) {
        values[o] = largest ? vec::max(x + o * R, R) : vec::min(x + o * R, R);
      }
      return;
    }
  }
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const T* p = x + o * R * inner + i;
      T best = p[0];
      int64_t at = 0;
      for (int64_t r = 1; r < R; ++r) {
        const T v = p[r * inner];
        if constexpr (std::is_floating_point_v<T>) {
          if (best != best) break;
          if (v != v) {
            best = v;
            at = r;
            break;
          }
        }
        if (largest ? v > best : v < best) best = v, at = r;
      }
      if (values) values[o * inner + i] = best;
      if (indices) indices[o * inner + i] = at;
    }
  }
}

// Values and/or indices of the best along `dims` (one dim or all).
std::tuple<Tensor, Tensor> best_impl(std::string_view op, const Tensor& self,
                                     std::optional<int64_t> dim, bool keepdim, bool largest,
                                     bool want_values, bool want_indices) {
  if (is_reduced_float(self.dtype())) {  // compared in float32; the values are exact
    auto [values, indices] =
        best_impl(op, to(self, kFloat32), dim, keepdim, largest, want_values, want_indices);
    return {values.defined() ? to(values, self.dtype()) : values, indices};
  }
  DimVector dims;
  if (dim) dims.push_back(*dim);
  ReducePlan p = plan_reduction(op, self, dims, keepdim);
  const int64_t size =
      dim ? (self.dim() == 0 ? 1 : self.sizes()[wrap_dim(op, *dim, self.dim())]) : self.numel();
  SY_CHECK(size > 0, IndexError,
           "{}: cannot reduce over an empty dimension (shape {}); there is no {} of nothing", op,
           to_string(self.sizes()), largest ? "maximum" : "minimum");
  Tensor values = want_values ? make_tensor(p.out_shape, self.dtype(), self.device()) : Tensor();
  Tensor indices = want_indices ? make_tensor(p.out_shape, kInt64, self.device()) : Tensor();
  if (self.is_meta() || self.numel() == 0) return {values, indices};
  SY_DISPATCH_ALL_TYPES(self.dtype(), op, [&] {
    using T = scalar_t;
    best_kernel<T>(static_cast<const T*>(p.input.raw_data()),
                   want_values ? static_cast<T*>(values.raw_data()) : nullptr,
                   want_indices ? static_cast<int64_t*>(indices.raw_data()) : nullptr, p.outer, p.R,
                   p.inner, largest);
  });
  return {values, indices};
}

Tensor max_k(const Tensor& self) {
  return std::get<0>(best_impl("max", self, std::nullopt, false, true, true, false));
}
Tensor min_k(const Tensor& self) {
  return std::get<0>(best_impl("min", self, std::nullopt, false, false, true, false));
}
std::tuple<Tensor, Tensor> max_dim_k(const Tensor& self, int64_t dim, bool keepdim) {
  return best_impl("max", self, dim, keepdim, true, true, true);
}
std::tuple<Tensor, Tensor> min_dim_k(const Tensor& self, int64_t dim, bool keepdim) {
  return best_impl("min", self, dim, keepdim, false, true, true);
}
// As in PyTorch, argmax and argmin have no meaning for bool tensors (max and min do).
void check_not_bool(std::string_view op, const Tensor& self) {
  SY_CHECK(self.dtype() != kBool, TypeError,
           "{}: not supported for bool tensors; convert to an integer dtype first", op);
}
Tensor argmax_k(const Tensor& self, std::optional<int64_t> dim, bool keepdim) {
  check_not_bool("argmax", self);
  return std::get<1>(best_impl("argmax", self, dim, keepdim && dim.has_value(), true, false, true));
}
Tensor argmin_k(const Tensor& self, std::optional<int64_t> dim, bool keepdim) {
  check_not_bool("argmin", self);
  return std::get<1>(
      best_impl("argmin", self, dim, keepdim && dim.has_value(), false, false, true));
}

// ---- var (std is a composite) -------------------------------------------------------------

Tensor var_k(const Tensor& self, std::optional<IntArrayRef> dim, int64_t correction, bool keepdim) {
  SY_CHECK(is_floating_point(self.dtype()), TypeError,
           "var: needs a floating dtype, got {}; convert the input first (e.g. to(kFloat32))",
           to_string(self.dtype()));
  SY_CHECK(correction >= 0, ValueError, "var: correction must be >= 0, got {}", correction);
  if (is_reduced_float(self.dtype())) {
    return to(var_k(to(self, kFloat32), dim, correction, keepdim), self.dtype());
  }
  ReducePlan p = plan_reduction("var", self, dim.value_or(IntArrayRef()), keepdim);
  Tensor out = make_tensor(p.out_shape, self.dtype(), self.device());
  if (out.is_meta() || out.numel() == 0) return out;
  SY_DISPATCH_ALL_TYPES(self.dtype(), "var", [&] {
    using T = scalar_t;
    const T* x = static_cast<const T*>(p.input.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    parallel_for(0, p.outer * p.inner, std::max<int64_t>(1, kGrain / std::max<int64_t>(p.R, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t k = b; k < e; ++k) {
                     const T* q = x + (k / p.inner) * p.R * p.inner + k % p.inner;
                     double mean = 0;
                     for (int64_t r = 0; r < p.R; ++r) mean += static_cast<double>(q[r * p.inner]);
                     mean /= static_cast<double>(p.R);
                     double ss = 0;
                     for (int64_t r = 0; r < p.R; ++r) {
                       const double dv = static_cast<double>(q[r * p.inner]) - mean;
                       ss += dv * dv;
                     }
                     const double denom = static_cast<double>(p.R - correction);
                     o[k] = static_cast<T>(denom > 0 ? ss / denom
                                                     : std::numeric_limits<double>::quiet_NaN());
                   }
                 });
  });
  return out;
}

Tensor std_composite(const Tensor& self, std::optional<IntArrayRef> dim, int64_t correction,
                     bool keepdim) {
  return sqrt(var(self, dim.value_or(IntArrayRef()), correction, keepdim));
}

// PyTorch's `unbiased` spelling: correction 1 when unbiased, 0 otherwise.
Tensor var_unbiased(const Tensor& self, bool unbiased) { return var(self, {}, unbiased ? 1 : 0); }
Tensor var_dim_unbiased(const Tensor& self, std::optional<IntArrayRef> dim, bool unbiased,
                        bool keepdim) {
  return var(self, dim.value_or(IntArrayRef()), unbiased ? 1 : 0, keepdim);
}
Tensor std_unbiased(const Tensor& self, bool unbiased) { return std(self, {}, unbiased ? 1 : 0); }
Tensor std_dim_unbiased(const Tensor& self, std::optional<IntArrayRef> dim, bool unbiased,
                        bool keepdim) {
  return std(self, dim.value_or(IntArrayRef()), unbiased ? 1 : 0, keepdim);
}

// ---- softmax ------------------------------------------------------------------------------

Tensor softmax_impl(std::string_view op, const Tensor& self, int64_t dim, bool log) {
  SY_CHECK(is_floating_point(self.dtype()), TypeError,
           "{}: needs a floating dtype, got {}; pass dtype=float32", op, to_string(self.dtype()));
  const int64_t d = wrap_dim(op, dim, self.dim());
  if (is_reduced_float(self.dtype())) {
    return to(softmax_impl(op, to(self, kFloat32), dim, log), self.dtype());
  }
  Tensor out = make_tensor(self.sizes(), self.dtype(), self.device());
  if (out.is_meta() || out.numel() == 0) return out;
  const Tensor x = detail::contiguous_values(self);
  int64_t outer = 1, D = 1, inner = 1;
  for (int64_t k = 0; k < self.dim(); ++k) (k < d ? outer : k == d ? D : inner) *= self.sizes()[k];
  SY_DISPATCH_ALL_TYPES(self.dtype(), op, [&] {
    using T = scalar_t;
    const T* in = static_cast<const T*>(x.raw_data());
    T* o = static_cast<T*>(out.raw_data());
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      detail::softmax_vec<T>(in, o, outer, D, inner, log);
      return;
    }
    parallel_for(0, outer * inner, std::max<int64_t>(1, kGrain / std::max<int64_t>(D, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t k = b; k < e; ++k) {
                     const int64_t base = (k / inner) * D * inner + k % inner;
                     T mx = -std::numeric_limits<T>::infinity();
                     for (int64_t j = 0; j < D; ++j) mx = std::max(mx, in[base + j * inner]);
                     if (std::isinf(mx) && mx < 0) mx = 0;  // all -inf: keep exp() finite
                     T total = 0;
                     for (int64_t j = 0; j < D; ++j) {
                       const T ev = std::exp(in[base + j * inner] - mx);
                       total += ev;
                       if (!log) o[base + j * inner] = ev;
                     }
                     if (log) {
                       const T lse = mx + std::log(total);
                       for (int64_t j = 0; j < D; ++j)
                         o[base + j * inner] = in[base + j * inner] - lse;
                     } else {
                       const T inv = T(1) / total;
                       for (int64_t j = 0; j < D; ++j) o[base + j * inner] *= inv;
                     }
                   }
                 });
  });
  return out;
}

Tensor softmax_k(const Tensor& self, int64_t dim, bool) {
  return softmax_impl("_softmax", self, dim, false);
}
Tensor log_softmax_k(const Tensor& self, int64_t dim, bool) {
  return softmax_impl("_log_softmax", self, dim, true);
}

Tensor softmax_composite(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  return _softmax(dtype ? to(self, *dtype) : self, dim, false);
}
Tensor log_softmax_composite(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  return _log_softmax(dtype ? to(self, *dtype) : self, dim, false);
}

// amax / amin: max.dim / min.dim over each dim in turn (last first), keeping
// dims until the end so that the dim numbers stay put.
template <bool Max>
Tensor extremum_over(std::string_view op, const Tensor& self, IntArrayRef dim, bool keepdim) {
  DimVector dims;
  if (dim.empty()) {
    for (int64_t d = 0; d < self.dim(); ++d) dims.push_back(d);
  } else {
    for (int64_t d : dim) {
      const int64_t w = detail::wrap_dim(op, d, self.dim());
      SY_CHECK(std::find(dims.data(), dims.data() + dims.size(), w) == dims.data() + dims.size(),
               ValueError, "{}: dim {} appears more than once in {}", op, w, to_string(dim));
      dims.push_back(w);
    }
  }
  if (self.dim() == 0) return Max ? max(self) : min(self);
  std::sort(dims.data(), dims.data() + dims.size(), std::greater<>());
  Tensor out = self;
  for (int64_t d : dims.ref()) out = std::get<0>(Max ? max(out, d, true) : min(out, d, true));
  if (!keepdim) {
    for (int64_t d : dims.ref()) out = out.squeeze(d);
  }
  return out;
}
Tensor amax_composite(const Tensor& self, IntArrayRef dim, bool keepdim) {
  return extremum_over<true>("amax", self, dim, keepdim);
}
Tensor amin_composite(const Tensor& self, IntArrayRef dim, bool keepdim) {
  return extremum_over<false>("amin", self, dim, keepdim);
}

// m + log(sum(exp(self - m))) with m the largest value, replaced by 0 where it is
// infinite (all -inf gives -inf, +inf gives +inf, as PyTorch).
Tensor logsumexp_composite(const Tensor& self, IntArrayRef dim, bool keepdim) {
  const Tensor x = is_floating_point(self.dtype()) ? self : self.to(kFloat32);
  if (x.numel() == 0) return log(sum(exp(x), dim, keepdim));
  const Tensor m = amax(x, dim, true);
  const Tensor shift = where(m.abs().eq(std::numeric_limits<double>::infinity()), Scalar(0), m);
  Tensor out = log(sum(exp(x.sub(shift)), dim, true)).add(shift);
  if (!keepdim) {
    DimVector dims;
    for (int64_t d : dim) dims.push_back(detail::wrap_dim("logsumexp", d, x.dim()));
    if (dim.empty()) {
      for (int64_t d = 0; d < x.dim(); ++d) dims.push_back(d);
    }
    std::sort(dims.data(), dims.data() + dims.size(), std::greater<>());
    for (int64_t d : dims.ref()) out = out.squeeze(d);
  }
  return out;
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/reduction_ops_registrations.h"
