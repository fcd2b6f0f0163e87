// scatter_ (with and without reduce=) and scatter_add_ (scatter_ops.yaml), one
// kernel each serving CPU and Meta; scatter and scatter_add (the out-of-place
// forms) are composites.
// Every index is checked before anything is written, so a bad index leaves
// self as it was.
#include <cstring>

#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::wrap_dim;

// Checks the operands; returns dim counted from the front.
int64_t check_scatter(std::string_view op, const Tensor& self, int64_t dim, const Tensor& index,
                      const Tensor* src) {
  SY_CHECK(index.dtype() == kInt64 || index.dtype() == kInt32, TypeError,
           "{}: index must be an int64 (or int32) tensor, got {}", op, to_string(index.dtype()));
  const int64_t d = wrap_dim(op, dim, self.dim());
  SY_CHECK(index.dim() == self.dim() || index.numel() == 0, ValueError,
           "{}: index must have self's number of dimensions: self is {}, index is {}", op,
           to_string(self.sizes()), to_string(index.sizes()));
  if (src) {
    SY_CHECK(src->dtype() == self.dtype(), TypeError,
             "{}: src is {}, but self is {}; they must have one dtype (convert src with .to({}))",
             op, to_string(src->dtype()), to_string(self.dtype()), to_string(self.dtype()));
    SY_CHECK(src->dim() == index.dim() || index.numel() == 0, ValueError,
             "{}: src must have index's number of dimensions: src is {}, index is {}", op,
             to_string(src->sizes()), to_string(index.sizes()));
    detail::result_device(op, {&self, &index, src});
  } else {
    detail::result_device(op, {&self, &index});
  }
  if (index.numel() == 0) return d;
  for (int64_t k = 0; k < index.dim(); ++k) {
    SY_CHECK(k == d || index.sizes()[k] <= self.sizes()[k], ValueError,
             "{}: index of shape {} is larger than self of shape {} in dim {} (only dim {} may "
             "be larger)",
             op, to_string(index.sizes()), to_string(self.sizes()), k, d);
    SY_CHECK(!src || index.sizes()[k] <= src->sizes()[k], ValueError,
             "{}: index of shape {} is larger than src of shape {} in dim {}", op,
             to_string(index.sizes()), to_string(src->sizes()), k);
  }
  detail::check_writable(op, self);
  return d;
}

// The index values as int64 in index's element order, each checked against
// the size of self's dim `d`.
std::vector<int64_t> checked_positions(std::string_view op, const Tensor& index, int64_t d,
                                       int64_t size) {
  const Tensor idx = index.to(kInt64).contiguous();
  std::vector<int64_t> v(static_cast<size_t>(idx.numel()));
  std::memcpy(v.data(), idx.raw_data(), v.size() * sizeof(int64_t));
  for (int64_t x : v) {
    SY_CHECK(x >= 0 && x < size, IndexError,
             "{}: index {} is out of bounds for dimension {} with size {}", op, x, d, size);
  }
  return v;
}

// Calls fn(self_offset, src_position) for every element of index, in order:
// self_offset is where it goes in self (in elements), src_position the
// multi-index's offset with `src_strides`.
template <typename F>
void walk_scatter(const Tensor& self, const Tensor& index, int64_t d,
                  const std::vector<int64_t>& positions, IntArrayRef src_strides, F&& fn) {
  const int64_t nd = index.dim();
  DimVector pos(static_cast<size_t>(nd), 0);
  for (size_t n = 0; n < positions.size(); ++n) {
    int64_t dst = 0, src = 0;
    for (int64_t k = 0; k < nd; ++k) {
      dst += (k == d ? positions[n] : pos[k]) * self.strides()[k];
      if (!src_strides.empty()) src += pos[k] * src_strides[k];
    }
    fn(dst, src);
    for (int64_t k = nd - 1; k >= 0; --k) {
      if (++pos[k] < index.sizes()[k]) break;
      pos[k] = 0;
    }
  }
}

const Tensor& scatter_src_i(const Tensor& self, int64_t dim, const Tensor& index,
                            const Tensor& src) {
  const int64_t d = check_scatter("scatter_", self, dim, index, &src);
  if (self.is_meta() || index.is_meta() || index.numel() == 0) return self;
  const int64_t size = self.dim() == 0 ? 1 : self.sizes()[d];
  const std::vector<int64_t> positions = checked_positions("scatter_", index, d, size);
  const Tensor s = detail::may_overlap(self, src) ? src.clone() : src;
  const int64_t es = element_size(self.dtype());
  auto* out = static_cast<char*>(self.raw_data());
  const auto* in = static_cast<const char*>(s.raw_data());
  walk_scatter(self, index, d, positions, s.strides(), [&](int64_t dst, int64_t from) {
    std::memcpy(out + dst * es, in + from * es, static_cast<size_t>(es));
  });
  return self;
}

const Tensor& scatter_value_i(const Tensor& self, int64_t dim, const Tensor& index,
                              const Scalar& value) {
  const int64_t d = check_scatter("scatter_", self, dim, index, nullptr);
  if (self.is_meta() || index.is_meta() || index.numel() == 0) return self;
  const int64_t size = self.dim() == 0 ? 1 : self.sizes()[d];
  const std::vector<int64_t> positions = checked_positions("scatter_", index, d, size);
  SY_DISPATCH_ALL_TYPES_AND_HALF(self.dtype(), "scatter_", [&] {
    auto* out = static_cast<scalar_t*>(self.raw_data());
    const scalar_t v = value.to<scalar_t>();
    walk_scatter(self, index, d, positions, {}, [&](int64_t dst, int64_t) { out[dst] = v; });
  });
  return self;
}

const Tensor& scatter_add_i(const Tensor& self, int64_t dim, const Tensor& index,
                            const Tensor& src) {
  const int64_t d = check_scatter("scatter_add_", self, dim, index, &src);
  if (self.is_meta() || index.is_meta() || index.numel() == 0) return self;
  const int64_t size = self.dim() == 0 ? 1 : self.sizes()[d];
  const std::vector<int64_t> positions = checked_positions("scatter_add_", index, d, size);
  const Tensor s = detail::may_overlap(self, src) ? src.clone() : src;
  SY_DISPATCH_ALL_TYPES_AND_HALF(self.dtype(), "scatter_add_", [&] {
    using T = scalar_t;
    auto* out = static_cast<T*>(self.raw_data());
    const auto* in = static_cast<const T*>(s.raw_data());
    // In index order, one at a time: repeated positions add up exactly as a loop would.
    walk_scatter(self, index, d, positions, s.strides(), [&](int64_t dst, int64_t from) {
      out[dst] = static_cast<T>(out[dst] + in[from]);
    });
  });
  return self;
}

// scatter_'s reduce= ("add" or "multiply"), checked before anything else.
enum class ScatterReduce { Add, Multiply };
ScatterReduce parse_reduce(std::string_view op, std::string_view reduce) {
  if (reduce == "add") return ScatterReduce::Add;
  if (reduce == "multiply") return ScatterReduce::Multiply;
  SY_THROW(ValueError, "{}: reduce must be 'add' or 'multiply', got '{}'", op, reduce);
}

// self[index] = self[index] (+ or *) the value fn(src_position) gives, in index order.
template <typename Value>
void scatter_reduce_into(const Tensor& self, const Tensor& index, int64_t d,
                         const std::vector<int64_t>& positions, IntArrayRef src_strides,
                         ScatterReduce r, const Value& value) {
  SY_DISPATCH_ALL_TYPES_AND_HALF(self.dtype(), "scatter_", [&] {
    using T = scalar_t;
    auto* out = static_cast<T*>(self.raw_data());
    walk_scatter(self, index, d, positions, src_strides, [&](int64_t dst, int64_t from) {
      const T v = value.template get<T>(from);
      out[dst] =
          r == ScatterReduce::Add ? static_cast<T>(out[dst] + v) : static_cast<T>(out[dst] * v);
    });
  });
}

struct FromSrc {
  const void* data;
  template <typename T>
  T get(int64_t i) const {
    return static_cast<const T*>(data)[i];
  }
};
struct FromScalar {
  const Scalar& value;
  template <typename T>
  T get(int64_t) const {
    return value.to<T>();
  }
};

const Tensor& scatter_src_reduce_i(const Tensor& self, int64_t dim, const Tensor& index,
                                   const Tensor& src, std::string_view reduce) {
  const ScatterReduce r = parse_reduce("scatter_", reduce);
  const int64_t d = check_scatter("scatter_", self, dim, index, &src);
  if (self.is_meta() || index.is_meta() || index.numel() == 0) return self;
  const int64_t size = self.dim() == 0 ? 1 : self.sizes()[d];
  const std::vector<int64_t> positions = checked_positions("scatter_", index, d, size);
  const Tensor s = detail::may_overlap(self, src) ? src.clone() : src;
  scatter_reduce_into(self, index, d, positions, s.strides(), r, FromSrc{s.raw_data()});
  return self;
}

const Tensor& scatter_value_reduce_i(const Tensor& self, int64_t dim, const Tensor& index,
                                     const Scalar& value, std::string_view reduce) {
  const ScatterReduce r = parse_reduce("scatter_", reduce);
  const int64_t d = check_scatter("scatter_", self, dim, index, nullptr);
  if (self.is_meta() || index.is_meta() || index.numel() == 0) return self;
  const int64_t size = self.dim() == 0 ? 1 : self.sizes()[d];
  const std::vector<int64_t> positions = checked_positions("scatter_", index, d, size);
  scatter_reduce_into(self, index, d, positions, {}, r, FromScalar{value});
  return self;
}

Tensor scatter_src_composite(const Tensor& self, int64_t dim, const Tensor& index,
                             const Tensor& src) {
  return scatter_(self.clone(), dim, index, src);
}
Tensor scatter_value_composite(const Tensor& self, int64_t dim, const Tensor& index,
                               const Scalar& value) {
  return scatter_(self.clone(), dim, index, value);
}
Tensor scatter_src_reduce_composite(const Tensor& self, int64_t dim, const Tensor& index,
                                    const Tensor& src, std::string_view reduce) {
  return scatter_(self.clone(), dim, index, src, reduce);
}
Tensor scatter_value_reduce_composite(const Tensor& self, int64_t dim, const Tensor& index,
                                      const Scalar& value, std::string_view reduce) {
  return scatter_(self.clone(), dim, index, value, reduce);
}
Tensor scatter_add_composite(const Tensor& self, int64_t dim, const Tensor& index,
                             const Tensor& src) {
  return scatter_add_(self.clone(), dim, index, src);
}

// ---- index_add, index_copy, index_fill, take: index_put_ / index along one dim ----

// The indices of index_put_ that address dim d with `index` (1-d, or a number).
std::vector<Tensor> along_dim(std::string_view op, const Tensor& self, int64_t dim,
                              const Tensor& index, int64_t* d) {
  SY_CHECK(index.dim() <= 1, ValueError, "{}: index must be 1-d (or a number), got shape {}", op,
           to_string(index.sizes()));
  SY_CHECK(index.dtype() == kInt64 || index.dtype() == kInt32, TypeError,
           "{}: index must be an int64 (or int32) tensor, got {}", op, to_string(index.dtype()));
  *d = detail::wrap_dim(op, dim, self.dim());
  std::vector<Tensor> indices(static_cast<size_t>(*d));
  indices.push_back(index.reshape({-1}));
  return indices;
}

// What index_put_ writes into: self, or for a zero-dim self (whose one dim
// index 0 addresses, as in PyTorch) a one-element view of it.
Tensor put_target(const Tensor& self) { return self.dim() == 0 ? self.view({1}) : self; }

// source's shape must be self's with len(index) in dim.
void check_source(std::string_view op, const Tensor& self, int64_t d, const Tensor& index,
                  const Tensor& source) {
  DimVector want(self.sizes());
  if (!want.empty()) want[static_cast<size_t>(d)] = index.numel();
  SY_CHECK(source.sizes() == IntArrayRef(want), ValueError,
           "{}: source must have shape {} (self's with len(index) = {} in dim {}), got {}", op,
           to_string(IntArrayRef(want)), index.numel(), d, to_string(source.sizes()));
}

const Tensor& index_add_i(const Tensor& self, int64_t dim, const Tensor& index,
                          const Tensor& source, const Scalar& alpha) {
  int64_t d = 0;
  const std::vector<Tensor> indices = along_dim("index_add_", self, dim, index, &d);
  check_source("index_add_", self, d, index, source);
  const bool one = alpha.is_integral() ? alpha.to<int64_t>() == 1 : alpha.to<double>() == 1.0;
  const Tensor values = one ? source : source.mul(alpha).to(source.dtype());
  index_put_(put_target(self), indices, values, true);
  return self;
}
Tensor index_add_composite(const Tensor& self, int64_t dim, const Tensor& index,
                           const Tensor& source, const Scalar& alpha) {
  return index_add_(self.clone(), dim, index, source, alpha);
}

const Tensor& index_copy_i(const Tensor& self, int64_t dim, const Tensor& index,
                           const Tensor& source) {
  int64_t d = 0;
  const std::vector<Tensor> indices = along_dim("index_copy_", self, dim, index, &d);
  check_source("index_copy_", self, d, index, source);
  index_put_(put_target(self), indices, source, false);
  return self;
}
Tensor index_copy_composite(const Tensor& self, int64_t dim, const Tensor& index,
                            const Tensor& source) {
  return index_copy_(self.clone(), dim, index, source);
}

const Tensor& index_fill_i(const Tensor& self, int64_t dim, const Tensor& index,
                           const Scalar& value) {
  int64_t d = 0;
  const std::vector<Tensor> indices = along_dim("index_fill_", self, dim, index, &d);
  index_put_(put_target(self), indices, detail::scalar_tensor(value, self.dtype()), false);
  return self;
}
Tensor index_fill_composite(const Tensor& self, int64_t dim, const Tensor& index,
                            const Scalar& value) {
  return index_fill_(self.clone(), dim, index, value);
}

Tensor take_composite(const Tensor& self, const Tensor& index) {
  return self.reshape({-1}).index({index});
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/scatter_ops_registrations.h"
