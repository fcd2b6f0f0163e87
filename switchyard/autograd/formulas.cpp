#include "switchyard/autograd/formulas.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "switchyard/autograd/grad_mode.h"
#include "switchyard/ops/ops.h"

namespace sy::autograd::formulas {
namespace {

int64_t wrap(int64_t d, int64_t ndim) {
  const int64_t n = ndim == 0 ? 1 : ndim;
  return d < 0 ? d + n : d;
}

TensorOptions like(const Tensor& t) { return TensorOptions().dtype(t.dtype()).device(t.device()); }

Tensor zeros_of(IntArrayRef sizes, const Tensor& like_t) { return sy::zeros(sizes, like(like_t)); }

// The reduced dims, counted from the front; every dim when none are given.
std::vector<int64_t> reduced_dims(IntArrayRef sizes, std::optional<IntArrayRef> dims) {
  const auto n = static_cast<int64_t>(sizes.size());
  std::vector<int64_t> out;
  if (!dims || dims->empty()) {
    for (int64_t d = 0; d < n; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : *dims) out.push_back(wrap(d, n));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Zeros of `sizes` with `size` along `dim` (for padding by cat).
Tensor zeros_along(IntArrayRef sizes, int64_t dim, int64_t size, const Tensor& like_t) {
  DimVector s(sizes);
  s[static_cast<size_t>(dim)] = size;
  return zeros_of(s, like_t);
}

// `grad` placed at [start, start + grad.size(dim)) along dim of zeros with `total` there.
Tensor pad_along(const Tensor& grad, int64_t dim, int64_t start, int64_t total) {
  const int64_t len = grad.size(dim);
  std::vector<Tensor> parts;
  if (start > 0) parts.push_back(zeros_along(grad.sizes(), dim, start, grad));
  parts.push_back(grad);
  if (total - start - len > 0)
    parts.push_back(zeros_along(grad.sizes(), dim, total - start - len, grad));
  return parts.size() == 1 ? grad : sy::cat(parts, dim);
}

// One-hot rows: onehot[..., i, j] = (index[..., i] == j) for j < n, in `dtype`.
Tensor one_hot(const Tensor& index, int64_t n, const Tensor& like_t) {
  const Tensor classes = sy::arange(n, TensorOptions().dtype(kInt64).device(index.device()));
  return index.unsqueeze(-1).eq(classes).to(like_t.dtype());
}

}  // namespace

Tensor maybe_multiply(const Tensor& t, const Scalar& s) {
  const bool one = s.is_bool() ? s.to<bool>() : s.to<double>() == 1.0;
  return one ? t : t * s;
}

Tensor sgn(const Tensor& t) { return t.gt(0).to(t.dtype()) - t.lt(0).to(t.dtype()); }

Tensor unsqueeze_reduced(const Tensor& grad, IntArrayRef sizes, std::optional<IntArrayRef> dims,
                         bool keepdim) {
  if (keepdim || sizes.empty()) return grad;
  Tensor g = grad;
  for (int64_t d : reduced_dims(sizes, dims)) g = g.unsqueeze(d);
  return g;
}

int64_t reduced_count(IntArrayRef sizes, std::optional<IntArrayRef> dims) {
  int64_t n = 1;
  for (int64_t d : reduced_dims(sizes, dims)) n *= sizes[static_cast<size_t>(d)];
  return n;
}

Tensor select_backward(const Tensor& grad, IntArrayRef sizes, int64_t dim, int64_t index) {
  if (sizes.empty()) return grad;
  const int64_t d = wrap(dim, static_cast<int64_t>(sizes.size()));
  const int64_t size = sizes[static_cast<size_t>(d)];
  const int64_t i = index < 0 ? index + size : index;
  return pad_along(grad.unsqueeze(d), d, i, size);
}

Tensor slice_backward(const Tensor& grad, IntArrayRef sizes, int64_t dim,
                      std::optional<int64_t> start, std::optional<int64_t> end, int64_t step) {
  const int64_t d = wrap(dim, static_cast<int64_t>(sizes.size()));
  const int64_t size = sizes[static_cast<size_t>(d)];
  int64_t s = start.value_or(0);
  if (s < 0) s += size;
  s = std::clamp<int64_t>(s, 0, size);
  const int64_t len = grad.size(d);
  if (len == 0) return zeros_of(sizes, grad);
  Tensor spread = grad;
  if (step > 1) {
    // Interleave step - 1 zeros after each element, then drop the trailing ones.
    Tensor g = grad.unsqueeze(d + 1);
    const Tensor z = zeros_along(g.sizes(), d + 1, step - 1, grad);
    DimVector merged(grad.sizes());
    merged[static_cast<size_t>(d)] = len * step;
    spread = sy::cat({g, z}, d + 1).reshape(merged).narrow(d, 0, (len - 1) * step + 1);
  }
  return pad_along(spread, d, s, size);
}

std::vector<int64_t> inverse_permutation(IntArrayRef dims) {
  std::vector<int64_t> inv(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    inv[static_cast<size_t>(wrap(dims[i], static_cast<int64_t>(dims.size())))] =
        static_cast<int64_t>(i);
  }
  return inv;
}

Tensor unsqueeze_to(const Tensor& grad, IntArrayRef sizes) { return grad.reshape(sizes); }

Tensor index_select_backward(const Tensor& grad, IntArrayRef sizes, int64_t dim,
                             const Tensor& index) {
  if (sizes.empty()) return grad.reshape(sizes);
  const auto ndim = static_cast<int64_t>(sizes.size());
  const int64_t d = wrap(dim, ndim);
  const int64_t n = sizes[static_cast<size_t>(d)];
  const Tensor idx = index.reshape({-1});
  // grad with dim last, as rows of k = index.numel() entries, times the [k, n] one-hot.
  const Tensor g = grad.transpose(d, ndim - 1);
  DimVector out_sizes(g.sizes());
  out_sizes[static_cast<size_t>(ndim - 1)] = n;
  const Tensor rows = g.reshape({-1, idx.numel()}).mm(one_hot(idx, n, grad));
  return rows.reshape(out_sizes).transpose(d, ndim - 1);
}

Tensor gather_backward(const Tensor& grad, IntArrayRef sizes, int64_t dim, const Tensor& index) {
  if (sizes.empty()) return grad.reshape(sizes);
  // Each grad element adds into the position its index names (positions no index
  // names, and dims where index is smaller than self, stay zero). scatter_add is
  // differentiable, so double backward works; a one-hot product would cost
  // index.numel() * self.size(dim) work instead of index.numel().
  return zeros_of(sizes, grad).scatter_add(dim, index, grad);
}

Tensor value_selecting_reduction_backward(const Tensor& grad, int64_t dim, const Tensor& indices,
                                          IntArrayRef sizes, bool keepdim) {
  if (sizes.empty()) return grad.reshape(sizes);
  const int64_t d = wrap(dim, static_cast<int64_t>(sizes.size()));
  const Tensor g = keepdim ? grad : grad.unsqueeze(d);
  const Tensor idx = keepdim ? indices : indices.unsqueeze(d);
  return gather_backward(g, sizes, d, idx);
}

Tensor gather_values(const Tensor& t, int64_t dim, const Tensor& indices, bool keepdim) {
  if (t.dim() == 0) return t;
  const int64_t d = wrap(dim, t.dim());
  const Tensor v = t.gather(d, keepdim ? indices : indices.unsqueeze(d));
  return keepdim ? v : v.squeeze(d);
}

Tensor evenly_distribute_backward(const Tensor& grad, const Tensor& self, const Tensor& result) {
  const Tensor mask = self.eq(result).to(grad.dtype());
  return mask * (grad / mask.sum());
}

Tensor prod_partials_dim(const Tensor& self, const Tensor& result, int64_t dim, bool keepdim) {
  const int64_t d = wrap(dim, self.dim());
  const Tensor r = keepdim || self.dim() == 0 ? result : result.unsqueeze(d);
  const Tensor zero = self.eq(0);
  // Non-zero elements: the product of the others is result / self (0 when the
  // slice has a zero). Zero elements: the product of the others when it is the
  // slice's only zero, else 0.
  const Tensor safe = sy::where(zero, sy::ones_like(self), self);
  const Tensor others_nonzero = self.dim() == 0 ? sy::ones_like(self) : safe.prod(d, true);
  const Tensor one_zero =
      self.dim() == 0 ? sy::ones_like(zero) : zero.sum(std::vector<int64_t>{d}, true).eq(1);
  const Tensor at_zero = sy::where(one_zero, others_nonzero, sy::zeros_like(others_nonzero));
  return sy::where(zero, at_zero.expand(self.sizes()), r / safe);
}

Tensor prod_partials(const Tensor& self, const Tensor& result) {
  if (self.dim() == 0) return prod_partials_dim(self, result, 0, true);
  return prod_partials_dim(self.reshape({-1}), result.reshape({1}), 0, true).reshape(self.sizes());
}

Tensor var_backward(const Tensor& grad, const Tensor& self, std::optional<IntArrayRef> dims,
                    int64_t correction, bool keepdim) {
  const std::vector<int64_t> ds = reduced_dims(self.sizes(), dims);
  const int64_t n = reduced_count(self.sizes(), dims);
  const Tensor g = unsqueeze_reduced(grad, self.sizes(), dims, keepdim);
  const Tensor centered = self.dim() == 0 ? self - self : self - self.mean(ds, true);
  return g * centered * (2.0 / static_cast<double>(n - correction));
}

Tensor var_jvp(const Tensor& self_t, const Tensor& self, std::optional<IntArrayRef> dims,
               int64_t correction, bool keepdim) {
  const std::vector<int64_t> ds = reduced_dims(self.sizes(), dims);
  const int64_t n = reduced_count(self.sizes(), dims);
  const Tensor centered = self.dim() == 0 ? self - self : self - self.mean(ds, true);
  const Tensor s = self.dim() == 0 ? centered * self_t : (centered * self_t).sum(ds, keepdim);
  return s * (2.0 / static_cast<double>(n - correction));
}

Tensor pow_backward_self(const Tensor& grad, const Tensor& self, const Tensor& exponent) {
  const Tensor d = exponent * self.pow(exponent - 1.0);
  return grad * sy::where(exponent.eq(0), sy::zeros_like(d), d);
}

Tensor pow_backward_exponent(const Tensor& grad, const Tensor& self, const Tensor& exponent,
                             const Tensor& result) {
  const Tensor d = result * self.log();
  const Tensor zero = self.eq(0).logical_and(exponent.ge(0));
  return grad * sy::where(zero, sy::zeros_like(d), d);
}

Tensor gelu_backward(const Tensor& grad, const Tensor& x, std::string_view approximate) {
  if (approximate == "tanh") {
    const double k = std::numbers::sqrt2 * std::numbers::inv_sqrtpi;  // sqrt(2 / pi)
    const Tensor x2 = x * x;
    const Tensor t = ((x + x2 * x * 0.044715) * k).tanh();
    const Tensor dinner = (x2 * (3 * 0.044715) + 1.0) * k;
    return grad * ((t + 1.0) * 0.5 + x * (1.0 - t * t) * dinner * 0.5);
  }
  // gelu(x) = x Phi(x): Phi(x) = gelu(x) / x (1/2 at 0), and Phi'(x) = exp(-x^2/2)/sqrt(2 pi).
  const Tensor cdf = sy::where(x.eq(0), sy::full_like(x, 0.5), x.gelu() / x);
  const Tensor pdf = (x * x * -0.5).exp() * (std::numbers::inv_sqrtpi / std::numbers::sqrt2);
  return grad * (cdf + x * pdf);
}

Tensor max_min_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                        bool take_max) {
  const Tensor wins = (take_max ? self.gt(other) : self.lt(other)).to(grad.dtype());
  const Tensor ties = self.eq(other).to(grad.dtype());
  return grad * (wins + ties * 0.5);
}

Tensor clamp_backward(const Tensor& grad, const Tensor& self, const std::optional<Scalar>& min,
                      const std::optional<Scalar>& max) {
  Tensor mask;
  if (min) mask = self.ge(*min);
  if (max) mask = mask.defined() ? mask.logical_and(self.le(*max)) : self.le(*max);
  return mask.defined() ? grad * mask.to(grad.dtype()) : grad;
}

namespace {
Tensor where_grad(const Tensor& mask, const Tensor& grad) {
  return sy::where(mask, grad, sy::zeros({}, like(grad)));
}
}  // namespace

Tensor clamp_backward_self(const Tensor& grad, const Tensor& self, const Tensor& min,
                           const Tensor& max) {
  Tensor mask;
  if (min.defined()) mask = self.ge(min);
  if (max.defined()) mask = mask.defined() ? mask.logical_and(self.le(max)) : self.le(max);
  return mask.defined() ? where_grad(mask, grad) : grad;
}

Tensor clamp_backward_min(const Tensor& grad, const Tensor& self, const Tensor& min,
                          const Tensor& max) {
  Tensor mask = self.lt(min);
  if (max.defined()) mask = mask.logical_and(min.le(max));
  return where_grad(mask, grad);
}

Tensor clamp_backward_max(const Tensor& grad, const Tensor& self, const Tensor& min,
                          const Tensor& max) {
  Tensor mask = self.gt(max);
  if (min.defined()) mask = mask.logical_or(min.gt(max));
  return where_grad(mask, grad);
}

Tensor clamp_jvp(const Tensor& self_t, const Tensor& self, const Tensor& min_t, const Tensor& min,
                 const Tensor& max_t, const Tensor& max) {
  Tensor t = self_t;
  if (max.defined()) t = sy::where(self.gt(max), max_t, t);
  if (min.defined()) t = sy::where(self.lt(min), min_t, t);
  if (min.defined() && max.defined()) t = sy::where(min.gt(max), max_t, t);
  return t;
}

Tensor div_backward_self(const Tensor& grad, const Tensor& other,
                         std::optional<std::string_view> rounding_mode) {
  if (rounding_mode) return sy::zeros_like(grad);
  return grad / other;
}

Tensor div_backward_other(const Tensor& grad, const Tensor& self, const Tensor& other,
                          std::optional<std::string_view> rounding_mode) {
  if (rounding_mode) return sy::zeros_like(grad);
  return -grad * self / (other * other);
}

Tensor masked_select_backward(const Tensor& grad, IntArrayRef self_sizes, const Tensor& mask) {
  // Position k of the (broadcast) mask, when true, took grad[rank of k among the trues].
  const Tensor picked = zeros(self_sizes, TensorOptions().dtype(kBool)).logical_or(mask);
  const Tensor flat = picked.reshape({-1});
  const Tensor rank = flat.to(kInt64).cumsum(0) - 1;
  const Tensor where_from = rank.masked_fill(flat.logical_not(), grad.numel());
  const Tensor padded = cat(
      {grad.reshape({-1}), zeros({1}, TensorOptions().dtype(grad.dtype()).device(grad.device()))});
  return padded.index_select(0, where_from).reshape(picked.sizes());
}

Tensor index_backward(const Tensor& grad, IntArrayRef self_sizes, OptionalTensorListRef indices) {
  return zeros_of(self_sizes, grad).index_put(indices, grad, /*accumulate=*/true);
}

Tensor index_put_backward_self(const Tensor& grad, OptionalTensorListRef indices, bool accumulate) {
  if (accumulate) return grad;
  return grad.index_put(indices, sy::zeros({}, like(grad)), /*accumulate=*/false);
}

namespace {
// g (index's shape) with zeros after it up to `sizes` in every dim.
Tensor padded_to(Tensor g, IntArrayRef sizes) {
  for (int64_t k = 0; k < g.dim(); ++k) {
    const int64_t want = sizes[static_cast<size_t>(k)];
    if (g.size(k) < want) g = pad_along(g, k, 0, want);
  }
  return g;
}
}  // namespace

Tensor scatter_backward_src(const Tensor& grad, int64_t dim, const Tensor& index,
                            IntArrayRef src_sizes) {
  return padded_to(grad.gather(dim, index), src_sizes);
}

namespace {

// src's part that index reaches (index is no larger than src in any dim).
Tensor narrowed_to(const Tensor& src, const Tensor& index) {
  Tensor s = src;
  for (int64_t k = 0; k < s.dim(); ++k) {
    if (s.size(k) > index.size(k)) s = s.narrow(k, 0, index.size(k));
  }
  return s;
}

// d result[index[i]] / d src[i] for a multiplying scatter: self at the position
// times the other factors scattered there. For a nonzero src[i], result / src[i]
// (zero when another factor is). For a zero one, with P the product of self and
// the position's nonzero factors: P when it is the position's only zero; P times
// the other zero when there are two (zero, but its derivative with respect to
// that other zero is P); zero with three or more. Every branch is a recorded op
// whose derivative is right, so double backward works at zeros too (torch 1.13
// refuses two zeros at one position).
Tensor scatter_multiply_partials(const Tensor& self, int64_t dim, const Tensor& index,
                                 const Tensor& src, const Tensor& result) {
  const Tensor s = narrowed_to(src, index);
  const Tensor zero = s.eq(0);
  const Tensor one = sy::ones({}, like(s));
  const Tensor safe = sy::where(zero, one, s);
  const auto at_position = [&](const Tensor& per_src) {
    return sy::zeros_like(self).scatter_add(dim, index, per_src).gather(dim, index);
  };
  const Tensor zeros_there = at_position(zero.to(self.dtype()));
  const Tensor nonzero_product =
      (self * sy::ones_like(self).scatter(dim, index, safe, "multiply")).gather(dim, index);
  const Tensor other_zero = at_position(where_grad(zero, s)) - s;
  const Tensor at_zero = sy::where(zeros_there.eq(1), nonzero_product,
                                   where_grad(zeros_there.eq(2), nonzero_product * other_zero));
  return sy::where(zero, at_zero, result.gather(dim, index) / safe);
}

bool multiplies(std::string_view reduce) { return reduce == "multiply"; }

}  // namespace

Tensor scatter_reduce_backward_self(const Tensor& grad, int64_t dim, const Tensor& index,
                                    const Tensor& src, std::string_view reduce) {
  if (!multiplies(reduce)) return grad;
  return grad * sy::ones_like(grad).scatter(dim, index, src, "multiply");
}

Tensor scatter_reduce_backward_src(const Tensor& grad, const Tensor& self, int64_t dim,
                                   const Tensor& index, const Tensor& src, std::string_view reduce,
                                   const Tensor& result) {
  if (!multiplies(reduce)) return scatter_backward_src(grad, dim, index, src.sizes());
  return padded_to(
      grad.gather(dim, index) * scatter_multiply_partials(self, dim, index, src, result),
      src.sizes());
}

Tensor scatter_reduce_jvp(const Tensor& self_t, const Tensor& self, int64_t dim,
                          const Tensor& index, const Tensor& src_t, const Tensor& src,
                          std::string_view reduce, const Tensor& result) {
  if (!multiplies(reduce)) return self_t.scatter(dim, index, src_t, "add");
  const Tensor through_self = self_t * sy::ones_like(self).scatter(dim, index, src, "multiply");
  const Tensor through_src =
      narrowed_to(src_t, index) * scatter_multiply_partials(self, dim, index, src, result);
  return through_self + sy::zeros_like(self).scatter_add(dim, index, through_src);
}

Tensor scatter_value_reduce_backward(const Tensor& grad, int64_t dim, const Tensor& index,
                                     const Scalar& value, std::string_view reduce) {
  if (!multiplies(reduce)) return grad;
  return grad * sy::ones_like(grad).scatter(dim, index, value, "multiply");
}

namespace {

// t in reverse order along dim (index_select, so it records).
Tensor flipped(const Tensor& t, int64_t dim) {
  const int64_t n = t.size(dim);
  const Tensor rev = sy::arange(n - 1, -1, -1, TensorOptions().dtype(kInt64).device(t.device()));
  return t.index_select(dim, rev);
}

// r[i] = sum over j >= i of t[j] along dim.
Tensor reversed_cumsum(const Tensor& t, int64_t dim) {
  return flipped(flipped(t, dim).cumsum(dim), dim);
}

// Where each slice of self along dim is before its first zero, and its first zero.
struct ZeroSplit {
  Tensor before;
  Tensor first_zero;
};

ZeroSplit split_at_first_zero(const Tensor& self, int64_t dim) {
  const Tensor zero = self.eq(0);
  const Tensor zeros_so_far = zero.cumsum(dim);
  return {zeros_so_far.eq(0), zero.logical_and(zeros_so_far.eq(1))};
}

}  // namespace

namespace {

bool has_zero(const Tensor& t) { return !t.is_meta() && t.eq(0).any().item<bool>(); }

// P[..., i, j] = d result[j] / d self[i] = the product of self[0..j] without
// self[i] for i <= j, 0 for i > j; self's dim `d` is last in `x`. O(n^2), but
// written in ops that differentiate everywhere, zeros included.
Tensor cumprod_partials(const Tensor& x) {
  const int64_t n = x.size(-1);
  const Tensor pos = sy::arange(n, TensorOptions().dtype(kInt64).device(x.device()));
  const Tensor diag = pos.unsqueeze(1).eq(pos.unsqueeze(0));   // [i, m]
  const Tensor upper = pos.unsqueeze(1).le(pos.unsqueeze(0));  // [i, j]: i <= j
  const Tensor without_i = sy::where(diag, sy::ones({}, like(x)), x.unsqueeze(-2));
  return where_grad(upper, without_i.cumprod(-1));
}

}  // namespace

// d result[j] / d self[i] (i <= j) is the product of self[0..j] without self[i]:
// result[j] / self[i] before the slice's first zero k; for i = k, the cumprod of
// self with self[k] taken as 1; beyond k, zero. That last value depends on
// self[k], so when the backward is recorded (create_graph) and self has a zero,
// the partials are built in full instead (as PyTorch does).
Tensor cumprod_backward(const Tensor& grad, const Tensor& self, int64_t dim, const Tensor& result) {
  if (self.dim() == 0 || self.numel() == 0) return grad;
  const int64_t d = wrap(dim, self.dim());
  if (GradMode::is_enabled() && has_zero(self)) {
    const Tensor p = cumprod_partials(self.transpose(d, -1));
    const Tensor g = grad.transpose(d, -1).unsqueeze(-2);
    return (p * g).sum(std::vector<int64_t>{-1}).transpose(d, -1);
  }
  const ZeroSplit z = split_at_first_zero(self, d);
  const Tensor one = sy::ones({}, like(self));
  const Tensor safe = sy::where(z.before, self, one);
  const Tensor g_before = reversed_cumsum(grad * result, d) / safe;
  const Tensor skip_zero = sy::where(z.first_zero, one, self).cumprod(d);
  const Tensor g_zero = reversed_cumsum(grad * skip_zero, d);
  return sy::where(z.before, g_before, where_grad(z.first_zero, g_zero));
}

// result * cumsum(self_t / self) without zeros; the full partials with them.
Tensor cumprod_jvp(const Tensor& self_t, const Tensor& self, int64_t dim, const Tensor& result) {
  if (self.dim() == 0 || self.numel() == 0) return self_t.to(result.dtype());
  const int64_t d = wrap(dim, self.dim());
  if (!has_zero(self)) return (result * (self_t / self).cumsum(d)).to(result.dtype());
  const Tensor p = cumprod_partials(self.transpose(d, -1));
  const Tensor t = self_t.transpose(d, -1).unsqueeze(-1);
  return (p * t).sum(std::vector<int64_t>{-2}).transpose(d, -1).to(result.dtype());
}

std::vector<Tensor> cat_backward(const Tensor& grad, const std::vector<DimVector>& sizes,
                                 int64_t dim) {
  std::vector<Tensor> out;
  const int64_t d = wrap(dim, grad.dim());
  int64_t offset = 0;
  for (const DimVector& s : sizes) {
    if (s.size() == 1 && s[0] == 0 && grad.dim() != 1) {  // a skipped empty 1-d input
      out.push_back(sy::zeros(s.ref(), like(grad)));
      continue;
    }
    const int64_t len = s[static_cast<size_t>(d)];
    out.push_back(grad.narrow(d, offset, len));
    offset += len;
  }
  return out;
}

}  // namespace sy::autograd::formulas
