// cat, stack, split, chunk, index_select, gather. index_select and gather have
// one kernel serving CPU and Meta (on meta tensors only the result is made);
// cat is CompositeExplicitAutograd (it copies through copy_); stack, split and
// chunk are composites over unsqueeze, cat and narrow.
// The ops are declared in indexing_ops.yaml (docs/op-table.md); their registrations,
// generated from it, are included at the end of this file.
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "switchyard/dispatch/library.h"
#include "switchyard/ops/direct.h"
#include "switchyard/ops/elementwise_impl.h"
#include "switchyard/ops/op_call.h"

namespace sy {
namespace {

using detail::wrap_dim;

// The result shape and dtype of cat, after the checks.
struct CatPlan {
  DimVector shape;
  ScalarType dtype = kFloat32;
  Device device = kCPU;
  int64_t dim = 0;
  std::vector<Tensor> parts;  // the inputs that take part (not legacy empties)
};

CatPlan plan_cat(std::string_view op, ArrayRef<Tensor> tensors, int64_t dim) {
  SY_CHECK(!tensors.empty(), ValueError, "{}: expected a non-empty list of tensors", op);
  CatPlan p;
  for (const Tensor& t : tensors) {
    // A 1-d tensor with no elements takes no part, whatever the others' shape.
    if (!(t.dim() == 1 && t.numel() == 0)) p.parts.push_back(t);
  }
  p.dtype = result_type(tensors);
  p.device = tensors[0].device();
  for (size_t i = 0; i < tensors.size(); ++i) {
    SY_CHECK(tensors[i].device() == p.device, ValueError,
             "{}: expected all tensors on {}, but tensor {} is on {}", op, p.device.str(), i,
             tensors[i].device().str());
  }
  if (p.parts.empty()) {
    p.shape = DimVector(size_t{1}, 0);
    return p;
  }
  const Tensor& first = p.parts[0];
  SY_CHECK(first.dim() > 0, ValueError, "{}: zero-dim tensors cannot be concatenated", op);
  p.dim = wrap_dim(op, dim, first.dim());
  p.shape = DimVector(first.sizes());
  p.shape[p.dim] = 0;
  for (size_t i = 0; i < p.parts.size(); ++i) {
    const Tensor& t = p.parts[i];
    SY_CHECK(t.dim() == first.dim(), ValueError,
             "{}: tensors must have one number of dimensions: tensor 0 has shape {}, tensor {} "
             "has shape {}",
             op, to_string(first.sizes()), i, to_string(t.sizes()));
    for (int64_t d = 0; d < t.dim(); ++d) {
      SY_CHECK(d == p.dim || t.sizes()[d] == first.sizes()[d], ValueError,
               "{}: sizes must match except in dim {}: tensor 0 has shape {}, tensor {} has "
               "shape {}",
               op, p.dim, to_string(first.sizes()), i, to_string(t.sizes()));
    }
    p.shape[p.dim] += t.sizes()[p.dim];
  }
  return p;
}

void cat_into(const Tensor& out, const CatPlan& p) {
  if (out.is_meta()) return;
  int64_t offset = 0;
  for (const Tensor& t : p.parts) {
    const int64_t n = t.sizes()[p.dim];
    if (n > 0) copy_(narrow(out, p.dim, offset, n), t);
    offset += n;
  }
}

Tensor cat_k(ArrayRef<Tensor> tensors, int64_t dim) {
  const CatPlan p = plan_cat("cat", tensors, dim);
  Tensor out = make_tensor(p.shape, p.dtype, p.device);
  cat_into(out, p);
  return out;
}

const Tensor& cat_out_k(ArrayRef<Tensor> tensors, int64_t dim, const Tensor& out) {
  const CatPlan p = plan_cat("cat.out", tensors, dim);
  detail::check_output("cat.out", out, p.shape, p.dtype, false);
  for (const Tensor& t : p.parts) {
    SY_CHECK(!detail::may_overlap(out, t), ValueError,
             "cat.out: out overlaps one of the inputs; pass a separate out tensor");
  }
  cat_into(out, p);
  return out;
}

Tensor stack_composite(ArrayRef<Tensor> tensors, int64_t dim) {
  SY_CHECK(!tensors.empty(), ValueError, "stack: expected a non-empty list of tensors");
  const int64_t d = wrap_dim("stack", dim, tensors[0].dim() + 1);
  std::vector<Tensor> parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    SY_CHECK(tensors[i].sizes() == tensors[0].sizes(), ValueError,
             "stack: expects tensors of one shape, but tensor 0 is {} and tensor {} is {}",
             to_string(tensors[0].sizes()), i, to_string(tensors[i].sizes()));
    parts.push_back(unsqueeze(tensors[i], d));
  }
  return cat(parts, d);
}

std::vector<Tensor> split_composite(const Tensor& self, int64_t split_size, int64_t dim) {
  SY_CHECK(self.dim() > 0, ValueError, "split: cannot split a zero-dim tensor");
  const int64_t d = wrap_dim("split", dim, self.dim());
  const int64_t size = self.sizes()[d];
  SY_CHECK(split_size > 0 || (split_size == 0 && size == 0), ValueError,
           "split: split_size must be positive, got {}", split_size);
  std::vector<Tensor> out;
  if (size == 0) {
    out.push_back(self);
    return out;
  }
  for (int64_t start = 0; start < size; start += split_size) {
    out.push_back(narrow(self, d, start, std::min(split_size, size - start)));
  }
  return out;
}

// Python's t.split([2, 3]): the same as split_with_sizes.
std::vector<Tensor> split_sizes_composite(const Tensor& self, IntArrayRef sizes, int64_t dim) {
  return split(self, sizes, dim);
}

std::vector<Tensor> split_with_sizes_composite(const Tensor& self, IntArrayRef sizes, int64_t dim) {
  SY_CHECK(self.dim() > 0, ValueError, "split_with_sizes: cannot split a zero-dim tensor");
  const int64_t d = wrap_dim("split_with_sizes", dim, self.dim());
  int64_t total = 0;
  for (int64_t s : sizes) {
    SY_CHECK(s >= 0, ValueError, "split_with_sizes: sizes must be >= 0, got {}", to_string(sizes));
    total += s;
  }
  SY_CHECK(total == self.sizes()[d], ValueError,
           "split_with_sizes: sizes {} add up to {}, but dim {} has size {}", to_string(sizes),
           total, d, self.sizes()[d]);
  std::vector<Tensor> out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(self, d, start, s));
    start += s;
  }
  return out;
}

std::vector<Tensor> chunk_composite(const Tensor& self, int64_t chunks, int64_t dim) {
  SY_CHECK(chunks > 0, ValueError, "chunk: chunks must be positive, got {}", chunks);
  SY_CHECK(self.dim() > 0, ValueError, "chunk: cannot chunk a zero-dim tensor");
  const int64_t d = wrap_dim("chunk", dim, self.dim());
  const int64_t size = self.sizes()[d];
  if (size == 0) return std::vector<Tensor>(static_cast<size_t>(chunks), self);  // as PyTorch
  return split(self, (size + chunks - 1) / chunks, d);
}

// The index values as int64, checked to lie in [-size, size) (negative wrap).
std::vector<int64_t> index_values(std::string_view op, const Tensor& index, int64_t size) {
  const Tensor idx = detail::contiguous_values(detail::converted(index, kInt64));
  std::vector<int64_t> v(static_cast<size_t>(idx.numel()));
  std::memcpy(v.data(), idx.raw_data(), v.size() * sizeof(int64_t));
  for (int64_t& i : v) {
    SY_CHECK(i >= -size && i < size, IndexError,
             "{}: index {} is out of range for a dimension of size {}", op, i, size);
    if (i < 0) i += size;
  }
  return v;
}

void check_index(std::string_view op, const Tensor& self, const Tensor& index) {
  SY_CHECK(is_integral(index.dtype(), false), TypeError,
           "{}: index must be an integer tensor (int64 or int32), got {}", op,
           to_string(index.dtype()));
  SY_CHECK(index.device() == self.device(), ValueError,
           "{}: index is on {} but self is on {}; both must be on one device", op,
           index.device().str(), self.device().str());
}

// index_select's copy: result row r = (o, i) is row index[i] of self's outer
// block o (rows of `row` bytes, contiguous on both sides).
struct SelectRows {
  char* dst;
  const char* src;
  const int64_t* index;
  int64_t n, size, row;
};

// Calls copy(dst_row, src_row) for the result rows [lo, hi).
template <typename Copy>
inline void for_each_selected_row(const SelectRows& s, int64_t lo, int64_t hi, Copy&& copy) {
  int64_t o = lo / s.n, i = lo % s.n;  // divide once, then step
  for (int64_t r = lo; r < hi; ++r) {
    int64_t v = s.index[i];
    if (v < 0) v += s.size;
    copy(s.dst + r * s.row, s.src + (o * s.size + v) * s.row);
    if (++i == s.n) i = 0, ++o;
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// Rows of a multiple of 32 bytes, copied by inline AVX2 moves: a memcpy call per
// row costs more than the copy of a few hundred bytes.
__attribute__((target("avx2"))) void select_rows_avx2(const SelectRows& s, int64_t lo, int64_t hi) {
  // Locals, not s's fields: the stores below could alias s as far as the compiler knows.
  const int64_t n = s.n, size = s.size, row = s.row, vectors = s.row / 32;
  const int64_t* index = s.index;
  const char* src = s.src;
  char* dst = s.dst;
  // Rows are read in random order: ask for the row kAhead positions on (its
  // first 256 bytes) while this one is copied, so misses overlap.
  constexpr int64_t kAhead = 8;
  const int64_t lines = std::min<int64_t>(row, 256) / 64;
  int64_t o = lo / n, i = lo % n;
  for (int64_t r = lo; r < hi; ++r) {
    if (i + kAhead < n) {
      int64_t w = index[i + kAhead];
      if (w < 0) w += size;
      const char* next = src + (o * size + w) * row;
      for (int64_t l = 0; l < lines; ++l) _mm_prefetch(next + 64 * l, _MM_HINT_T0);
    }
    int64_t v = index[i];
    if (v < 0) v += size;
    const auto* from = reinterpret_cast<const __m256i*>(src + (o * size + v) * row);
    auto* to = reinterpret_cast<__m256i*>(dst + r * row);
    for (int64_t k = 0; k < vectors; ++k) _mm256_storeu_si256(to + k, _mm256_loadu_si256(from + k));
    if (++i == n) i = 0, ++o;
  }
}
#endif

void select_rows(const SelectRows& s, int64_t lo, int64_t hi) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2 && s.row % 32 == 0) return select_rows_avx2(s, lo, hi);
#endif
  switch (s.row) {
    case 4:
      return for_each_selected_row(s, lo, hi, [](char* d, const char* p) { std::memcpy(d, p, 4); });
    case 8:
      return for_each_selected_row(s, lo, hi, [](char* d, const char* p) { std::memcpy(d, p, 8); });
    default:
      return for_each_selected_row(s, lo, hi, [&](char* d, const char* p) {
        std::memcpy(d, p, static_cast<size_t>(s.row));
      });
  }
}

Tensor index_select_k(const Tensor& self, int64_t dim, const Tensor& index) {
  check_index("index_select", self, index);
  SY_CHECK(index.dim() <= 1, ValueError,
           "index_select: index must be 1-d (or a scalar), got shape {}", to_string(index.sizes()));
  const int64_t d = wrap_dim("index_select", dim, self.dim());
  SY_CHECK(self.dim() > 0 || index.numel() == 1, ValueError,
           "index_select: a zero-dim self takes exactly one index, got {}", index.numel());
  DimVector shape(self.sizes());
  if (self.dim() > 0) shape[d] = index.numel();
  Tensor out = make_tensor(shape, self.dtype(), self.device());
  if (out.is_meta()) return out;
  const int64_t size = self.dim() == 0 ? 1 : self.sizes()[d];
  const Tensor idx = index.to(kInt64).contiguous();
  const int64_t* iv = static_cast<const int64_t*>(idx.raw_data());
  const int64_t n = idx.numel();
  bool bad = false;
  for (int64_t i = 0; i < n; ++i) bad |= iv[i] < -size || iv[i] >= size;
  if (SY_UNLIKELY(bad)) index_values("index_select", index, size);  // throws, naming the index
  if (out.numel() == 0) return out;
  const Tensor x = detail::contiguous_values(self);
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < self.dim(); ++k) {
    if (k < d) outer *= self.sizes()[k];
    if (k > d) inner *= self.sizes()[k];
  }
  const SelectRows rows{
      static_cast<char*>(out.raw_data()), static_cast<const char*>(x.raw_data()), iv, n, size,
      inner * element_size(self.dtype())};
  // Rows are independent: split them across threads, a grain's worth of bytes each.
  parallel_for(0, outer * n,
               std::max<int64_t>(1, 4 * detail::kGrain / std::max<int64_t>(rows.row, 1)),
               [&](int64_t lo, int64_t hi) { select_rows(rows, lo, hi); });
  return out;
}

Tensor gather_k(const Tensor& self, int64_t dim, const Tensor& index, bool sparse_grad) {
  if (self.dim() == 0 || index.dim() == 0) {
    // As in PyTorch, a zero-dim self or index counts as one dimension of size 1.
    wrap_dim("gather", dim, self.dim());
    const DimVector one(size_t{1}, 1);
    auto as_1d = [&](const Tensor& t) {
      return t.dim() == 0 ? make_view(t, one, one, t.storage_offset()) : t;
    };
    const Tensor out = gather_k(as_1d(self), dim, as_1d(index), sparse_grad);
    return index.dim() == 0 ? make_view(out, {}, {}, out.storage_offset()) : out;
  }
  check_index("gather", self, index);
  const int64_t d = wrap_dim("gather", dim, self.dim());
  SY_CHECK(index.dim() == self.dim(), ValueError,
           "gather: index must have self's number of dimensions: self is {}, index is {}",
           to_string(self.sizes()), to_string(index.sizes()));
  for (int64_t k = 0; k < index.dim(); ++k) {
    SY_CHECK(k == d || index.sizes()[k] <= self.sizes()[k], ValueError,
             "gather: index of shape {} is larger than self of shape {} in dim {}",
             to_string(index.sizes()), to_string(self.sizes()), k);
  }
  Tensor out = make_tensor(index.sizes(), self.dtype(), self.device());
  if (out.is_meta() || out.numel() == 0) return out;
  const int64_t size = self.sizes()[d];
  const std::vector<int64_t> idx = index_values("gather", index, size);
  const int64_t es = element_size(self.dtype());
  const auto* src = static_cast<const char*>(self.raw_data());
  auto* dst = static_cast<char*>(out.raw_data());
  // Walk index's elements in order (idx is contiguous like out), tracking the
  // multi-index to find the source element.
  const int64_t nd = index.dim();
  DimVector pos(static_cast<size_t>(nd), 0);
  for (size_t n = 0; n < idx.size(); ++n) {
    int64_t off = 0;
    for (int64_t k = 0; k < nd; ++k) {
      off += (k == d ? idx[n] : pos[k]) * self.strides()[k];
    }
    std::memcpy(dst + static_cast<int64_t>(n) * es, src + off * es, static_cast<size_t>(es));
    for (int64_t k = nd - 1; k >= 0; --k) {
      if (++pos[k] < index.sizes()[k]) break;
      pos[k] = 0;
    }
  }
  return out;
}

}  // namespace
}  // namespace sy

#include "switchyard/ops/generated/indexing_ops_registrations.h"
